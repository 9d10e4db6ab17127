// What zbud and z3fold share: page frames split into 64 chunks of 64 bytes, an out-of-band header
// per frame (a dense array indexed by frame id, committed as frame ids grow: the arena hands out
// the lowest free ids first, so it tracks the pool's high-water mark), and per allocation class
// the lists of frames with room, indexed by free chunks (found first fit, tightest first: frames
// with exactly enough room are used before roomier ones, which are worth keeping for bigger
// objects), plus one list of full frames. An object whose header and data do not fit in a frame
// beside anything else takes a frame alone ("whole"), its header then kept in the frame header.
//
// `Frame` is the allocator's frame header: `uint32_t link[2]` (its list), `uint8_t flags` (bit
// kEphemeralFrame for the class) and `uint8_t whole_header[16]`.
#ifndef TMEM_CHUNK_FRAMES_H
#define TMEM_CHUNK_FRAMES_H

#include <cstdint>
#include <cstring>

#include "allocator.h"
#include "arena.h"
#include "id_list.h"
#include "region.h"

namespace tmem {

template <typename Frame>
class ChunkFrames : public Allocator {
 public:
  static constexpr uint32_t kChunkShift = 6;
  static constexpr uint32_t kChunkSize = 1u << kChunkShift;
  static constexpr uint32_t kChunks = kPageSize / kChunkSize;  // 64
  static constexpr uint32_t kNil = IdList::kNil;
  static constexpr uint8_t kEphemeralFrame = 1;

  uint32_t list_next(uint32_t frame) const { return hdr(frame)->link[IdList::kNext]; }

  // Objects never move between frames (z3fold compacts inside a frame as it frees), so there is
  // nothing for compact() to do and a freed frame is returned to the arena at once.
  bool wants_compaction() const override { return false; }
  uint32_t compact(CompactMode, HandleResolver&) override { return 0; }

  void stats(AllocatorStats* out) const override {
    for (int c = 0; c < kNumAllocClasses; c++) {
      out->class_frames[c] = class_frames_[c];
      out->class_object_bytes[c] = class_chunks_[c] * kChunkSize;
    }
    out->metadata_bytes = headers_.committed() + sizeof(lists_);
  }

 protected:
  struct ClassLists {
    IdList room[kChunks];  // by free chunks; [0] never searched
    IdList full;
  };

  explicit ChunkFrames(Arena* arena) : arena_(arena) {}

  bool reserve_headers() {
    const size_t frames = arena_->max_frames() == 0 ? 1 : arena_->max_frames();
    return headers_.reserve(frames * sizeof(Frame));
  }

  // Chunks an object of `size` data bytes takes with its header; kChunks and *whole for one that
  // needs a frame to itself (its header goes out of band).
  static uint32_t chunks_for(size_t size, bool* whole) {
    *whole = size + kHeaderBytes > kPageSize;
    return *whole ? kChunks : static_cast<uint32_t>((size + kHeaderBytes + kChunkSize - 1) >> kChunkShift);
  }

  // A frame of class `cls` with at least `n` free chunks, taken off its list; else (or for a
  // whole object) a new frame from the arena, its header zeroed but for `flags`. kNil when the
  // arena has none (or its header cannot be committed).
  uint32_t take_frame(AllocClass cls, uint32_t n, bool whole, uint8_t flags) {
    ClassLists& lists = lists_[idx(cls)];
    for (uint32_t i = n; i < kChunks && !whole; i++) {
      if (lists.room[i].head != kNil) {
        const uint32_t frame = lists.room[i].head;
        lists.room[i].unlink(frame, links());
        return frame;
      }
    }
    const uint32_t frame = arena_->alloc_frame();
    if (frame == Arena::kNoFrame) return kNil;
    if (!headers_.commit_to((static_cast<size_t>(frame) + 1) * sizeof(Frame), kPageSize)) {
      arena_->free_frame(frame);
      return kNil;
    }
    Frame* h = hdr(frame);
    std::memset(h, 0, sizeof(*h));
    h->flags = static_cast<uint8_t>(flags | (cls == AllocClass::kEphemeral ? kEphemeralFrame : 0));
    class_frames_[idx(cls)]++;
    return frame;
  }

  // Gives an emptied frame back to the arena.
  void release_frame(uint32_t frame) {
    Frame* h = hdr(frame);
    class_frames_[class_of(h)]--;
    h->flags = 0;
    arena_->free_frame(frame);
  }

  // Frames on the room lists and on the full lists, over both classes.
  void list_counts(uint64_t* room, uint64_t* full) const {
    *room = *full = 0;
    for (const ClassLists& l : lists_) {
      *full += l.full.count;
      for (const IdList& r : l.room) *room += r.count;
    }
  }

  static int idx(AllocClass cls) { return static_cast<int>(cls); }
  static int class_of(const Frame* h) { return (h->flags & kEphemeralFrame) ? 1 : 0; }
  Frame* hdr(uint32_t frame) const { return reinterpret_cast<Frame*>(headers_.base()) + frame; }
  ArrayLinks<Frame> links() const { return ArrayLinks<Frame>{hdr(0)}; }
  ClassLists& lists_of(uint32_t frame) { return lists_[class_of(hdr(frame))]; }

  Arena* arena_;
  Region headers_;
  ClassLists lists_[kNumAllocClasses];
  uint64_t class_frames_[kNumAllocClasses] = {};
  uint64_t class_chunks_[kNumAllocClasses] = {};
};

}  // namespace tmem

#endif
