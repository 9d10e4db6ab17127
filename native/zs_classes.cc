#include "zs_classes.h"

#include <algorithm>

#include "arena.h"

namespace tmem {

namespace {

struct Geometry {
  uint32_t frames;
  uint32_t objs;
};

// The zspage length that wastes the smallest share of its tail for slots of `size` bytes; of equal
// shares the longest, as zspages take their frames only as they fill: a longer zspage costs no
// memory and spreads its descriptor over more objects.
Geometry best_geometry(uint32_t size) {
  Geometry best{1, static_cast<uint32_t>(kPageSize / size)};
  uint64_t best_waste_num = kPageSize - uint64_t{best.objs} * size;  // waste share = num / (frames * page)
  for (uint32_t k = 2; k <= SizeClasses::kMaxZspageFrames; k++) {
    const uint32_t objs = static_cast<uint32_t>(k * kPageSize / size);
    if (objs > SizeClasses::kMaxObjects) break;
    const uint64_t waste_num = k * kPageSize - uint64_t{objs} * size;
    // waste_num / k <= best_waste_num / best.frames, without division.
    if (waste_num * best.frames <= best_waste_num * k) {
      best = Geometry{k, objs};
      best_waste_num = waste_num;
    }
  }
  return best;
}

}  // namespace

SizeClasses::SizeClasses() {
  const uint32_t sizes = (kPageSize - kMinSize) / kStep + 1;
  std::vector<Geometry> geometry(sizes);
  huge_size_ = kPageSize;
  for (uint32_t i = 0; i < sizes; i++) {
    const uint32_t size = kMinSize + i * kStep;
    geometry[i] = best_geometry(size);
    if (geometry[i].objs == geometry[i].frames) {  // one object per frame at best
      huge_size_ = size;
      break;
    }
  }
  // Below the watermark, from the largest size down: a size whose geometry equals that of the
  // class just made (a larger size) joins it.
  const uint32_t packed = (huge_size_ - kMinSize) / kStep;
  by_size_.assign(packed, 0);
  std::vector<SizeClass> descending;
  for (uint32_t i = packed; i-- > 0;) {
    const Geometry g = geometry[i];
    if (descending.empty() || descending.back().frames != g.frames || descending.back().objs != g.objs) {
      descending.push_back(SizeClass{kMinSize + i * kStep, static_cast<uint16_t>(g.objs),
                                     static_cast<uint8_t>(g.frames), false});
    }
    by_size_[i] = static_cast<uint8_t>(descending.size() - 1);  // reversed below
  }
  const uint32_t n = static_cast<uint32_t>(descending.size());
  classes_.assign(descending.rbegin(), descending.rend());
  for (uint8_t& c : by_size_) c = static_cast<uint8_t>(n - 1 - c);
  huge_index_ = n;
  classes_.push_back(SizeClass{static_cast<uint32_t>(kPageSize), 1, 1, true});
}

}  // namespace tmem
