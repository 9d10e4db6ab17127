// CRC32C: hardware instructions where the CPU has them, a slicing-by-1 table otherwise. The
// hardware paths are compiled with a target attribute, so the addon still loads on a CPU without
// them; the choice is made once, on the first call.
#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

namespace tmem {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

struct Table {
  uint32_t t[256];
  Table() {
    for (uint32_t b = 0; b < 256; b++) {
      uint32_t c = b;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[b] = c;
    }
  }
};

uint32_t crc_table(const uint8_t* p, size_t len) {
  static const Table table;
  uint32_t c = ~0u;
  for (size_t i = 0; i < len; i++) c = table.t[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc_hw(const uint8_t* p, size_t len) {
  uint64_t c = ~0u;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    c = _mm_crc32_u64(c, w);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; i < len; i++) c32 = _mm_crc32_u8(c32, p[i]);
  return ~c32;
}
bool have_hw() { return __builtin_cpu_supports("sse4.2"); }
constexpr const char* kHwName = "sse4.2";
#elif defined(__aarch64__)
__attribute__((target("+crc"))) uint32_t crc_hw(const uint8_t* p, size_t len) {
  uint32_t c = ~0u;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    c = __crc32cd(c, w);
  }
  for (; i < len; i++) c = __crc32cb(c, p[i]);
  return ~c;
}
bool have_hw() { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
constexpr const char* kHwName = "armv8";
#else
uint32_t crc_hw(const uint8_t* p, size_t len) { return crc_table(p, len); }
bool have_hw() { return false; }
constexpr const char* kHwName = "table";
#endif

bool use_hw() {
  static const bool hw = have_hw();
  return hw;
}

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len) { return use_hw() ? crc_hw(data, len) : crc_table(data, len); }

const char* crc32c_impl() { return use_hw() ? kHwName : "table"; }

}  // namespace tmem
