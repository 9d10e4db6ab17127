// Page codec: same-filled detection and LZ4 compression of 4 KiB pages.
//
// Same-filled pages (all zeros above all, but any repeated 32-bit word, as zswap checks) are
// common in swap and cost nothing to keep: the index entry holds the word. Everything else is
// LZ4-compressed into a scratch buffer owned by the pool, so a store allocates nothing and only the
// final compressed size is placed in the allocator.
//
// The compressor is a reused LZ4_stream_t: LZ4_resetStream_fast() then
// LZ4_compress_fast_continue() at acceleration 1, which yields an independent LZ4 block (nothing
// before it is referenced; LZ4_decompress_safe reads it) without clearing the 16 KiB hash table
// for every page: the reset only moves the stream's offset past the old entries (by 64 KiB,
// beyond LZ4's window), and the table is cleared once the offset passes 1 GiB, every ~15,000
// pages. LZ4_compress_default clears it on every call, and so does
// LZ4_compress_fast_extState_fastReset for inputs of 4 KiB or more (lz4.c, LZ4_prepareTable): on
// heap pages that memset was a third of the compressor's instructions. The stream mode also
// hashes 5-byte sequences (the 16-bit table of small inputs hashes 4), which finds more matches
// on these pages. bench/native/lz4-loop.cc measures the ceiling with the same calls.
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
  // LZ4_STREAM_MINSIZE of lz4 1.9.x, restated likewise (codec.cc checks that an LZ4_stream_t fits).
  static constexpr size_t kStreamBytes = 16416;

  // True if every 32-bit word of the page equals the first; *value receives that word.
  static bool same_filled(const uint8_t* page, uint32_t* value);
  // Writes the word over the whole page.
  static void fill(uint8_t* page, uint32_t value);

  Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // Compresses a page into scratch(). Returns the compressed length, or 0 if LZ4 failed.
  uint32_t compress(const uint8_t* page);
  const uint8_t* scratch() const { return scratch_; }

  // Decompresses into a whole page. False unless the input decodes to exactly 4096 bytes; the
  // output page may then hold partial data.
  static bool decompress(const uint8_t* src, uint32_t len, uint8_t* page);

  static const char* lz4_version();

 private:
  alignas(8) uint8_t stream_[kStreamBytes];
  uint8_t scratch_[kScratchBytes];
};

}  // namespace tmem

#endif
