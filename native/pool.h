// The zcache pool: the native mechanics behind the 'zcache' backend (DESIGN §6).
//
// Owns the frame arena, the zbud allocator, the codec's scratch buffer and one index per swap
// area, and implements store/load/invalidate on them. Policy (limits with hysteresis, when to
// write back) is the TypeScript layer's; the pool only enforces the hard cap and the
// compress_poor rules. Every operation takes the pool's mutex because writeback will run on a
// worker thread; batch operations take it once for the whole batch.
//
// Bad arguments are reported as PoolError before anything changes, so the N-API layer can throw
// without leaving a half-applied batch behind.
#ifndef TMEM_POOL_H
#define TMEM_POOL_H

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "arena.h"
#include "area_index.h"
#include "codec.h"
#include "stats.h"
#include "zbud.h"

namespace tmem {

struct PoolOptions {
  // Hard cap on arena frames in use. 64 GiB by default: address space only, nothing is
  // committed until used.
  uint64_t max_pool_bytes = uint64_t{64} << 30;
  // zcache's two-level compress_poor rule, in bytes of compressed page.
  uint32_t max_compressed_bytes = 3584;
  uint32_t max_mean_compressed_bytes = 2560;
  // Keep pages that fail the absolute compress_poor rule as raw 4096-byte objects.
  bool store_incompressible = false;
};

// Result of a store, as the JS API reports it.
enum StoreStatus : int {
  kStoredCompressed = 1,
  kStoredSameFilled = 2,
  kStoredRaw = 3,
  kRejectCompressPoor = -1,
  kRejectMeanCompressPoor = -2,
  kRejectAllocFail = -3,
  kRejectCompressFail = -4,
};

enum class PoolError {
  kOk,
  kBadType,      // area type outside 0..kMaxAreas-1
  kNoArea,       // area not initialised
  kBadOffset,    // offset >= area pages
  kAreaExists,   // init of an initialised area
  kBadPages,     // area of zero pages
  kNoMemory,     // native memory for the area index could not be allocated
};

class Pool {
 public:
  static constexpr uint32_t kMaxAreas = 32;

  explicit Pool(const PoolOptions& options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // Reserves the arena and allocator metadata. False if the address space is not available.
  bool init();

  PoolError init_area(uint32_t type, uint32_t pages, int fd);
  PoolError invalidate_area(uint32_t type);

  PoolError store(uint32_t type, uint32_t offset, const uint8_t* page, int* status);
  // results[i] receives the StoreStatus of page i; *stored the number of pages stored.
  PoolError store_batch(uint32_t type, const uint32_t* offsets, size_t n, const uint8_t* pages,
                        int8_t* results, uint32_t* stored);

  PoolError load(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive, bool* hit);
  PoolError load_batch(uint32_t type, const uint32_t* offsets, size_t n, uint8_t* into, uint8_t* hits,
                       bool exclusive, uint32_t* hit_count);

  PoolError invalidate_page(uint32_t type, uint32_t offset);
  PoolError invalidate_batch(uint32_t type, const uint32_t* offsets, size_t n);

  // Fills out[0..kStatCount) in the order of TMEM_STATS.
  void stats(double* out);

 private:
  struct Area {
    AreaIndex index;
    int fd = -1;  // the swap file, target of writeback
  };

  // Checks type, area and every offset; the caller holds the lock.
  PoolError check(uint32_t type, const uint32_t* offsets, size_t n) const;
  int store_locked(uint32_t type, uint32_t offset, const uint8_t* page);
  bool load_locked(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive);
  void invalidate_locked(uint32_t type, uint32_t offset);
  // Releases what an entry owns and takes it out of the gauges.
  void drop_entry(uint64_t entry);
  // Places `len` bytes as an object and indexes it; a StoreStatus (kRejectAllocFail on failure).
  int place(uint32_t type, uint32_t offset, const uint8_t* data, uint32_t len, EntryKind kind);

  const PoolOptions options_;
  std::mutex mu_;
  Arena arena_;
  Zbud zbud_{&arena_};
  Codec codec_;
  Area areas_[kMaxAreas];

  // Gauges.
  uint64_t stored_pages_ = 0;
  uint64_t same_filled_pages_ = 0;
  uint64_t raw_pages_ = 0;
  uint64_t object_pages_ = 0;  // pages with an allocator object (compressed or raw)
  uint64_t compressed_bytes_ = 0;
  // Monotonic event counters.
  uint64_t duplicate_entry_ = 0;
  uint64_t reject_compress_poor_ = 0;
  uint64_t reject_mean_compress_poor_ = 0;
  uint64_t reject_compress_fail_ = 0;
  uint64_t reject_alloc_fail_ = 0;
  uint64_t pool_limit_hit_ = 0;
  uint64_t decompress_fail_ = 0;
  uint64_t loads_ = 0;
  uint64_t stores_ = 0;
  uint64_t invalidates_ = 0;
};

}  // namespace tmem

#endif
