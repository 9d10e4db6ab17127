#include "arena.h"

#include <algorithm>
#include <cstring>

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
  if (cached_count_ == kCachedFrames) return_oldest_cached();
  cached_[cached_count_++] = id;
}

void Arena::return_oldest_cached() {
  // The older half of the cache goes back to the OS in one go. Sorted, neighbouring frames
  // (the common case when many pages are invalidated together, as on swapoff) are released with
  // one madvise per run instead of one per frame.
  constexpr uint32_t n = kCachedFrames / 2;
  std::sort(cached_, cached_ + n);
  for (uint32_t i = 0; i < n;) {
    uint32_t j = i + 1;
    while (j < n && cached_[j] == cached_[j - 1] + 1) j++;
    frames_.discard(static_cast<size_t>(cached_[i]) * kPageSize, static_cast<size_t>(j - i) * kPageSize);
    i = j;
  }
  uint32_t* stack = reinterpret_cast<uint32_t*>(returned_.base());
  std::memcpy(stack + returned_count_, cached_, n * sizeof(uint32_t));
  returned_count_ += n;
  std::memmove(cached_, cached_ + n, (cached_count_ - n) * sizeof(uint32_t));
  cached_count_ -= n;
}

}  // namespace tmem
