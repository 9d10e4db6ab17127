// Page codec: same-filled detection and LZ4 compression of 4 KiB pages.
//
// Same-filled pages (all zeros above all, but any repeated 32-bit word, as zswap checks) are
// common in swap and cost nothing to keep: the index entry holds the word. Everything else is
// LZ4-compressed into a scratch buffer owned by the pool, so a store allocates nothing and only the
// final compressed size is placed in the allocator.
#ifndef TMEM_CODEC_H
#define TMEM_CODEC_H

#include <cstddef>
#include <cstdint>

#include "arena.h"

namespace tmem {

class Codec {
 public:
  // LZ4_COMPRESSBOUND(4096), restated so that this header does not pull in lz4.h (the core must
  // not care which lz4 variant was linked); codec.cc checks that they agree.
  static constexpr size_t kScratchBytes = kPageSize + kPageSize / 255 + 16;

  // True if every 32-bit word of the page equals the first; *value receives that word.
  static bool same_filled(const uint8_t* page, uint32_t* value);
  // Writes the word over the whole page.
  static void fill(uint8_t* page, uint32_t value);

  // Compresses a page into scratch(). Returns the compressed length, or 0 if LZ4 failed.
  uint32_t compress(const uint8_t* page);
  const uint8_t* scratch() const { return scratch_; }

  // Decompresses into a whole page. False unless the input decodes to exactly 4096 bytes; the
  // output page may then hold partial data.
  static bool decompress(const uint8_t* src, uint32_t len, uint8_t* page);

  static const char* lz4_version();

 private:
  uint8_t scratch_[kScratchBytes];
};

}  // namespace tmem

#endif
