#include "arena.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tmem {

namespace {

// Sorts ids[0, n) and calls f(from, to) once per run of consecutive frame ids [from, to), so that
// neighbouring frames are released or faulted in with one madvise per run instead of per frame.
template <typename F>
void for_each_run(uint32_t* ids, uint32_t n, F f) {
  std::sort(ids, ids + n);
  for (uint32_t i = 0; i < n;) {
    uint32_t j = i + 1;
    while (j < n && ids[j] == ids[j - 1] + 1) j++;
    f(ids[i], ids[j - 1] + 1);
    i = j;
  }
}

}  // namespace

bool Arena::init(uint32_t max_frames) {
  if (max_frames > kMaxFrames) return false;
  max_frames_ = max_frames;
  // Reserve at least one frame so an empty pool (max 0 frames) still has valid regions.
  size_t frames = max_frames == 0 ? 1 : max_frames;
  if (!frames_.reserve(frames * kPageSize)) return false;
  frames_.no_huge_pages();
  return returned_.reserve((frames + 63) / 64 * sizeof(uint64_t));
}

uint32_t Arena::alloc_frame() {
  uint32_t id;
  // Reuse returned frames before raising the high-water mark, keeping frame ids dense (the
  // allocator's per-frame header array is sized by the highest id).
  if (cached_count_ == 0 && returned_count_ > 0) refill_cache();
  if (cached_count_ > 0) {
    // Most recently freed first: it is the most likely to still be in the CPU cache.
    id = cached_[--cached_count_];
  } else {
    if (high_water_ >= max_frames_) return kNoFrame;
    size_t frames = static_cast<size_t>(high_water_) + 1;
    if (!frames_.commit_to(frames * kPageSize, static_cast<size_t>(kCommitFrames) * kPageSize)) {
      return kNoFrame;
    }
    // The returned bitmap must cover every frame below the high-water mark, so that free_frame()
    // can never fail; grow it here, where failing is allowed.
    if (!returned_.commit_to((frames + 63) / 64 * sizeof(uint64_t), kPageSize)) return kNoFrame;
    if (high_water_ >= populated_) {
      const size_t committed = frames_.committed() / kPageSize;
      populated_ = static_cast<uint32_t>(std::min<size_t>({committed, max_frames_, size_t{high_water_} + kPopulateFrames}));
      populate(high_water_, populated_);
    }
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

void Arena::refill_cache() {
  uint64_t* bits = reinterpret_cast<uint64_t*>(returned_.base());
  uint32_t n = 0;
  while (n < kPopulateFrames && returned_count_ > 0) {
    uint64_t& word = bits[scan_word_];
    if (word == 0) {
      scan_word_++;
      continue;
    }
    const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(word));
    word &= word - 1;
    cached_[n++] = scan_word_ * 64 + bit;
    returned_count_--;
  }
  cached_count_ = n;
  for_each_run(cached_, n, [this](uint32_t from, uint32_t to) { populate(from, to); });
  // Sorted by for_each_run; handed out from the back, so the lowest id goes first.
  std::reverse(cached_, cached_ + n);
}

void Arena::populate(uint32_t from, uint32_t to) {
  if (!can_populate_ || from >= to) return;
  const size_t offset = static_cast<size_t>(from) * kPageSize;
  const size_t len = static_cast<size_t>(to - from) * kPageSize;
  // Only an unknown advice (EINVAL: kernel < 5.14) stops further tries; any other failure (e.g.
  // ENOMEM) just leaves these frames to fault in on first touch.
  if (!frames_.populate(offset, len) && errno == EINVAL) can_populate_ = false;
}

void Arena::return_oldest_cached() {
  // The older half of the cache goes back to the OS in one go. Sorted, neighbouring frames
  // (the common case when many pages are invalidated together, as on swapoff) make one range;
  // the ranges go in one process_madvise where the kernel allows it (Region::discard).
  constexpr uint32_t n = kCachedFrames / 2;
  Region::Span spans[n];
  size_t runs = 0;
  for_each_run(cached_, n, [&](uint32_t from, uint32_t to) {
    spans[runs++] = Region::Span{static_cast<size_t>(from) * kPageSize, static_cast<size_t>(to - from) * kPageSize};
  });
  frames_.discard(spans, runs);
  uint64_t* bits = reinterpret_cast<uint64_t*>(returned_.base());
  for (uint32_t i = 0; i < n; i++) {
    bits[cached_[i] / 64] |= uint64_t{1} << (cached_[i] % 64);
    scan_word_ = std::min(scan_word_, cached_[i] / 64);
  }
  returned_count_ += n;
  std::memmove(cached_, cached_ + n, (cached_count_ - n) * sizeof(uint32_t));
  cached_count_ -= n;
}

}  // namespace tmem
