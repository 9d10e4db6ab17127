// Codec: LZ4 round trips, same-filled detection (including unaligned pages), decompression that
// does not yield exactly one page, and the compress_poor boundaries as the pool applies them.
#include "codec.h"

#include <lz4.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "pages.h"
#include "pool.h"

using tmem::Codec;
using tmem::kPageSize;

static void test_round_trip() {
  std::mt19937 rng(1);
  auto codec = std::make_unique<Codec>();
  uint8_t page[kPageSize], out[kPageSize];
  for (size_t noise : {0, 16, 256, 1024, 3000}) {
    make_page(page, noise, rng);
    uint32_t clen = codec->compress(page);
    CHECK(clen > 0 && clen <= Codec::kScratchBytes);
    CHECK(Codec::decompress(codec->scratch(), clen, out));
    CHECK(std::memcmp(page, out, kPageSize) == 0);
  }
  make_random_page(page, rng);
  uint32_t clen = codec->compress(page);
  CHECK(clen > kPageSize);  // incompressible data grows a little, within the scratch bound
  CHECK(Codec::decompress(codec->scratch(), clen, out));
  CHECK(std::memcmp(page, out, kPageSize) == 0);
  CHECK(std::strlen(Codec::lz4_version()) > 0);
}

static void test_same_filled() {
  alignas(8) uint8_t buf[kPageSize + 8];
  uint32_t value = 1;
  // Every alignment a Uint8Array view can have.
  for (size_t shift = 0; shift < 8; shift++) {
    uint8_t* page = buf + shift;
    std::memset(page, 0, kPageSize);
    CHECK(Codec::same_filled(page, &value));
    CHECK_EQ(value, 0);
    Codec::fill(page, 0xdeadbeef);
    for (size_t i = 0; i < kPageSize; i += 4) {
      uint32_t w;
      std::memcpy(&w, page + i, 4);
      CHECK_EQ(w, 0xdeadbeef);
    }
    CHECK(Codec::same_filled(page, &value));
    CHECK_EQ(value, 0xdeadbeef);
    page[kPageSize - 1] ^= 1;  // last byte differs
    CHECK(!Codec::same_filled(page, &value));
    page[kPageSize - 1] ^= 1;
    page[2049] ^= 1;  // a byte in the middle differs
    CHECK(!Codec::same_filled(page, &value));
  }
  // Repeated bytes are same-filled too, repeated 64-bit patterns are not (zswap's rule is per word).
  uint8_t page[kPageSize];
  std::memset(page, 0x5a, kPageSize);
  CHECK(Codec::same_filled(page, &value));
  CHECK_EQ(value, 0x5a5a5a5a);
  for (size_t i = 0; i < kPageSize; i += 8) {
    const uint32_t a = 1, b = 2;
    std::memcpy(page + i, &a, 4);
    std::memcpy(page + i + 4, &b, 4);
  }
  CHECK(!Codec::same_filled(page, &value));
}

static void test_decompress_must_yield_a_page() {
  std::mt19937 rng(2);
  auto codec = std::make_unique<Codec>();
  uint8_t page[kPageSize], out[kPageSize];
  make_page(page, 100, rng);
  uint32_t clen = codec->compress(page);
  CHECK(!Codec::decompress(codec->scratch(), clen - 1, out));  // truncated
  uint8_t garbage[64];
  std::memset(garbage, 0xff, sizeof(garbage));
  CHECK(!Codec::decompress(garbage, sizeof(garbage), out));
  // Valid LZ4 data of a half page is not a page.
  char half[LZ4_COMPRESSBOUND(kPageSize / 2)];
  int hlen = LZ4_compress_default(reinterpret_cast<const char*>(page), half, kPageSize / 2, sizeof(half));
  CHECK(hlen > 0);
  CHECK(!Codec::decompress(reinterpret_cast<uint8_t*>(half), hlen, out));
}

static std::unique_ptr<tmem::Pool> make_pool(const tmem::PoolOptions& o) {
  auto pool = std::make_unique<tmem::Pool>(o);
  CHECK(pool->init());
  CHECK(pool->init_area(0, 1024, -1) == tmem::PoolError::kOk);
  return pool;
}

static int store(tmem::Pool& pool, uint32_t offset, const uint8_t* page) {
  int status = 0;
  CHECK(pool.store(0, offset, page, &status) == tmem::PoolError::kOk);
  return status;
}

// The absolute rule refuses clen > maxCompressedBytes and accepts clen == maxCompressedBytes.
static void test_compress_poor_boundary() {
  std::mt19937 rng(3);
  auto codec = std::make_unique<Codec>();
  uint8_t page[kPageSize];
  make_page(page, 1500, rng);
  const uint32_t clen = codec->compress(page);
  CHECK(clen > 1000 && clen < 3000);

  tmem::PoolOptions o;
  o.max_compressed_bytes = clen;
  o.max_mean_compressed_bytes = kPageSize;
  CHECK_EQ(store(*make_pool(o), 0, page), tmem::kStoredCompressed);
  o.max_compressed_bytes = clen - 1;
  auto pool = make_pool(o);
  CHECK_EQ(store(*pool, 0, page), tmem::kRejectCompressPoor);
  std::vector<double> stats(pool->stat_names().size());
  pool->stats(stats.data());
  CHECK_EQ(stats[tmem::stat::kRejectCompressPoor], 1);
  CHECK_EQ(stats[tmem::stat::kRejectMeanCompressPoor], 0);

  // Nothing that does not shrink is stored compressed, whatever the cap.
  o.max_compressed_bytes = kPageSize;
  make_random_page(page, rng);
  CHECK_EQ(store(*make_pool(o), 0, page), tmem::kRejectCompressPoor);
}

// The mean rule: a page above maxMeanCompressedBytes is refused only while the mean of stored
// pages is above it too; pages at or below it are always welcome.
static void test_mean_compress_poor() {
  std::mt19937 rng(4);
  auto codec = std::make_unique<Codec>();
  uint8_t big[kPageSize], small[kPageSize];
  make_page(big, 1500, rng);
  make_page(small, 100, rng);
  const uint32_t big_len = codec->compress(big);
  const uint32_t small_len = codec->compress(small);
  CHECK(small_len < big_len);

  tmem::PoolOptions o;
  o.max_compressed_bytes = kPageSize;
  o.max_mean_compressed_bytes = big_len - 1;
  auto pool = make_pool(o);
  CHECK_EQ(store(*pool, 0, big), tmem::kStoredCompressed);  // mean 0: admitted
  // Mean is now big_len > cap: the next big page is refused, a small one is not.
  CHECK_EQ(store(*pool, 1, big), tmem::kRejectMeanCompressPoor);
  CHECK_EQ(store(*pool, 2, small), tmem::kStoredCompressed);
  // Enough small pages bring the mean below the cap and big pages are admitted again.
  CHECK_EQ(store(*pool, 3, small), tmem::kStoredCompressed);
  CHECK_EQ(store(*pool, 4, big), tmem::kStoredCompressed);
  std::vector<double> stats(pool->stat_names().size());
  pool->stats(stats.data());
  CHECK_EQ(stats[tmem::stat::kRejectMeanCompressPoor], 1);
  CHECK_EQ(stats[tmem::stat::kRejectCompressPoor], 1);
  CHECK_EQ(stats[tmem::stat::kCompressedBytes], 2 * big_len + 2 * small_len);
  CHECK(stats[tmem::stat::kMeanCompressedSize] == (2.0 * big_len + 2.0 * small_len) / 4);
}

int main() {
  RUN(test_round_trip);
  RUN(test_same_filled);
  RUN(test_decompress_must_yield_a_page);
  RUN(test_compress_poor_boundary);
  RUN(test_mean_compress_poor);
  return 0;
}
