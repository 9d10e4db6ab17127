// zbud: at most two objects ("buddies") per page frame, after mm/zbud.c.
//
// Frames are split into 64 chunks of 64 bytes (chunk_frames.h). The first buddy is left-aligned
// at chunk 0 and the last buddy right-aligned at the end of the frame, so the free space is always
// one contiguous run in the middle and either buddy can be freed without moving the other: objects
// never move, handles (frame << 1 | buddy) name them directly, and there is nothing to compact.
// Frames holding one object sit on the room lists by their number of free chunks, which makes
// finding a frame for an n-chunk object a scan of at most 64 list heads; frames holding two sit on
// the full ("buddied") list. Writeback and eviction order is the pool's (entry_lru.h), not zbud's.
//
// Unlike the kernel, the frame header is kept out of band in a dense array indexed by frame id:
// the whole 4096 bytes are usable, so an object whose header and data fill more than a frame (an
// incompressible page kept raw) takes the frame alone with its header in the frame header, and a
// write through a bad object pointer cannot corrupt list metadata.
#ifndef TMEM_ZBUD_H
#define TMEM_ZBUD_H

#include <cstdint>

#include "chunk_frames.h"

namespace tmem {

// 28 bytes per frame. Links are frame ids, not pointers, to halve their size.
struct ZbudFrame {
  uint32_t link[2];  // room or full list
  uint8_t chunks[2];  // first and last buddy; 0 = free
  uint8_t flags;
  uint8_t reserved;
  uint8_t whole_header[16];  // the header of a whole-frame object
};
static_assert(sizeof(ZbudFrame) == 28, "frame header must stay within 28 bytes");

class Zbud final : public ChunkFrames<ZbudFrame> {
 public:
  explicit Zbud(Arena* arena) : ChunkFrames(arena) {}

  bool init() override { return reserve_headers(); }
  const char* name() const override { return "zbud"; }
  AllocStatus alloc(size_t size, AllocClass cls, Handle* out) override;
  void free(Handle handle) override;
  uint8_t* header(Handle handle) override;
  void write(Handle handle, const uint8_t* src, size_t len) override;
  const uint8_t* map(Handle handle, size_t len, uint8_t* bounce) override;
  uint32_t unit_headers(Handle handle, uint8_t* out) override;
  std::vector<std::string> stat_names() const override;
  void stat_values(double* out) const override;

  static uint32_t frame_of(Handle h) { return h >> 1; }
  static uint32_t buddy_of(Handle h) { return h & 1; }
  // Chunks taken by first (0) and last (1) buddy of a frame in use; 0 = free.
  uint32_t chunks(uint32_t frame, uint32_t buddy) const { return hdr(frame)->chunks[buddy]; }
  uint32_t unbuddied_head(AllocClass cls, uint32_t free_chunks) const { return lists_[idx(cls)].room[free_chunks].head; }
  uint32_t buddied_head(AllocClass cls) const { return lists_[idx(cls)].full.head; }
  // Walks the lists: every frame in use listed once, on the list its buddies call for. For tests.
  bool consistent() const;

 private:
  enum : uint8_t { kWhole = 2 };

  // The list a frame belongs on, from its current buddy sizes.
  IdList& placement_list(uint32_t frame);
  bool whole(Handle h) const { return (hdr(frame_of(h))->flags & kWhole) != 0; }
  uint8_t* object(Handle h) const;
};

}  // namespace tmem

#endif
