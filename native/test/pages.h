// Test page generators shared by the codec and pool tests.
#ifndef TMEM_TEST_PAGES_H
#define TMEM_TEST_PAGES_H

#include <cstdint>
#include <cstring>
#include <random>

#include "arena.h"

// A page of repeated text with a run of `random_bytes` bytes of noise at a random place, so
// that its LZ4 size is about random_bytes + 100: a rough stand-in for heap pages of varying
// compressibility.
inline void make_page(uint8_t* page, size_t random_bytes, std::mt19937& rng) {
  static const char text[] = "session:user=alice;cart=[sku-1001,sku-2002];ttl=3600;flags=0x1f;";
  for (size_t i = 0; i < tmem::kPageSize; i++) page[i] = static_cast<uint8_t>(text[i % (sizeof(text) - 1)]);
  if (random_bytes > tmem::kPageSize) random_bytes = tmem::kPageSize;
  size_t start = rng() % (tmem::kPageSize - random_bytes + 1);
  for (size_t i = 0; i < random_bytes; i++) page[start + i] = static_cast<uint8_t>(rng());
}

inline void make_random_page(uint8_t* page, std::mt19937& rng) {
  for (size_t i = 0; i < tmem::kPageSize; i++) page[i] = static_cast<uint8_t>(rng());
}

#endif
