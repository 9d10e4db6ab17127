// The ephemeral (cleancache) pool: pool ids (private, shared by uuid, reuse), put/get with
// exclusive and shared gets, coherency of put-put and of dropped puts, invalidation of a page, an
// inode and a pool, the wasActive hint, counters, eviction at the cap (whole units; second chance
// for units a shared get used; pers_ate_eph; ephemeral puts never evict persistent pages; the
// hysteresis flag yields to ephemeral pages), writeback evicting ephemeral units first, the native
// metadata per ephemeral page, a randomized model test, and a threaded race of writeback batches
// and compaction against persistent and ephemeral traffic that evicts units. Run once per
// allocator (argv[1]); exact frame counts are checked where the allocator makes them simple
// (zbud, and z3fold with objects two of which fill a frame).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "check.h"
#include "fixtures.h"
#include "pages.h"
#include "pool.h"

namespace tstat = tmem::stat;
using namespace tmem_test;

namespace {

struct Key {
  uint32_t w[6] = {};
  explicit Key(uint64_t ino, uint32_t extra = 0) {
    w[0] = static_cast<uint32_t>(ino);
    w[1] = static_cast<uint32_t>(ino >> 32);
    w[2] = extra;
  }
};

void put(Pool& pool, uint32_t id, const Key& key, uint32_t index, const uint8_t* page, bool active = true) {
  CHECK(pool.eph_put(id, key.w, index, page, active) == PoolError::kOk);
}

bool get(Pool& pool, uint32_t id, const Key& key, uint32_t index, uint8_t* into, bool exclusive) {
  bool hit = false;
  CHECK(pool.eph_get(id, key.w, index, into, exclusive, &hit) == PoolError::kOk);
  return hit;
}

}  // namespace

static void test_pool_ids() {
  auto pool = make_pool();
  CHECK_EQ(pool->eph_init_fs(), 0);
  CHECK_EQ(pool->eph_init_fs(), 1);
  const uint32_t s = pool->eph_init_shared_fs("uuid-a");
  CHECK_EQ(s, 2);
  CHECK_EQ(pool->eph_init_shared_fs("uuid-a"), 2);
  CHECK_EQ(pool->eph_init_shared_fs("uuid-b"), 3);
  pool->eph_invalidate_fs(0);
  CHECK_EQ(pool->eph_init_fs(), 0);  // the lowest free id is reused
  pool->eph_invalidate_fs(2);        // one of two users
  uint8_t page[kPageSize], out[kPageSize];
  std::mt19937 rng(1);
  make_page(page, 300, rng);
  put(*pool, 2, Key(1), 0, page);
  CHECK(get(*pool, 2, Key(1), 0, out, false) && same(out, page));
  pool->eph_invalidate_fs(2);  // the last user: pages and id go
  bool hit = true;
  CHECK(pool->eph_get(2, Key(1).w, 0, out, false, &hit) == PoolError::kNoEphPool && !hit);
  CHECK(pool->eph_put(2, Key(1).w, 0, page, true) == PoolError::kNoEphPool);
  CHECK(pool->eph_put(99, Key(1).w, 0, page, true) == PoolError::kNoEphPool);
  pool->eph_invalidate_page(99, Key(1).w, 0);  // unknown pools: ignored
  pool->eph_invalidate_inode(99, Key(1).w);
  pool->eph_invalidate_fs(99);
  CHECK_EQ(pool->eph_init_shared_fs("uuid-a"), 2);  // a new pool under the old uuid
  CHECK(!get(*pool, 2, Key(1), 0, out, false));
  Stats st = stats_of(*pool);
  CHECK_EQ(st[tstat::kEphZpages], 0);
  CHECK_EQ(st[tstat::kEphPuts], 1);
  CHECK_EQ(st[tstat::kEphInvalidates], 1);
}

static void test_put_get_invalidate() {
  std::mt19937 rng(2);
  auto pool = make_pool();
  const uint32_t priv = pool->eph_init_fs();
  const uint32_t shared = pool->eph_init_shared_fs("s");
  uint8_t a[kPageSize], b[kPageSize], noise[kPageSize], fill[kPageSize], out[kPageSize];
  make_page(a, 200, rng);
  make_page(b, 500, rng);
  make_random_page(noise, rng);
  std::memset(fill, 0x5a, kPageSize);

  // Private pool: a get is exclusive and drops the page.
  put(*pool, priv, Key(7), 3, a);
  CHECK(get(*pool, priv, Key(7), 3, out, true) && same(out, a));
  CHECK(!get(*pool, priv, Key(7), 3, out, true));
  // Shared pool: gets keep the page.
  put(*pool, shared, Key(7), 3, b);
  for (int i = 0; i < 3; i++) CHECK(get(*pool, shared, Key(7), 3, out, false) && same(out, b));
  // Put-put: the newer copy; a dropped put (incompressible) drops the older copy too.
  put(*pool, shared, Key(7), 3, a);
  CHECK(get(*pool, shared, Key(7), 3, out, false) && same(out, a));
  put(*pool, shared, Key(7), 3, noise);
  CHECK(!get(*pool, shared, Key(7), 3, out, false));
  // Same-filled pages are kept as a value: no frame.
  put(*pool, shared, Key(8), 0, fill);
  CHECK(get(*pool, shared, Key(8), 0, out, false) && same(out, fill));
  // Keys: words and index are distinct; pools too.
  put(*pool, shared, Key(9, 1), 0, a);
  put(*pool, shared, Key(9, 2), 0, b);
  put(*pool, shared, Key(9, 1), 1, b);
  CHECK(get(*pool, shared, Key(9, 1), 0, out, false) && same(out, a));
  CHECK(get(*pool, shared, Key(9, 2), 0, out, false) && same(out, b));
  CHECK(get(*pool, shared, Key(9, 1), 1, out, false) && same(out, b));
  CHECK(!get(*pool, priv, Key(9, 1), 0, out, false));

  Stats s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphZpages], 4);
  CHECK_EQ(s[tstat::kEphPuts], 8);
  CHECK_EQ(s[tstat::kEphGets], 9);
  // Three compressed pages of two sizes: zbud two per frame, z3fold three, zsmalloc a zspage (one
  // frame) per size class.
  const int frames = testing(tmem::AllocatorKind::kZ3fold) ? 1 : 2;
  CHECK_EQ(s[tstat::kEphPageframes], frames);
  CHECK_EQ(s[tstat::kPersPageframes], 0);
  CHECK(s[tstat::kEphZbytes] > 0);
  CHECK_EQ(s[tstat::kPersZbytes], 0);
  // The persistent pool's counters are not touched.
  CHECK_STATS(s, {{tstat::kStoredPages, 0}, {tstat::kPersZpages, 0}, {tstat::kCompressedBytes, 0},
                  {tstat::kStores, 0}, {tstat::kLoads, 0}, {tstat::kRejectCompressPoor, 0},
                  {tstat::kSameFilledPages, 0}, {tstat::kPoolPages, frames}});

  // invalidate page, inode, fs drop exactly what they name; missing ones count nothing.
  pool->eph_invalidate_page(shared, Key(9, 1).w, 1);
  pool->eph_invalidate_page(shared, Key(9, 1).w, 1);
  CHECK(!get(*pool, shared, Key(9, 1), 1, out, false));
  CHECK(get(*pool, shared, Key(9, 1), 0, out, false));
  put(*pool, shared, Key(9, 1), 5, fill);
  pool->eph_invalidate_inode(shared, Key(9, 1).w);
  CHECK(!get(*pool, shared, Key(9, 1), 0, out, false));
  CHECK(get(*pool, shared, Key(9, 2), 0, out, false));
  CHECK_EQ(stats_of(*pool)[tstat::kEphInvalidates], 3);
  const uint32_t other = pool->eph_init_fs();
  put(*pool, other, Key(9, 2), 0, a);
  pool->eph_invalidate_fs(shared);
  CHECK(get(*pool, other, Key(9, 2), 0, out, false) && same(out, a));
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphInvalidates], 5);
  CHECK_EQ(s[tstat::kEphZpages], 1);
  pool->eph_invalidate_fs(other);
  pool->eph_invalidate_fs(priv);
  s = stats_of(*pool);
  CHECK_STATS(s, {{tstat::kEphZpages, 0}, {tstat::kEphPageframes, 0}, {tstat::kPoolPages, 0},
                  {tstat::kEphZbytes, 0}});
}

static void test_nonactive_puts() {
  std::mt19937 rng(3);
  PoolOptions o;
  o.ignore_nonactive_puts = true;
  auto pool = make_pool(o);
  const uint32_t id = pool->eph_init_fs();
  uint8_t a[kPageSize], b[kPageSize], out[kPageSize];
  make_page(a, 200, rng);
  make_page(b, 300, rng);
  put(*pool, id, Key(1), 0, a, true);
  put(*pool, id, Key(1), 0, b, false);  // ignored, and the older copy is dropped all the same
  CHECK(!get(*pool, id, Key(1), 0, out, false));
  Stats s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphNonactivePutsIgnored], 1);
  CHECK_EQ(s[tstat::kEphPuts], 2);
  CHECK_EQ(s[tstat::kEphPageframes], 0);
  put(*pool, id, Key(1), 0, b, true);
  CHECK(get(*pool, id, Key(1), 0, out, false) && same(out, b));
  // Without the option the hint is ignored.
  auto plain = make_pool();
  const uint32_t p = plain->eph_init_fs();
  put(*plain, p, Key(1), 0, a, false);
  CHECK(get(*plain, p, Key(1), 0, out, false) && same(out, a));
}

// At the cap: ephemeral puts evict the units of the oldest ephemeral pages; a unit a shared get
// used is spared once; persistent stores eat ephemeral units too (pers_ate_eph); ephemeral puts
// never evict a persistent page; the hysteresis flag refuses persistent stores only when no
// ephemeral page is left.
static void test_cap_and_eviction() {
  std::mt19937 rng(4);
  PoolOptions o;
  o.max_pool_bytes = 8 * kPageSize;
  o.accept_threshold_percent = 50;
  auto pool = make_pool(o);
  CHECK(pool->init_area(0, 64, -1) == PoolError::kOk);
  const uint32_t id = pool->eph_init_shared_fs("cap");
  std::vector<std::vector<uint8_t>> pages(40, std::vector<uint8_t>(kPageSize));
  for (auto& p : pages) make_page(p.data(), 1500, rng);  // ~1.6 KB: two per zbud or z3fold frame
  const bool two_per_frame = !testing(tmem::AllocatorKind::kZsmalloc);
  uint8_t out[kPageSize];
  for (uint32_t i = 0; i < 40; i++) put(*pool, id, Key(1), i, pages[i].data());
  Stats s = stats_of(*pool);
  CHECK(s[tstat::kEphPageframes] <= 8 && s[tstat::kEphPageframes] == s[tstat::kPoolPages]);
  CHECK_EQ(s[tstat::kEphZpages] + s[tstat::kEvictedEphZpages], 40);
  CHECK(s[tstat::kEvictedEphPageframes] > 0);
  CHECK_STATS(s, {{tstat::kPersAteEph, 0}, {tstat::kPoolLimitHit, 0}});  // ephemeral puts never count as full
  if (two_per_frame) {
    CHECK_STATS(s, {{tstat::kEphPageframes, 8}, {tstat::kEphZpages, 16}, {tstat::kEvictedEphPageframes, 12},
                    {tstat::kEvictedEphZpages, 24}});
  }
  uint32_t held = 0;
  for (uint32_t i = 0; i < 40; i++) {
    if (!get(*pool, id, Key(1), i, out, false)) continue;
    CHECK(same(out, pages[i].data()));
    CHECK(!two_per_frame || i >= 24);  // the oldest units went first
    held++;
  }
  CHECK_EQ(held, s[tstat::kEphZpages]);
  CHECK(get(*pool, id, Key(1), 39, out, false));

  if (two_per_frame) {
    // Every held page was just used: one pass spares them all (clearing the bits) and the unit of
    // the coldest goes. A page used again since survives the next eviction, the others' units go.
    put(*pool, id, Key(1), 40, pages[0].data());
    CHECK(!get(*pool, id, Key(1), 24, out, false));
    CHECK(get(*pool, id, Key(1), 26, out, false) && same(out, pages[26].data()));
    put(*pool, id, Key(1), 41, pages[1].data());  // next to 40
    put(*pool, id, Key(1), 42, pages[2].data());  // needs a frame: 26's unit is spared, 28's goes
    CHECK(get(*pool, id, Key(1), 26, out, false) && same(out, pages[26].data()));
    CHECK(!get(*pool, id, Key(1), 28, out, false));
    CHECK(get(*pool, id, Key(1), 30, out, false) && same(out, pages[30].data()));
  }

  // Persistent stores take the frames of ephemeral pages.
  std::vector<std::vector<uint8_t>> pers(16, std::vector<uint8_t>(kPageSize));
  for (auto& p : pers) make_page(p.data(), 1500, rng);
  for (uint32_t i = 0; i < 16; i++) CHECK_EQ(store(*pool, 0, i, pers[i].data()), tmem::kStoredCompressed);
  s = stats_of(*pool);
  CHECK(s[tstat::kPersAteEph] > 0);
  CHECK_STATS(s, {{tstat::kPoolLimitHit, 0}, {tstat::kStoredPages, 16}, {tstat::kPersZpages, 16}});
  CHECK_EQ(s[tstat::kPersPageframes] + s[tstat::kEphPageframes], s[tstat::kPoolPages]);
  if (two_per_frame) {
    CHECK_STATS(s, {{tstat::kPersPageframes, 8}, {tstat::kEphPageframes, 0}, {tstat::kEphZpages, 0},
                    {tstat::kPersAteEph, 8}});
  }

  // Persistent pages fill the pool: from then on ephemeral puts are dropped, persistent pages
  // untouched.
  uint8_t extra[kPageSize];
  uint32_t next = 16;
  for (; next < 64; next++) {
    make_page(extra, 1500, rng);
    if (store(*pool, 0, next, extra) < 0) break;
    pers.emplace_back(extra, extra + kPageSize);
  }
  CHECK(next < 64);  // refused: at the cap with no ephemeral page left (sets "reached full")
  s = stats_of(*pool);
  CHECK_STATS(s, {{tstat::kEphZpages, 0}, {tstat::kRejectAllocFail, 1}, {tstat::kPoolLimitHit, 1}});
  const double evicted = s[tstat::kEvictedEphPageframes];
  for (uint32_t i = 0; i < 10; i++) put(*pool, id, Key(2), i, pages[i].data());
  uint8_t fill[kPageSize];
  std::memset(fill, 3, kPageSize);
  put(*pool, id, Key(2), 99, fill);  // same-filled: kept, no frame
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphZpages], 1);
  CHECK_EQ(s[tstat::kEvictedEphPageframes], evicted);
  for (uint32_t i = 0; i < next; i++) CHECK(load(*pool, 0, i, out) && same(out, pers[i].data()));
  CHECK(get(*pool, id, Key(2), 99, out, false) && same(out, fill));

  // Hysteresis: "reached full" refuses persistent stores while the pool is above the accept
  // threshold, unless ephemeral pages are there to be eaten. (With zsmalloc the frames that
  // invalidations give back come in whole zspages, too coarse for this 8-frame pool; the rule is
  // the pool's, the same for every allocator, and test_hysteresis covers it with raw pages.)
  if (!two_per_frame) return;
  make_page(extra, 1500, rng);
  CHECK_EQ(store(*pool, 0, next, extra), tmem::kRejectPoolFull);
  // Free persistent pages until a frame is free while the pool stays above 50%.
  uint32_t freed = 0;
  while (stats_of(*pool)[tstat::kPoolPages] == 8) pool->invalidate_page(0, freed++);
  CHECK(stats_of(*pool)[tstat::kPoolPages] >= 4);
  CHECK_EQ(store(*pool, 0, next, extra), tmem::kRejectPoolFull);
  put(*pool, id, Key(3), 0, pages[1].data());  // an ephemeral put takes a free frame: not blocked
  CHECK(get(*pool, id, Key(3), 0, out, false) && same(out, pages[1].data()));
  CHECK(stats_of(*pool)[tstat::kEphPageframes] >= 1);
  CHECK_EQ(store(*pool, 0, next, extra), tmem::kStoredCompressed);  // an ephemeral page exists
  for (uint32_t i = freed; i < next; i++) CHECK(load(*pool, 0, i, out) && same(out, pers[i].data()));
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kPoolLimitHit], 3);
  CHECK_EQ(s[tstat::kRejectAllocFail], 1);
}

// writeback evicts ephemeral units first (no I/O) and counts their pages; persistent pages go to
// the file only for the rest.
static void test_writeback_evicts_eph_first() {
  std::mt19937 rng(5);
  TempFile file(64);
  auto pool = make_pool();
  CHECK(pool->init_area(1, 64, file.fd) == PoolError::kOk);
  const uint32_t id = pool->eph_init_fs();
  uint8_t page[kPageSize], out[kPageSize];
  std::vector<std::vector<uint8_t>> pers(8, std::vector<uint8_t>(kPageSize));
  for (uint32_t i = 0; i < 8; i++) {
    make_page(pers[i].data(), 1500, rng);
    CHECK_EQ(store(*pool, 1, i, pers[i].data()), tmem::kStoredCompressed);
  }
  for (uint32_t i = 0; i < 6; i++) {
    make_page(page, 1500, rng);
    put(*pool, id, Key(1), i, page);
  }
  const uint32_t first = pool->writeback(4);  // whole ephemeral units, no I/O
  CHECK(first >= 4 && first <= 6);
  Stats s = stats_of(*pool);
  CHECK_STATS(s, {{tstat::kWrittenBackPages, 0}, {tstat::kEvictedEphZpages, first}, {tstat::kPersAteEph, 0}});
  CHECK_EQ(pool->write_calls(), 0);
  const uint32_t second = pool->writeback(4);  // the rest of the ephemeral pages, then persistent ones
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphPageframes], 0);
  CHECK_EQ(s[tstat::kEvictedEphZpages], 6);
  CHECK_EQ(s[tstat::kWrittenBackPages], second - (6 - first));
  CHECK_EQ(s[tstat::kStoredPages], 8 - s[tstat::kWrittenBackPages]);
  if (!testing(tmem::AllocatorKind::kZsmalloc)) CHECK(first == 4 && second == 4);
  for (uint32_t i = 0; i < 8; i++) {
    if (!load(*pool, 1, i, out)) file.read(i, out);
    CHECK(same(out, pers[i].data()));
  }
  pool->shutdown();
  CHECK_EQ(pool->writeback(4), 0);
}

// Native metadata per ephemeral page: 100,000 pages of 1,000 inodes (same-filled, so only the
// index is measured), then everything invalidated gives the memory back.
static void test_metadata_per_page() {
  auto pool = make_pool();
  const uint32_t id = pool->eph_init_shared_fs("meta");
  const double base = stats_of(*pool)[tstat::kMetadataBytes];
  uint8_t page[kPageSize];
  const uint32_t inodes = 1000, per = 100;
  for (uint32_t ino = 0; ino < inodes; ino++) {
    for (uint32_t i = 0; i < per; i++) {
      std::memset(page, static_cast<int>(i & 0xff), kPageSize);
      put(*pool, id, Key(ino + 1, 0xabc), i * 3, page);
    }
  }
  Stats s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphZpages], inodes * per);
  const double per_page = (s[tstat::kMetadataBytes] - base) / (inodes * per);
  std::printf("  ephemeral index: %.2f bytes of native metadata per page (%u pages, %u inodes)\n", per_page,
              inodes * per, inodes);
  CHECK(per_page < 48);
  uint8_t out[kPageSize];
  CHECK(get(*pool, id, Key(500, 0xabc), 99 * 3, out, false) && out[0] == 99);
  pool->eph_invalidate_inode(id, Key(500, 0xabc).w);
  CHECK_EQ(stats_of(*pool)[tstat::kEphZpages], inodes * per - per);
  pool->eph_invalidate_fs(id);
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphZpages], 0);
  CHECK_EQ(s[tstat::kEphInvalidates], inodes * per);
  CHECK(s[tstat::kMetadataBytes] <= base);
}

// Random ephemeral and persistent traffic over a small key space in a small pool, against a model:
// an ephemeral get that hits returns the latest put; nothing hits that the model says is gone
// (invalidated, exclusively got, overwritten by a dropped put); every accepted persistent page
// loads back exactly.
static void test_model(uint32_t ops) {
  std::mt19937 rng(6);
  PoolOptions o;
  o.max_pool_bytes = 40 * kPageSize;
  o.accept_threshold_percent = 75;
  auto pool = make_pool(o);
  const uint32_t slots = 64;
  CHECK(pool->init_area(3, slots, -1) == PoolError::kOk);
  const std::string uuids[2] = {"m-a", "m-b"};
  // Live pools: id -> shared?
  std::map<uint32_t, bool> pools;
  std::map<uint32_t, std::string> shared_uuid;
  std::map<std::string, uint32_t> shared_users;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::vector<uint8_t>> model;  // may be held
  std::vector<std::vector<uint8_t>> pers(slots);
  std::vector<uint8_t> pers_held(slots, 0);
  uint8_t page[kPageSize], out[kPageSize];
  uint64_t hits = 0, misses = 0, refused = 0;
  auto make = [&](uint8_t* p) {
    const uint32_t kind = rng() % 16;
    if (kind == 0) make_random_page(p, rng);
    else if (kind == 1) std::memset(p, static_cast<int>(rng() & 0xff), kPageSize);
    else make_page(p, 100 + rng() % 2200, rng);
  };
  auto drop_pool = [&](uint32_t id) {
    for (auto it = model.begin(); it != model.end();) {
      if (std::get<0>(it->first) == id) it = model.erase(it);
      else ++it;
    }
  };
  for (uint32_t op = 0; op < ops; op++) {
    const uint32_t r = rng() % 100;
    if (pools.empty() || r < 2) {
      if (rng() % 2 == 0) {
        const uint32_t id = pool->eph_init_fs();
        CHECK(pools.count(id) == 0);
        pools[id] = false;
      } else {
        const std::string& u = uuids[rng() % 2];
        const uint32_t id = pool->eph_init_shared_fs(u);
        if (shared_users[u]++ == 0) {
          CHECK(pools.count(id) == 0);
          pools[id] = true;
          shared_uuid[id] = u;
        } else {
          CHECK(pools.count(id) == 1 && shared_uuid[id] == u);
        }
      }
      continue;
    }
    auto it = pools.begin();
    std::advance(it, rng() % pools.size());
    const uint32_t id = it->first;
    const bool shared = it->second;
    const Key key(1 + rng() % 4, rng() % 2);
    const uint32_t index = rng() % 6;
    const auto mk = std::make_tuple(id, key.w[0] * 2 + key.w[2], index);
    if (r < 4) {  // invalidate_fs
      if (shared) {
        const std::string u = shared_uuid[id];
        if (--shared_users[u] == 0) {
          drop_pool(id);
          pools.erase(id);
          shared_uuid.erase(id);
        }
      } else {
        drop_pool(id);
        pools.erase(id);
      }
      pool->eph_invalidate_fs(id);
    } else if (r < 34) {  // put
      make(page);
      put(*pool, id, key, index, page, rng() % 8 != 0);
      model[mk].assign(page, page + kPageSize);
    } else if (r < 64) {  // get
      const bool hit = get(*pool, id, key, index, out, !shared);
      auto m = model.find(mk);
      if (hit) {
        CHECK(m != model.end() && same(out, m->second.data()));
        hits++;
      } else {
        misses++;
      }
      // After a miss nothing hits until a new put; a private hit consumed the page.
      if (m != model.end() && (!hit || !shared)) model.erase(m);
    } else if (r < 70) {
      pool->eph_invalidate_page(id, key.w, index);
      model.erase(mk);
    } else if (r < 73) {
      pool->eph_invalidate_inode(id, key.w);
      for (auto m = model.begin(); m != model.end();) {
        if (std::get<0>(m->first) == id && std::get<1>(m->first) == std::get<1>(mk)) m = model.erase(m);
        else ++m;
      }
    } else {  // persistent traffic
      const uint32_t off = rng() % slots;
      if (r < 88) {
        make(page);
        if (store(*pool, 3, off, page) > 0) {
          pers[off].assign(page, page + kPageSize);
          pers_held[off] = 1;
        } else {
          pers_held[off] = 0;
          refused++;
        }
      } else if (r < 97) {
        const bool hit = load(*pool, 3, off, out);
        CHECK(hit == (pers_held[off] != 0));
        if (hit) CHECK(same(out, pers[off].data()));
      } else {
        pool->invalidate_page(3, off);
        pers_held[off] = 0;
      }
    }
    if (op % 1024 == 0) {
      Stats s = stats_of(*pool);
      CHECK(s[tstat::kPoolTotalSize] <= o.max_pool_bytes);
      CHECK_EQ(s[tstat::kPersPageframes] + s[tstat::kEphPageframes], s[tstat::kPoolPages]);
      CHECK(s[tstat::kEphZpages] <= model.size());
    }
  }
  for (uint32_t off = 0; off < slots; off++) {
    CHECK(load(*pool, 3, off, out) == (pers_held[off] != 0));
    if (pers_held[off]) CHECK(same(out, pers[off].data()));
  }
  Stats s = stats_of(*pool);
  std::printf("  %u ops: %llu ephemeral hits, %llu misses, %.0f frames evicted (%.0f by persistent stores), "
              "%llu persistent refusals\n",
              ops, static_cast<unsigned long long>(hits), static_cast<unsigned long long>(misses),
              s[tstat::kEvictedEphPageframes], s[tstat::kPersAteEph], static_cast<unsigned long long>(refused));
  CHECK(hits > 0 && s[tstat::kEvictedEphPageframes] > 0 && s[tstat::kPersAteEph] > 0);
  for (auto& [id, sh] : pools) {
    const uint32_t users = sh ? shared_users[shared_uuid[id]] : 1;
    for (uint32_t i = 0; i < users; i++) pool->eph_invalidate_fs(id);
  }
  s = stats_of(*pool);
  CHECK_EQ(s[tstat::kEphZpages], 0);
  CHECK_EQ(s[tstat::kEphPageframes], 0);
}

// Writeback batches on other threads while this thread stores/loads persistent pages against a
// model and another thread puts/gets ephemeral pages that keep evicting frames: every persistent
// page reads back (pool or file), every ephemeral hit is the latest put, and nothing of a running
// batch is ever evicted (ASan/TSan and the batch's own assertions would see it).
static void test_race(uint32_t ops) {
  std::mt19937 rng(7);
  const uint32_t slots = 256;
  SwappedPool sp(0, slots, 64);
  auto& pool = sp.pool;
  WritebackThreads background(*pool, sp.options.max_pool_bytes, 2, 200, 32);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> eph_hits{0};
  std::thread eph([&] {
    std::mt19937 r(300);
    const uint32_t id = pool->eph_init_shared_fs("race");
    std::vector<std::vector<uint8_t>> want(128);
    uint8_t p[kPageSize], q[kPageSize];
    while (!stop.load()) {
      const uint32_t i = r() % 128;
      if (r() % 2 == 0) {
        make_page(p, 200 + r() % 1600, r);
        put(*pool, id, Key(i / 16), i % 16, p);
        want[i].assign(p, p + kPageSize);
      } else if (get(*pool, id, Key(i / 16), i % 16, q, false)) {
        CHECK(!want[i].empty() && same(q, want[i].data()));
        eph_hits++;
      }
      if (r() % 64 == 0) {
        pool->eph_invalidate_inode(id, Key(i / 16).w);
        for (uint32_t j = i / 16 * 16; j < i / 16 * 16 + 16; j++) want[j].clear();
      }
    }
    pool->eph_invalidate_fs(id);
  });

  CompactionThread compaction(*pool);
  SwapModel swap(*pool, sp.file, 0, slots);
  auto make = [&](uint8_t* page) { make_page(page, 50 + rng() % 1800, rng); };
  for (uint32_t op = 0; op < ops; op++) swap.step(rng, make);
  stop = true;
  eph.join();
  background.join();
  compaction.join();
  swap.read_back_all();
  Stats s = stats_of(*pool);
  std::printf("  %u ops: %.0f written back, %llu by background batches (ephemeral pages included), %.0f "
              "ephemeral frames evicted (%.0f by persistent stores), %llu ephemeral hits\n",
              ops, s[tstat::kWrittenBackPages], static_cast<unsigned long long>(background.pages()),
              s[tstat::kEvictedEphPageframes], s[tstat::kPersAteEph],
              static_cast<unsigned long long>(eph_hits.load()));
  CHECK(s[tstat::kWrittenBackPages] > 0);
  CHECK(s[tstat::kEvictedEphPageframes] > 0);
  CHECK_EQ(s[tstat::kOutstandingWritebackPages], 0);
  CHECK_EQ(s[tstat::kEphZpages], 0);
  CHECK_EQ(s[tstat::kEphPageframes], 0);
  CHECK(pool->invalidate_area(0) == PoolError::kOk);
  CHECK_EQ(stats_of(*pool)[tstat::kPoolPages], 0);
}

int main(int argc, char** argv) {
  parse_allocator(argc, argv);
  const uint32_t ops = race_ops(argc, argv, 200000);
  RUN(test_pool_ids);
  RUN(test_put_get_invalidate);
  RUN(test_nonactive_puts);
  RUN(test_cap_and_eviction);
  RUN(test_writeback_evicts_eph_first);
  RUN(test_metadata_per_page);
  std::printf("test_model\n");
  test_model(ops);
  std::printf("test_race\n");
  test_race(ops);
  return 0;
}
