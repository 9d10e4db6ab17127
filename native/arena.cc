#include "arena.h"

namespace tmem {

bool Arena::init(uint32_t max_frames) {
  if (max_frames > kMaxFrames) return false;
  max_frames_ = max_frames;
  // Reserve at least one frame so an empty pool (max 0 frames) still has valid regions.
  size_t frames = max_frames == 0 ? 1 : max_frames;
  if (!frames_.reserve(frames * kPageSize)) return false;
  frames_.no_huge_pages();
  return returned_.reserve(frames * sizeof(uint32_t));
}

uint32_t Arena::alloc_frame() {
  uint32_t id;
  if (cached_count_ > 0) {
    // Most recently freed first: it is the most likely to still be in the CPU cache.
    id = cached_[--cached_count_];
  } else if (returned_count_ > 0) {
    // Reuse returned frames before raising the high-water mark, keeping frame ids dense (the
    // allocator's per-frame header array is sized by the highest id).
    id = reinterpret_cast<uint32_t*>(returned_.base())[--returned_count_];
  } else {
    if (high_water_ >= max_frames_) return kNoFrame;
    size_t frames = static_cast<size_t>(high_water_) + 1;
    if (!frames_.commit_to(frames * kPageSize, static_cast<size_t>(kCommitFrames) * kPageSize)) {
      return kNoFrame;
    }
    // The returned stack must be able to hold every frame below the high-water mark, so that
    // free_frame() can never fail; grow it here, where failing is allowed.
    if (!returned_.commit_to(frames * sizeof(uint32_t), kPageSize)) return kNoFrame;
    id = high_water_++;
  }
  in_use_++;
  return id;
}

void Arena::free_frame(uint32_t id) {
  in_use_--;
  if (cached_count_ < kCachedFrames) {
    cached_[cached_count_++] = id;
    return;
  }
  frames_.discard(static_cast<size_t>(id) * kPageSize, kPageSize);
  reinterpret_cast<uint32_t*>(returned_.base())[returned_count_++] = id;
}

}  // namespace tmem
