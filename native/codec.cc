#include "codec.h"

#include <lz4.h>

#include <cstring>

namespace tmem {

static_assert(Codec::kScratchBytes == LZ4_COMPRESSBOUND(kPageSize), "scratch must fit LZ4's worst case");
static_assert(Codec::kStreamBytes >= sizeof(LZ4_stream_t), "the stream buffer must hold an LZ4_stream_t");

Codec::Codec() { LZ4_initStream(stream_, sizeof(stream_)); }

bool Codec::same_filled(const uint8_t* page, uint32_t* value) {
  // Pages from JS can sit at any byte offset, so words are read with memcpy (which compiles to
  // plain loads). The page is compared 64 bytes at a time against the word broadcast to 64 bits:
  // the eight differences are OR-ed and tested once per stride (one branch per cache line, and
  // the compiler can vectorise it). The last word is checked first because a page that differs
  // usually does so early or at its end.
  uint32_t word;
  std::memcpy(&word, page, sizeof(word));
  const uint64_t pattern = (static_cast<uint64_t>(word) << 32) | word;
  uint64_t v;
  std::memcpy(&v, page + kPageSize - sizeof(v), sizeof(v));
  if (v != pattern) return false;
  constexpr size_t kStride = 64;
  for (size_t pos = 0; pos < kPageSize; pos += kStride) {
    uint64_t diff = 0;
    for (size_t k = 0; k < kStride; k += sizeof(v)) {
      std::memcpy(&v, page + pos + k, sizeof(v));
      diff |= v ^ pattern;
    }
    if (diff != 0) return false;
  }
  *value = word;
  return true;
}

void Codec::fill(uint8_t* page, uint32_t value) {
  if (value == 0) {
    std::memset(page, 0, kPageSize);
    return;
  }
  const uint64_t pattern = (static_cast<uint64_t>(value) << 32) | value;
  for (size_t pos = 0; pos < kPageSize; pos += sizeof(pattern)) {
    std::memcpy(page + pos, &pattern, sizeof(pattern));
  }
}

uint32_t Codec::compress(const uint8_t* page) {
  // The destination is the full worst-case bound, so LZ4 cannot run out of room; 0 would mean an
  // internal failure (which marks the stream dirty: LZ4_resetStream_fast then clears it fully).
  LZ4_stream_t* stream = reinterpret_cast<LZ4_stream_t*>(stream_);
  LZ4_resetStream_fast(stream);
  int n = LZ4_compress_fast_continue(stream, reinterpret_cast<const char*>(page), reinterpret_cast<char*>(scratch_),
                                     static_cast<int>(kPageSize), static_cast<int>(kScratchBytes), 1);
  return n > 0 ? static_cast<uint32_t>(n) : 0;
}

bool Codec::decompress(const uint8_t* src, uint32_t len, uint8_t* page) {
  // _safe: never reads past src+len nor writes past the page, whatever the input bytes are.
  int n = LZ4_decompress_safe(reinterpret_cast<const char*>(src), reinterpret_cast<char*>(page),
                              static_cast<int>(len), static_cast<int>(kPageSize));
  return n == static_cast<int>(kPageSize);
}

const char* Codec::lz4_version() { return LZ4_versionString(); }

}  // namespace tmem
