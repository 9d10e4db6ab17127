// Pool fixtures shared by the pool, writeback and ephemeral-pool tests. The helpers CHECK that
// the call itself succeeded, so each test states only the outcome it is about (store status,
// hit or miss). Each of those tests runs once per allocator (CMakeLists.txt passes its name as
// the first argument; make_pool uses it).
#ifndef TMEM_TEST_FIXTURES_H
#define TMEM_TEST_FIXTURES_H

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "pool.h"

namespace tmem_test {

using tmem::kPageSize;
using tmem::Pool;
using tmem::PoolError;
using tmem::PoolOptions;

// The allocator the pool-level tests run with.
inline tmem::AllocatorKind& test_allocator() {
  static tmem::AllocatorKind kind = tmem::AllocatorKind::kZsmalloc;
  return kind;
}
inline bool testing(tmem::AllocatorKind kind) { return test_allocator() == kind; }

// Takes the allocator's name from argv[1] (and drops it, so that the test's own arguments follow).
inline void parse_allocator(int& argc, char**& argv) {
  static const char* names[] = {"zsmalloc", "z3fold", "zbud"};
  CHECK(argc > 1);
  for (int k = 0; k < 3; k++) {
    if (std::strcmp(argv[1], names[k]) == 0) {
      test_allocator() = static_cast<tmem::AllocatorKind>(k);
      std::printf("allocator %s\n", names[k]);
      argv[1] = argv[0];
      argv++;
      argc--;
      return;
    }
  }
  std::fprintf(stderr, "usage: %s zsmalloc|z3fold|zbud [ops]\n", argv[0]);
  std::abort();
}

// The allocator's count of frames it holds ("zsmalloc/pages", ...).
inline const char* allocator_pages() {
  static const char* names[] = {"zsmalloc/pages", "z3fold/pages", "zbud/pages"};
  return names[static_cast<int>(test_allocator())];
}

// A snapshot, so a test can compare counters before and after a step.
struct Stats {
  std::vector<double> v;
  const std::vector<std::string>* names;
  double operator[](int i) const { return v[i]; }
  // A counter by its name (the allocator's own: "zbud/buddied").
  double named(const char* name) const {
    for (size_t i = 0; i < names->size(); i++) {
      if ((*names)[i] == name) return v[i];
    }
    std::fprintf(stderr, "no counter %s\n", name);
    std::abort();
  }
};

inline Stats stats_of(Pool& pool) {
  Stats s{std::vector<double>(pool.stat_names().size()), &pool.stat_names()};
  pool.stats(s.v.data());
  return s;
}

inline std::unique_ptr<Pool> make_pool(PoolOptions o = PoolOptions()) {
  o.allocator = test_allocator();
  auto pool = std::make_unique<Pool>(o);
  CHECK(pool->init());
  return pool;
}

inline int store(Pool& pool, uint32_t type, uint32_t offset, const uint8_t* page) {
  int status = 0;
  CHECK(pool.store(type, offset, page, &status) == PoolError::kOk);
  return status;
}

inline bool load(Pool& pool, uint32_t type, uint32_t offset, uint8_t* into, bool exclusive = false) {
  bool hit = false;
  CHECK(pool.load(type, offset, into, exclusive, &hit) == PoolError::kOk);
  return hit;
}

// Pool::area_stats of one area, checked to succeed.
struct AreaCount {
  uint64_t pages;
  uint64_t bytes;
};

inline AreaCount area_of(Pool& pool, uint32_t type) {
  AreaCount c{~uint64_t{0}, ~uint64_t{0}};
  CHECK(pool.area_stats(type, &c.pages, &c.bytes) == PoolError::kOk);
  return c;
}

// The per-area counts are kept by the indexes, the pool-wide gauges by the pool: over all areas
// they must agree (stored_pages, compressed_bytes; persistent pages only).
inline void check_area_sums(Pool& pool, const char* file, int line) {
  uint64_t pages = 0, bytes = 0;
  for (uint32_t t = 0; t < Pool::kMaxAreas; t++) {
    const AreaCount c = area_of(pool, t);
    pages += c.pages;
    bytes += c.bytes;
  }
  const Stats s = stats_of(pool);
  if (pages != static_cast<uint64_t>(s[tmem::stat::kStoredPages]) ||
      bytes != static_cast<uint64_t>(s[tmem::stat::kCompressedBytes])) {
    std::fprintf(stderr, "%s:%d: area sums %llu pages / %llu bytes, pool %.0f pages / %.0f bytes\n", file, line,
                 static_cast<unsigned long long>(pages), static_cast<unsigned long long>(bytes),
                 s[tmem::stat::kStoredPages], s[tmem::stat::kCompressedBytes]);
    std::abort();
  }
}

#define CHECK_AREA_SUMS(pool) tmem_test::check_area_sums((pool), __FILE__, __LINE__)

inline bool same(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, kPageSize) == 0; }

struct StatWant {
  int id;
  long long value;
};

// Checks a set of counters of one snapshot at once and names each one that differs: the tests
// pin down many counters after a step, and one CHECK_EQ per counter buried the step itself.
// Compares like CHECK_EQ does (as integers).
inline void check_stats(const Stats& s, std::initializer_list<StatWant> want, const char* file, int line) {
  bool ok = true;
  for (const StatWant& w : want) {
    const long long got = static_cast<long long>(s[w.id]);
    if (got != w.value) {
      std::fprintf(stderr, "%s:%d: CHECK_STATS failed: %s is %lld, want %lld\n", file, line,
                   tmem::kStatNames[w.id], got, w.value);
      ok = false;
    }
  }
  if (!ok) std::abort();
}

#define CHECK_STATS(snapshot, ...) tmem_test::check_stats((snapshot), __VA_ARGS__, __FILE__, __LINE__)

// A temporary swap file, unlinked at once (the fd keeps it alive), so a failed test leaves
// nothing behind in $TMPDIR.
struct TempFile {
  int fd;
  explicit TempFile(uint32_t pages) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/tmem-test-XXXXXX";
    fd = mkstemp(&path[0]);
    CHECK(fd >= 0);
    unlink(path.c_str());
    CHECK(ftruncate(fd, static_cast<off_t>(pages) * kPageSize) == 0);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { close(fd); }
  void read(uint32_t offset, uint8_t* into) const {
    CHECK(pread(fd, into, kPageSize, static_cast<off_t>(offset) * kPageSize) == static_cast<ssize_t>(kPageSize));
  }
  void write(uint32_t offset, const uint8_t* page) const {
    CHECK(pwrite(fd, page, kPageSize, static_cast<off_t>(offset) * kPageSize) == static_cast<ssize_t>(kPageSize));
  }
};

// Ops for the randomized tests: the argument after the allocator, else $TMEM_RACE_OPS (ctest.sh
// lowers it under ThreadSanitizer), else `fallback`.
inline uint32_t race_ops(int argc, char** argv, uint32_t fallback) {
  const char* env_ops = std::getenv("TMEM_RACE_OPS");
  return argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10))
         : env_ops != nullptr ? static_cast<uint32_t>(std::strtoul(env_ops, nullptr, 10))
                              : fallback;
}

// The race tests' setting: a pool capped at `frames` frames with one area of `slots` slots
// backed by a swap file, so writeback has somewhere to go and the cap forces it.
struct SwappedPool {
  TempFile file;
  PoolOptions options;
  std::unique_ptr<Pool> pool;
  SwappedPool(uint32_t type, uint32_t slots, uint32_t frames) : file(slots) {
    options.max_pool_bytes = uint64_t{frames} * kPageSize;
    options.accept_threshold_percent = 80;
    pool = make_pool(options);
    CHECK(pool->init_area(type, slots, file.fd) == PoolError::kOk);
  }
};

// Writeback threads for the race tests. Like the policy, a thread runs a batch only while the
// pool is above 3/4 of `cap`: batches then overlap the test's own stores and loads instead of
// emptying the pool at once.
class WritebackThreads {
 public:
  WritebackThreads(Pool& pool, uint64_t cap, uint32_t count, uint32_t seed, uint32_t max_batch) {
    for (uint32_t w = 0; w < count; w++) {
      threads_.emplace_back([this, &pool, cap, max_batch, r = std::mt19937(seed + w)]() mutable {
        while (!stop_.load()) {
          if (pool.pool_bytes() < cap * 3 / 4) {
            std::this_thread::sleep_for(std::chrono::microseconds(20));
            continue;
          }
          pages_ += pool.writeback(1 + r() % max_batch);
        }
      });
    }
  }
  WritebackThreads(const WritebackThreads&) = delete;
  WritebackThreads& operator=(const WritebackThreads&) = delete;
  ~WritebackThreads() { join(); }
  void join() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Pages the threads wrote back (or, with ephemeral frames, evicted).
  uint64_t pages() const { return pages_.load(); }

 private:
  // Declared before threads_: they must exist before the first thread starts.
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> pages_{0};
  std::vector<std::thread> threads_;
};

// Compaction on demand in a loop on another thread, for the race tests: objects move under the
// stores, loads and writeback batches of the other threads.
class CompactionThread {
 public:
  explicit CompactionThread(Pool& pool)
      : thread_([this, &pool] {
          while (!stop_.load()) {
            released_ += pool.compact();
            std::this_thread::sleep_for(std::chrono::microseconds(50));
          }
        }) {}
  CompactionThread(const CompactionThread&) = delete;
  CompactionThread& operator=(const CompactionThread&) = delete;
  ~CompactionThread() { join(); }
  void join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t released() const { return released_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> released_{0};
  std::thread thread_;
};

// The swap layer over frontswap and a swap file, as a model for the race tests: the bytes each
// slot must read back, whether it is in use, and whether frontswap's bit is set (the page was
// accepted; it may since have been written back). A refused store writes the page to the file
// itself (the swap layer's fallback), so an older in-flight writeback landing after it would be
// caught; so would a lost or stale page.
struct SwapModel {
  Pool& pool;
  const TempFile& file;
  const uint32_t type;
  std::vector<std::vector<uint8_t>> want;
  std::vector<uint8_t> used, held;
  uint64_t hits = 0, file_reads = 0, refused = 0;
  uint8_t page[kPageSize], out[kPageSize];

  SwapModel(Pool& p, const TempFile& f, uint32_t t, uint32_t slots)
      : pool(p), file(f), type(t), want(slots, std::vector<uint8_t>(kPageSize)), used(slots, 0), held(slots, 0) {}

  void read_back(uint32_t off, bool exclusive) {
    bool hit = held[off] && load(pool, type, off, out, exclusive);
    if (hit) {
      hits++;
    } else {
      file.read(off, out);
      file_reads++;
    }
    if (!same(out, want[off].data())) {
      std::fprintf(stderr, "slot %u read back wrong bytes (%s)\n", off, hit ? "pool" : "file");
      CHECK(false);
    }
  }

  // One random operation on a random slot; `make` fills the page of a store. Direct reclaim
  // (writeback on this thread) follows some refused stores.
  void step(std::mt19937& rng, const std::function<void(uint8_t*)>& make) {
    const uint32_t off = rng() % want.size();
    const uint32_t r = rng() % 100;
    if (r < 45) {  // store (a re-store when the slot is in use)
      make(page);
      if (store(pool, type, off, page) > 0) {
        held[off] = 1;
      } else {
        // Frontswap drops its bit (the pool already dropped the copy) and the page goes to the file.
        held[off] = 0;
        file.write(off, page);
        refused++;
        if (rng() % 4 == 0) pool.writeback(8);
      }
      std::memcpy(want[off].data(), page, kPageSize);
      used[off] = 1;
    } else if (r < 85) {
      if (used[off]) read_back(off, false);
    } else if (r < 92) {
      if (used[off]) {  // takePage: exclusive load, then the slot is freed
        read_back(off, true);
        if (held[off]) pool.invalidate_page(type, off);
        used[off] = held[off] = 0;
      }
    } else if (used[off]) {  // freePage
      if (held[off]) pool.invalidate_page(type, off);
      used[off] = held[off] = 0;
    }
  }

  void read_back_all() {
    for (uint32_t off = 0; off < want.size(); off++) {
      if (used[off]) read_back(off, false);
    }
  }
};

}  // namespace tmem_test

#endif
