// Pool fixtures shared by the pool, writeback and ephemeral-pool tests. The helpers CHECK that
// the call itself succeeded, so each test states only the outcome it is about (store status,
// hit or miss).
#ifndef TMEM_TEST_FIXTURES_H
#define TMEM_TEST_FIXTURES_H

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "check.h"
#include "pool.h"

namespace tmem_test {

using tmem::kPageSize;
using tmem::Pool;
using tmem::PoolError;
using tmem::PoolOptions;

// A snapshot, so a test can compare counters before and after a step.
struct Stats {
  double v[tmem::kStatCount];
  double operator[](int i) const { return v[i]; }
};

inline Stats stats_of(Pool& pool) {
  Stats s;
  pool.stats(s.v);
  return s;
}

inline std::unique_ptr<Pool> make_pool(PoolOptions o = PoolOptions()) {
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

inline bool same(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, kPageSize) == 0; }

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

// Ops for the randomized tests: argv[1], else $TMEM_RACE_OPS (ctest.sh lowers it under
// ThreadSanitizer), else `fallback`.
inline uint32_t race_ops(int argc, char** argv, uint32_t fallback) {
  const char* env_ops = std::getenv("TMEM_RACE_OPS");
  return argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10))
         : env_ops != nullptr ? static_cast<uint32_t>(std::strtoul(env_ops, nullptr, 10))
                              : fallback;
}

}  // namespace tmem_test

#endif
