// The page-frame arena: where compressed pages live, outside the V8 heap.
//
// Plays the role of the kernel's page allocator for the pool. Frames are 4 KiB and named by a
// u32 frame id (address = base + id * 4096), so allocator metadata can link frames with 4-byte
// ids instead of 8-byte pointers. The whole maximum pool size is reserved once and committed in
// chunks as the high-water mark grows. Freed frames are given back to the OS with
// MADV_DONTNEED so the process RSS follows the pool size rather than its peak.
#ifndef TMEM_ARENA_H
#define TMEM_ARENA_H

#include <cstddef>
#include <cstdint>

#include "region.h"

namespace tmem {

constexpr size_t kPageSize = 4096;

class Arena {
 public:
  static constexpr uint32_t kNoFrame = UINT32_MAX;
  // zbud's handles spend one bit on the buddy index, so frame ids must fit in 31 bits.
  static constexpr uint32_t kMaxFrames = 1u << 31;
  // Frames committed per mprotect call as the arena grows (1 MiB).
  static constexpr uint32_t kCommitFrames = 256;
  // Freed frames kept resident for immediate reuse; when the cache is full its older half is
  // returned to the OS. Store/invalidate churn would otherwise pay a madvise plus a zero-fill
  // fault per frame; 64 frames (256 KiB) is the most RSS the cache can hold above the pool size.
  static constexpr uint32_t kCachedFrames = 64;
  // Frames that are not resident (fresh ones above the high-water mark, returned ones) are faulted
  // in this many at a time with one MADV_POPULATE_WRITE, not one page fault each on first write.
  // Fresh frames populated ahead of use are the only other resident frames not in use: with the
  // cache, RSS stays within 96 frames (384 KiB) above the pool size.
  static constexpr uint32_t kPopulateFrames = 32;

  // Reserves address space for max_frames frames (<= kMaxFrames). False if it cannot.
  bool init(uint32_t max_frames);

  // Returns a frame id, or kNoFrame when max_frames are in use (or the OS refuses to commit).
  // A frame's contents are undefined: it may be a recycled frame.
  uint32_t alloc_frame();
  void free_frame(uint32_t id);

  uint8_t* frame(uint32_t id) const { return frames_.base() + static_cast<size_t>(id) * kPageSize; }

  uint32_t max_frames() const { return max_frames_; }
  uint32_t frames_in_use() const { return in_use_; }
  // Frames below the high-water mark that are free (resident cache plus returned).
  uint32_t free_frames() const { return cached_count_ + returned_count_; }
  uint32_t returned_frames() const { return returned_count_; }
  uint64_t committed_bytes() const { return frames_.committed(); }
  // Native bookkeeping memory of the arena itself (the returned-frame bitmap).
  uint64_t metadata_bytes() const { return returned_.committed(); }

 private:
  void return_oldest_cached();
  // Moves up to kPopulateFrames returned frames into the (empty) cache, faulted in.
  void refill_cache();
  // Faults in [from, to) if the kernel can; after the first refusal it is not asked again.
  void populate(uint32_t from, uint32_t to);

  Region frames_;
  // One bit per frame below the high-water mark: set while the frame is returned (madvised). Kept
  // out of the frames themselves because writing a link into a returned frame would fault it
  // back in; a bit instead of a 4-byte stack entry, since it is committed for every frame ever
  // used. Returned frames are reused lowest id first, which keeps ids dense; scan_word_ is the
  // lowest word that may have a bit set, so finding them costs O(1) amortised per frame.
  Region returned_;
  uint32_t returned_count_ = 0;
  uint32_t scan_word_ = 0;
  uint32_t cached_[kCachedFrames];
  uint32_t cached_count_ = 0;
  uint32_t max_frames_ = 0;
  uint32_t high_water_ = 0;  // frames [0, high_water_) have been handed out at least once
  uint32_t populated_ = 0;   // fresh frames [high_water_, populated_) are already faulted in
  bool can_populate_ = true;
  uint32_t in_use_ = 0;
};

}  // namespace tmem

#endif
