// zbud: at most two objects ("buddies") per page frame, after mm/zbud.c.
//
// Frames are split into 64 chunks of 64 bytes. The first buddy is left-aligned at chunk 0 and the
// last buddy right-aligned at the end of the frame, so the free space is always one contiguous
// run in the middle and either buddy can be freed without moving the other: objects never move,
// handles (frame << 1 | buddy) name them directly, and there is nothing to compact. Frames holding
// one object sit on unbuddied lists indexed by their number of free chunks, which makes finding a
// frame with room for an n-chunk object a scan of at most 64 list heads; frames holding two sit
// on the buddied list. Writeback and eviction order is the pool's (entry_lru.h), not zbud's.
//
// Unlike the kernel, the frame header is kept out of band in a dense array indexed by frame id:
// the whole 4096 bytes are usable, so an object whose header and data fill more than a frame (an
// incompressible page kept raw) takes the frame alone with its header in the frame header, and a
// write through a bad object pointer cannot corrupt list metadata.
#ifndef TMEM_ZBUD_H
#define TMEM_ZBUD_H

#include <cstdint>

#include "allocator.h"
#include "arena.h"
#include "id_list.h"
#include "region.h"

namespace tmem {

class Zbud final : public Allocator {
 public:
  static constexpr uint32_t kChunkShift = 6;
  static constexpr uint32_t kChunkSize = 1u << kChunkShift;
  static constexpr uint32_t kChunks = kPageSize / kChunkSize;  // 64
  static constexpr uint32_t kNil = IdList::kNil;

  explicit Zbud(Arena* arena) : arena_(arena) {}

  bool init() override;
  const char* name() const override { return "zbud"; }
  AllocStatus alloc(size_t size, AllocClass cls, Handle* out) override;
  void free(Handle handle) override;
  uint8_t* header(Handle handle) override;
  void write(Handle handle, const uint8_t* src, size_t len) override;
  const uint8_t* map(Handle handle, size_t len, uint8_t* bounce) override;
  uint32_t unit_headers(Handle handle, uint8_t* out) override;
  bool wants_compaction() const override { return false; }
  uint32_t compact(CompactMode, HandleResolver&) override { return 0; }
  void stats(AllocatorStats* out) const override;
  std::vector<std::string> stat_names() const override;
  void stat_values(double* out) const override;

  static uint32_t frame_of(Handle h) { return h >> 1; }
  static uint32_t buddy_of(Handle h) { return h & 1; }
  // Chunks taken by first (0) and last (1) buddy of a frame in use; 0 = free.
  uint32_t chunks(uint32_t frame, uint32_t buddy) const { return hdr(frame)->chunks[buddy]; }
  uint32_t unbuddied_head(AllocClass cls, uint32_t free_chunks) const {
    return lists_[idx(cls)].unbuddied[free_chunks].head;
  }
  uint32_t buddied_head(AllocClass cls) const { return lists_[idx(cls)].buddied.head; }
  uint32_t list_next(uint32_t frame) const { return hdr(frame)->link[IdList::kNext]; }
  // Walks the lists: every frame in use listed once, on the list its buddies call for. For tests.
  bool consistent() const;

 private:
  enum : uint8_t { kEphemeral = 1, kWhole = 2 };

  // 28 bytes per frame. Links are frame ids, not pointers, to halve their size.
  struct FrameHeader {
    uint32_t link[2];  // placement list
    uint8_t chunks[2];
    uint8_t flags;
    uint8_t reserved;
    uint8_t whole_header[16];  // the header of a kWhole frame's object
  };
  static_assert(sizeof(FrameHeader) == 28, "frame header must stay within 28 bytes");

  struct ClassLists {
    IdList unbuddied[kChunks];  // by free chunks; [0] holds full single-object frames, never searched
    IdList buddied;
  };

  static int idx(AllocClass cls) { return static_cast<int>(cls); }
  FrameHeader* hdr(uint32_t frame) const { return reinterpret_cast<FrameHeader*>(headers_.base()) + frame; }
  ArrayLinks<FrameHeader> links() const { return ArrayLinks<FrameHeader>{hdr(0)}; }
  ClassLists& lists_of(uint32_t frame) { return lists_[(hdr(frame)->flags & kEphemeral) ? 1 : 0]; }
  // The placement list a frame belongs on, from its current buddy sizes.
  IdList& placement_list(uint32_t frame);
  uint8_t* object(Handle h) const;

  Arena* arena_;
  Region headers_;
  ClassLists lists_[kNumAllocClasses];
  uint64_t class_frames_[kNumAllocClasses] = {};
  uint64_t class_chunks_[kNumAllocClasses] = {};
};

}  // namespace tmem

#endif
