// zsmalloc's size classes: which slot size and which zspage geometry an object of a given size
// gets (after mm/zsmalloc.c).
//
// Object sizes (data plus the pool's header) are rounded up to a multiple of 16 bytes, from 32 to
// a page. For each such size the zspage length, 1..kMaxZspageFrames frames, is the one that wastes
// the smallest share of the zspage's tail (the bytes after its last whole object), ties going to
// the longer zspage (zspages take frames as they fill, zsmalloc.h); a zspage holds at most
// kMaxObjects (the 8 bits a handle spends on the object index). Sizes that end up with identical (frames, objects) share one class whose slot is the
// largest of them, as the kernel merges them: the extra bytes per object are less than what a
// separate, partly filled zspage would waste.
//
// The huge watermark is the first size for which no zspage holds more objects than frames: from
// there on every object takes a whole frame (the huge class, slot size 4096,
// the object's header out of band), since packing would gain nothing.
#ifndef TMEM_ZS_CLASSES_H
#define TMEM_ZS_CLASSES_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tmem {

struct SizeClass {
  uint32_t size;    // slot size in bytes, header included (kPageSize for the huge class)
  uint16_t objs;    // objects per zspage
  uint8_t frames;   // frames per zspage
  bool huge;        // one whole frame per object, header out of band
};

class SizeClasses {
 public:
  static constexpr uint32_t kMinSize = 32;
  static constexpr uint32_t kStep = 16;
  static constexpr uint32_t kMaxZspageFrames = 8;
  static constexpr uint32_t kMaxObjects = 256;

  SizeClasses();

  uint32_t count() const { return static_cast<uint32_t>(classes_.size()); }
  const SizeClass& operator[](uint32_t index) const { return classes_[index]; }
  // The class of an object taking `bytes` bytes with its header (1..kPageSize + header).
  uint32_t class_of(size_t bytes) const {
    if (bytes > huge_size_ - kStep) return huge_index_;  // rounds up to the watermark or beyond
    return by_size_[bytes <= kMinSize ? 0 : (bytes - kMinSize + kStep - 1) / kStep];
  }
  // Objects whose size (header included) rounds up to this many bytes or more take a whole frame.
  uint32_t huge_size() const { return huge_size_; }
  uint32_t huge_index() const { return huge_index_; }

 private:
  std::vector<SizeClass> classes_;  // ascending sizes; the huge class last
  std::vector<uint8_t> by_size_;    // (size - kMinSize) / kStep -> class index, below the watermark
  uint32_t huge_size_ = 0;
  uint32_t huge_index_ = 0;
};

}  // namespace tmem

#endif
