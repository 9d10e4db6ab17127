// z3fold: up to three objects per page frame, after mm/z3fold.c.
//
// Frames are split into 64 chunks of 64 bytes, as zbud's. A new object goes left-aligned at chunk
// 0 when that much room is free there (the kernel's first buddy), else right-aligned at the end
// (last buddy), else into the tightest free gap in between (middle buddy). An object too big to
// share a frame (header and data over 4096 bytes: a raw page) takes a "headless" frame alone, its
// header kept out of band. Frames with room sit on unbuddied lists indexed by their largest free
// gap (first fit, tightest first, as zbud); frames holding three objects on the buddied list.
//
// In-frame compaction, as the kernel's z3fold_compact_page, runs whenever an object is freed: a
// lone object that does not start the frame moves to chunk 0; of two objects, one that floats
// away from its neighbour by at least kBigGap chunks moves next to it (towards the frame's end if
// the other is the last buddy, towards chunk 0 if it is the first), so the free space becomes one
// run again. The move is a memmove within the frame.
//
// Handles stay valid through it: a handle is frame << 2 | slot, and the out-of-band frame header
// (32 bytes per frame, indexed by frame id) records where each of the three slots' object starts.
// Objects never move between frames, so compact() has nothing to do. Races: none inside the
// allocator (the pool's mutex); a writeback batch holds no arena pointers across the mutex.
#ifndef TMEM_Z3FOLD_H
#define TMEM_Z3FOLD_H

#include <cstdint>

#include "chunk_frames.h"

namespace tmem {

struct Z3foldFrame {
  uint32_t link[2];  // room or full list
  uint8_t start[3];  // chunk where each slot's object starts
  uint8_t chunks[3];  // chunks each slot's object takes; 0 = free
  uint8_t flags;
  uint8_t objects;
  uint8_t whole_header[16];  // the header of a headless frame's object
};
static_assert(sizeof(Z3foldFrame) == 32, "frame header must stay within 32 bytes");

class Z3fold final : public ChunkFrames<Z3foldFrame> {
 public:
  static constexpr uint32_t kSlots = 3;
  static constexpr uint32_t kBigGap = 3;  // the kernel's BIG_CHUNK_GAP
  static constexpr uint32_t kMaxFrames = 1u << 30;  // two handle bits name the slot

  explicit Z3fold(Arena* arena) : ChunkFrames(arena) {}

  bool init() override { return arena_->max_frames() <= kMaxFrames && reserve_headers(); }
  const char* name() const override { return "z3fold"; }
  AllocStatus alloc(size_t size, AllocClass cls, Handle* out) override;
  void free(Handle handle) override;
  uint8_t* header(Handle handle) override;
  void write(Handle handle, const uint8_t* src, size_t len) override;
  const uint8_t* map(Handle handle, size_t len, uint8_t* bounce) override;
  uint32_t unit_headers(Handle handle, uint8_t* out) override;
  std::vector<std::string> stat_names() const override;
  void stat_values(double* out) const override;

  static uint32_t frame_of(Handle h) { return h >> 2; }
  static uint32_t slot_of(Handle h) { return h & 3; }
  // Where slot `slot` of a frame starts and how many chunks it takes (0: free).
  uint32_t start(uint32_t frame, uint32_t slot) const { return hdr(frame)->start[slot]; }
  uint32_t chunks(uint32_t frame, uint32_t slot) const { return hdr(frame)->chunks[slot]; }
  bool headless(uint32_t frame) const { return (hdr(frame)->flags & kHeadless) != 0; }
  uint32_t largest_gap(uint32_t frame) const;
  uint64_t middle_moves() const { return middle_moves_; }
  // Walks the lists: every listed frame on the list its objects and largest gap call for, and
  // every frame in use listed once (headless ones on none). For tests.
  bool consistent() const;

 private:
  enum : uint8_t { kHeadless = 2 };

  // Occupied ranges of a frame in chunk order.
  struct Range {
    uint32_t slot, start, end;
  };
  uint32_t ranges(uint32_t frame, Range* out) const;

  IdList& placement_list(uint32_t frame);
  // Puts an n-chunk object into a free slot of the frame (which has a gap of at least n chunks).
  uint32_t place(uint32_t frame, uint32_t n);
  void move(uint32_t frame, uint32_t slot, uint32_t to);
  void compact_frame(uint32_t frame);
  bool is_headless(Handle h) const { return headless(frame_of(h)); }
  uint8_t* object(Handle h) const {
    return arena_->frame(frame_of(h)) + hdr(frame_of(h))->start[slot_of(h)] * kChunkSize;
  }

  uint64_t headless_ = 0;
  uint64_t middle_moves_ = 0;
};

}  // namespace tmem

#endif
