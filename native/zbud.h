// zbud: at most two compressed pages ("buddies") per page frame, after mm/zbud.c.
//
// Frames are split into 64 chunks of 64 bytes. The first buddy is left-aligned at chunk 0 and the
// last buddy right-aligned at the end of the frame, so the free space is always one contiguous
// run in the middle and either buddy can be freed without moving the other. Frames holding one
// object sit on unbuddied lists indexed by their number of free chunks, which makes finding a
// frame with room for an n-chunk object a scan of at most 64 list heads; frames holding two sit
// on the buddied list. Every frame is also on an LRU list (most recently allocated at the head)
// with a referenced bit, for second-chance reclaim.
//
// Reclaim (writeback) takes a frame off both lists with begin_reclaim(): while "under reclaim"
// no allocation can land in it and no other reclaimer can pick it. Buddies may still be freed
// meanwhile, but an emptied frame is only returned to the arena by end_reclaim(), so a frame id
// is never reused while a writeback batch refers to it.
//
// Unlike the kernel, the frame header is kept out of band in a dense array indexed by frame id:
// the whole 4096 bytes are usable, so an incompressible page fits in one frame as a first buddy,
// and a write through a bad object pointer cannot corrupt list metadata.
#ifndef TMEM_ZBUD_H
#define TMEM_ZBUD_H

#include <cstdint>

#include "allocator.h"
#include "arena.h"
#include "region.h"

namespace tmem {

class Zbud final : public Allocator {
 public:
  static constexpr uint32_t kChunkShift = 6;
  static constexpr uint32_t kChunkSize = 1u << kChunkShift;
  static constexpr uint32_t kChunks = kPageSize / kChunkSize;  // 64
  static constexpr uint32_t kNil = UINT32_MAX;

  // What reclaim (and tests) can learn about a frame in use.
  struct FrameInfo {
    uint8_t chunks[2];  // first and last buddy sizes in chunks; 0 = slot empty
    bool referenced;
    AllocClass cls;
    OwnerRef owners[2];
  };

  explicit Zbud(Arena* arena) : arena_(arena) {}
  // Reserves header space for every frame the arena can hand out.
  bool init();

  AllocStatus alloc(size_t size, AllocClass cls, OwnerRef owner, Handle* out) override;
  void free(Handle handle) override;
  uint8_t* map(Handle handle) override;
  void touch(Handle handle) override;
  uint64_t pool_bytes() const override { return frames_ * kPageSize; }
  void stats(AllocatorStats* out) const override;

  static uint32_t frame_of(Handle h) { return h >> 1; }
  static uint32_t buddy_of(Handle h) { return h & 1; }

  FrameInfo frame_info(uint32_t frame) const;
  // Records a new owner of an object (an ephemeral page's index entry, known after the alloc).
  void set_owner(Handle handle, OwnerRef owner);
  // List walks, kNil-terminated. LRU runs from most to least recently allocated.
  uint32_t lru_head(AllocClass cls) const { return lists_[idx(cls)].lru.head; }
  uint32_t lru_tail(AllocClass cls) const { return lists_[idx(cls)].lru.tail; }
  uint32_t lru_next(uint32_t frame) const { return hdr(frame)->link[kLru][kNext]; }
  uint32_t lru_prev(uint32_t frame) const { return hdr(frame)->link[kLru][kPrev]; }
  uint32_t unbuddied_head(AllocClass cls, uint32_t free_chunks) const {
    return lists_[idx(cls)].unbuddied[free_chunks].head;
  }
  uint32_t buddied_head(AllocClass cls) const { return lists_[idx(cls)].buddied.head; }
  uint32_t list_next(uint32_t frame) const { return hdr(frame)->link[kPlacement][kNext]; }
  uint32_t lru_count(AllocClass cls) const { return lists_[idx(cls)].lru.count; }

  // Second chance: true if the frame was used since the last look; clears the bit and moves
  // the frame to the head of its LRU in that case.
  bool second_chance(uint32_t frame);
  // Moves a frame to the head of its LRU (a frame reclaim gave up on).
  void lru_to_head(uint32_t frame);
  // Takes a frame in use off its placement list and LRU and marks it under reclaim.
  void begin_reclaim(uint32_t frame);
  // Ends reclaim: an empty frame goes back to the arena, one still holding objects back on its
  // placement list and at the tail (cold end) of the LRU.
  void end_reclaim(uint32_t frame);
  bool under_reclaim(uint32_t frame) const { return (hdr(frame)->flags & kUnderReclaim) != 0; }

 private:
  enum : int { kPlacement = 0, kLru = 1 };  // which pair of links
  enum : int { kPrev = 0, kNext = 1 };
  enum : uint8_t { kReferenced = 1, kEphemeral = 2, kUnderReclaim = 4 };

  // 32 bytes per frame. Links are frame ids, not pointers, to halve their size.
  struct FrameHeader {
    uint32_t link[2][2];  // [kPlacement|kLru][kPrev|kNext]
    uint32_t owner_offset[2];
    uint8_t owner_type[2];
    uint8_t chunks[2];
    uint8_t flags;
    uint8_t reserved[3];
  };
  static_assert(sizeof(FrameHeader) == 32, "frame header must stay within 32 bytes");

  struct List {
    uint32_t head = kNil;
    uint32_t tail = kNil;
    uint32_t count = 0;
  };
  struct ClassLists {
    List unbuddied[kChunks];  // by free chunks; [0] holds full single-object frames, never searched
    List buddied;
    List lru;
  };

  static int idx(AllocClass cls) { return static_cast<int>(cls); }
  FrameHeader* hdr(uint32_t frame) const {
    return reinterpret_cast<FrameHeader*>(headers_.base()) + frame;
  }
  static uint32_t free_chunks(const FrameHeader* h) { return kChunks - h->chunks[0] - h->chunks[1]; }
  // The placement list a frame belongs on, from its current buddy sizes.
  List& placement_list(uint32_t frame);

  void push_head(List& list, uint32_t frame, int which);
  void push_tail(List& list, uint32_t frame, int which);
  ClassLists& lists_of(uint32_t frame) { return lists_[(hdr(frame)->flags & kEphemeral) ? 1 : 0]; }
  void release_frame(uint32_t frame);
  void unlink(List& list, uint32_t frame, int which);

  Arena* arena_;
  Region headers_;
  ClassLists lists_[kNumAllocClasses];
  uint64_t frames_ = 0;
  uint64_t class_frames_[kNumAllocClasses] = {};
  uint64_t object_chunks_ = 0;
  uint64_t class_chunks_[kNumAllocClasses] = {};
};

}  // namespace tmem

#endif
