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
// pages. (LZ4_compress_default clears it on every call, and so does
// LZ4_compress_fast_extState_fastReset for inputs of 4 KiB or more: lz4.c, LZ4_prepareTable.)
// Why this entry point: its 32-bit table hashes 5-byte sequences where the 16-bit table of small
// inputs hashes 4, and on real heap pages that finds more matches: blocks 2% smaller than
// LZ4_compress_default's (3.37 against 3.30 on the bench's heap corpus; text pages ±0.1%). That
// is 2% less pool memory for every heap page held. The price: callgrind counts 31% fewer
// instructions per heap page (29.7k against 42.9k), but it counts the skipped memset per byte
// (rep stosb); by the clock, best of 60 interleaved rounds, LZ4_compress_default is 6-15% faster
// on heap and text pages and 24% on incompressible ones. bench/native/lz4-loop.cc uses the same
// calls as the ceiling and times LZ4_compress_default beside it.
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
