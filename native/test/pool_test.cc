// Pool and area index: store/load/invalidate, duplicates, exclusive loads, invalidate_area,
// argument errors that change nothing, the pool limit, raw pages, batches, locking, compaction on
// demand and racing loads, the entry LRU kept in object headers, and the native metadata cost and
// density per stored page. Run once per allocator (argv[1]).
#include "pool.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "fixtures.h"
#include "pages.h"

namespace stat = tmem::stat;
using namespace tmem_test;

static void test_store_load_invalidate() {
  std::mt19937 rng(1);
  auto pool = make_pool();
  CHECK(pool->init_area(2, 10000, 7) == PoolError::kOk);
  uint8_t a[kPageSize], b[kPageSize], zero[kPageSize] = {}, out[kPageSize];
  make_page(a, 200, rng);
  make_page(b, 600, rng);

  CHECK(!load(*pool, 2, 5, out));
  CHECK_EQ(store(*pool, 2, 5, a), tmem::kStoredCompressed);
  CHECK_EQ(store(*pool, 2, 9999, b), tmem::kStoredCompressed);
  CHECK_EQ(store(*pool, 2, 600, zero), tmem::kStoredSameFilled);
  CHECK(load(*pool, 2, 5, out) && same(out, a));
  CHECK(load(*pool, 2, 5, out) && same(out, a));  // a plain load keeps the page
  CHECK(load(*pool, 2, 9999, out) && same(out, b));
  std::memset(out, 1, kPageSize);
  CHECK(load(*pool, 2, 600, out) && same(out, zero));
  Stats s = stats_of(*pool);
  CHECK_EQ(s[stat::kStoredPages], 3);
  CHECK_EQ(s[stat::kSameFilledPages], 1);
  // The two compressed pages share one frame; zsmalloc keeps them in the zspages of their two size
  // classes, a frame each.
  const long long frames = testing(tmem::AllocatorKind::kZsmalloc) ? 2 : 1;
  CHECK_STATS(s, {{stat::kPoolPages, frames}, {stat::kPoolTotalSize, frames * static_cast<long long>(kPageSize)}, {stat::kLoads, 5},
                  {stat::kStores, 3}});
  CHECK_EQ(s.named(allocator_pages()), frames);

  pool->invalidate_page(2, 5);
  pool->invalidate_page(2, 5);  // invalidating a missing page is harmless
  CHECK(!load(*pool, 2, 5, out));
  s = stats_of(*pool);
  CHECK_EQ(s[stat::kStoredPages], 2);
  CHECK_EQ(s[stat::kInvalidates], 2);
  CHECK_EQ(s[stat::kPoolPages], 1);
}

static void test_duplicate_and_exclusive() {
  std::mt19937 rng(2);
  auto pool = make_pool();
  CHECK(pool->init_area(0, 100, -1) == PoolError::kOk);
  uint8_t a[kPageSize], b[kPageSize], noise[kPageSize], out[kPageSize];
  make_page(a, 100, rng);
  make_page(b, 300, rng);
  make_random_page(noise, rng);

  CHECK_EQ(store(*pool, 0, 1, a), tmem::kStoredCompressed);
  CHECK_EQ(store(*pool, 0, 1, b), tmem::kStoredCompressed);  // replaces
  CHECK(load(*pool, 0, 1, out) && same(out, b));
  // A refused store of a held offset drops the old copy: stale data must not be loadable.
  CHECK_EQ(store(*pool, 0, 1, noise), tmem::kRejectCompressPoor);
  CHECK(!load(*pool, 0, 1, out));
  Stats s = stats_of(*pool);
  CHECK_STATS(s, {{stat::kDuplicateEntry, 2}, {stat::kStoredPages, 0}, {stat::kPoolPages, 0},
                  {stat::kCompressedBytes, 0}});

  // Exclusive load: copied out, then gone.
  CHECK_EQ(store(*pool, 0, 2, a), tmem::kStoredCompressed);
  CHECK(load(*pool, 0, 2, out, true) && same(out, a));
  CHECK(!load(*pool, 0, 2, out));
  CHECK_EQ(stats_of(*pool)[stat::kStoredPages], 0);
}

static void test_invalidate_area_and_errors() {
  std::mt19937 rng(3);
  auto pool = make_pool();
  uint8_t a[kPageSize], out[kPageSize];
  make_page(a, 100, rng);
  int status = 0;
  bool hit = false;
  CHECK(pool->store(0, 0, a, &status) == PoolError::kNoArea);
  CHECK(pool->init_area(32, 10, -1) == PoolError::kBadType);
  CHECK(pool->init_area(0, 0, -1) == PoolError::kBadPages);
  CHECK(pool->init_area(31, 3000, -1) == PoolError::kOk);
  CHECK(pool->init_area(31, 10, -1) == PoolError::kAreaExists);
  CHECK(pool->store(31, 3000, a, &status) == PoolError::kBadOffset);
  CHECK(pool->load(31, 3000, out, false, &hit) == PoolError::kBadOffset);
  CHECK(pool->store(32, 0, a, &status) == PoolError::kBadType);
  CHECK(pool->invalidate_page(30, 0) == PoolError::kNoArea);
  CHECK(pool->invalidate_area(30) == PoolError::kNoArea);
  // A batch with one bad offset is refused whole.
  const uint32_t offsets[] = {1, 2, 3000};
  std::vector<uint8_t> pages(3 * kPageSize);
  for (int i = 0; i < 3; i++) std::memcpy(&pages[i * kPageSize], a, kPageSize);
  int8_t results[3] = {9, 9, 9};
  uint32_t stored = 99;
  CHECK(pool->store_batch(31, offsets, 3, pages.data(), results, &stored) == PoolError::kBadOffset);
  CHECK_EQ(stored, 99);
  CHECK_EQ(results[0], 9);
  CHECK_EQ(stats_of(*pool)[stat::kStores], 0);

  for (uint32_t off = 0; off < 3000; off += 3) store(*pool, 31, off, a);
  Stats s = stats_of(*pool);
  CHECK_EQ(s[stat::kStoredPages], 1000);
  CHECK(s[stat::kMetadataBytes] > 0);
  CHECK(pool->invalidate_area(31) == PoolError::kOk);
  s = stats_of(*pool);
  CHECK_EQ(s[stat::kStoredPages], 0);
  CHECK_EQ(s[stat::kPoolPages], 0);
  CHECK_EQ(s.named(allocator_pages()), 0);
  // The area is forgotten, and can be set up again (possibly with another size).
  CHECK(pool->store(31, 0, a, &status) == PoolError::kNoArea);
  CHECK(pool->init_area(31, 10, -1) == PoolError::kOk);
  CHECK(!load(*pool, 31, 0, out));
}

static void test_pool_limit_and_raw_pages() {
  std::mt19937 rng(4);
  PoolOptions o;
  o.max_pool_bytes = 8 * kPageSize + 100;  // 8 frames
  o.store_incompressible = true;
  auto pool = make_pool(o);
  CHECK(pool->init_area(1, 64, -1) == PoolError::kOk);
  std::vector<std::vector<uint8_t>> pages(20, std::vector<uint8_t>(kPageSize));
  uint8_t out[kPageSize], zero[kPageSize] = {};
  for (int i = 0; i < 8; i++) {
    make_random_page(pages[i].data(), rng);
    CHECK_EQ(store(*pool, 1, i, pages[i].data()), tmem::kStoredRaw);
  }
  make_page(pages[8].data(), 10, rng);
  CHECK_EQ(store(*pool, 1, 8, pages[8].data()), tmem::kRejectAllocFail);
  CHECK_EQ(store(*pool, 1, 9, zero), tmem::kStoredSameFilled);  // needs no frame
  Stats s = stats_of(*pool);
  CHECK_STATS(s, {{stat::kRejectAllocFail, 1}, {stat::kPoolLimitHit, 1},
                  {stat::kStoredIncompressiblePages, 8}, {stat::kPoolPages, 8},
                  {stat::kCompressedBytes, 8 * kPageSize}});
  for (int i = 0; i < 8; i++) CHECK(load(*pool, 1, i, out) && same(out, pages[i].data()));
  // Freeing a frame makes room again.
  pool->invalidate_page(1, 0);
  CHECK_EQ(store(*pool, 1, 8, pages[8].data()), tmem::kStoredCompressed);
  CHECK(load(*pool, 1, 8, out) && same(out, pages[8].data()));
}

static void test_batches() {
  std::mt19937 rng(5);
  auto pool = make_pool();
  CHECK(pool->init_area(3, 4096, -1) == PoolError::kOk);
  const size_t n = 64;
  std::vector<uint32_t> offsets(n);
  std::vector<uint8_t> pages(n * kPageSize), out(n * kPageSize);
  for (size_t i = 0; i < n; i++) {
    offsets[i] = static_cast<uint32_t>(i * 61 % 4096);
    if (i % 8 == 0) {
      make_random_page(&pages[i * kPageSize], rng);  // refused
    } else {
      make_page(&pages[i * kPageSize], i * 20, rng);
    }
  }
  std::vector<int8_t> results(n);
  uint32_t stored = 0;
  CHECK(pool->store_batch(3, offsets.data(), n, pages.data(), results.data(), &stored) == PoolError::kOk);
  CHECK_EQ(stored, n - n / 8);
  for (size_t i = 0; i < n; i++) CHECK_EQ(results[i], i % 8 == 0 ? tmem::kRejectCompressPoor : tmem::kStoredCompressed);
  std::vector<uint8_t> hits(n);
  uint32_t hit_count = 0;
  CHECK(pool->load_batch(3, offsets.data(), n, out.data(), hits.data(), false, &hit_count) == PoolError::kOk);
  CHECK_EQ(hit_count, stored);
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ(hits[i], i % 8 == 0 ? 0 : 1);
    if (hits[i]) CHECK(same(&out[i * kPageSize], &pages[i * kPageSize]));
  }
  CHECK(pool->invalidate_batch(3, offsets.data(), n / 2) == PoolError::kOk);
  CHECK(pool->load_batch(3, offsets.data(), n, out.data(), hits.data(), true, &hit_count) == PoolError::kOk);
  CHECK_EQ(hit_count, (n / 2) - (n / 2) / 8);
  CHECK_EQ(stats_of(*pool)[stat::kStoredPages], 0);
}

// Several threads on one pool (the writeback thread will be one): the mutex keeps every
// operation atomic, so each thread always reads back its own latest page.
static void test_threads() {
  auto pool = make_pool();
  for (uint32_t t = 0; t < 4; t++) CHECK(pool->init_area(t, 256, -1) == PoolError::kOk);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; t++) {
    threads.emplace_back([&pool, t] {
      std::mt19937 rng(100 + t);
      uint8_t page[kPageSize], out[kPageSize];
      for (int i = 0; i < 3000; i++) {
        uint32_t off = rng() % 256;
        make_page(page, rng() % 2000, rng);
        int status = store(*pool, t, off, page);
        bool hit = load(*pool, t, off, out, rng() % 2 == 0);
        CHECK(hit == (status > 0));
        if (hit) CHECK(same(page, out));
        if (rng() % 4 == 0) pool->invalidate_page(t, off);
      }
    });
  }
  for (auto& th : threads) th.join();
  Stats s = stats_of(*pool);
  CHECK_EQ(s[stat::kStores], 12000);
  for (uint32_t t = 0; t < 4; t++) CHECK(pool->invalidate_area(t) == PoolError::kOk);
  CHECK_EQ(stats_of(*pool)[stat::kPoolPages], 0);
}

// Compaction on demand: two thirds of the pages freed at random, then compact(): zsmalloc gives
// frames back (the rest cannot move objects between frames), and every page left loads back.
static void test_compact() {
  std::mt19937 rng(7);
  auto pool = make_pool();
  const uint32_t n = 12000;
  CHECK(pool->init_area(0, n, -1) == PoolError::kOk);
  std::vector<uint32_t> seeds(n);
  uint8_t page[kPageSize], out[kPageSize];
  for (uint32_t off = 0; off < n; off++) {
    seeds[off] = rng();
    std::mt19937 r(seeds[off]);
    make_page(page, 100 + r() % 1500, r);
    CHECK_EQ(store(*pool, 0, off, page), tmem::kStoredCompressed);
  }
  std::vector<uint8_t> live(n, 1);
  for (uint32_t k = 0; k < 2 * n / 3; k++) {
    const uint32_t off = rng() % n;
    pool->invalidate_page(0, off);
    live[off] = 0;
  }
  const Stats before = stats_of(*pool);
  const uint32_t released = pool->compact();
  const Stats after = stats_of(*pool);
  CHECK_EQ(after[stat::kPoolPages], before[stat::kPoolPages] - released);
  if (testing(tmem::AllocatorKind::kZsmalloc)) {
    // Frees along the way already compacted the classes they pushed over the threshold.
    const double automatic = before.named("zsmalloc/pages_compacted");
    std::printf("  %.0f frames released by automatic compaction, %u on demand; %.0f frames hold %.0f pages\n",
                automatic, released, after[stat::kPoolPages], after[stat::kStoredPages]);
    CHECK(automatic + released > 0);
    CHECK_EQ(after.named("zsmalloc/pages_compacted"), automatic + released);
    CHECK(after.named("zsmalloc/compactions") >= 1);
    CHECK_EQ(pool->compact(), 0);
  } else {
    CHECK_EQ(released, 0);
  }
  for (uint32_t off = 0; off < n; off++) {
    CHECK_EQ(load(*pool, 0, off, out), live[off] != 0);
    if (!live[off]) continue;
    std::mt19937 r(seeds[off]);
    make_page(page, 100 + r() % 1500, r);
    CHECK(same(out, page));
  }
}

// Native metadata per stored page on a swap-like mix: dense offsets, 10% zero pages, 10%
// incompressible (refused), the rest compressing to between ~10% and ~75% of a page.
static void test_metadata_per_page() {
  std::mt19937 rng(6);
  auto pool = make_pool();
  const uint32_t pages = 1u << 17;
  CHECK(pool->init_area(0, pages, -1) == PoolError::kOk);
  uint8_t page[kPageSize], zero[kPageSize] = {};
  for (uint32_t off = 0; off < pages; off++) {
    uint32_t kind = rng() % 10;
    if (kind == 0) {
      store(*pool, 0, off, zero);
    } else if (kind == 1) {
      make_random_page(page, rng);
      store(*pool, 0, off, page);
    } else {
      make_page(page, 100 + rng() % 2000, rng);
      store(*pool, 0, off, page);
    }
  }
  Stats s = stats_of(*pool);
  double per_page = s[stat::kMetadataBytes] / s[stat::kStoredPages];
  const double density = s[stat::kCompressedBytes] / s[stat::kPoolTotalSize];
  std::printf("  stored %.0f pages (%.0f same-filled) in %.0f frames; mean compressed %.0f bytes\n",
              s[stat::kStoredPages], s[stat::kSameFilledPages], s[stat::kPoolPages], s[stat::kMeanCompressedSize]);
  std::printf("  metadata %.0f bytes = %.2f bytes per stored page; compressed bytes / pool bytes %.3f\n",
              s[stat::kMetadataBytes], per_page, density);
  std::fflush(stdout);
  if (testing(tmem::AllocatorKind::kZsmalloc)) {
    // The targets for the default allocator.
    CHECK(per_page <= 16.0);
    CHECK(density >= 0.95);
  } else {
    CHECK(per_page <= 32.0);
    CHECK(density >= (testing(tmem::AllocatorKind::kZ3fold) ? 0.75 : 0.5));
  }
}

int main(int argc, char** argv) {
  parse_allocator(argc, argv);
  RUN(test_store_load_invalidate);
  RUN(test_duplicate_and_exclusive);
  RUN(test_invalidate_area_and_errors);
  RUN(test_pool_limit_and_raw_pages);
  RUN(test_batches);
  RUN(test_threads);
  RUN(test_compact);
  RUN(test_metadata_per_page);
  return 0;
}
