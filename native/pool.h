// The zcache pool: the native mechanics behind the 'zcache' backend (DESIGN §6).
//
// Owns the frame arena, one object allocator (zsmalloc, z3fold or zbud, behind allocator.h: the
// pool does not know which), the codec's scratch buffer, one index per swap area and two entry
// LRUs (entry_lru.h), and implements store/load/invalidate and writeback on them. Policy (when and
// how much to write back) is the TypeScript layer's; the pool enforces the hard cap with zswap's
// accept threshold hysteresis and the compress_poor rules. Every operation takes the pool's
// mutex; batch operations take it once for the whole batch.
//
// The pool never exceeds its cap: the arena is reserved at exactly max_pool_bytes and refuses a
// frame beyond it (a zspage takes its frames one at a time as it fills).
//
// Writeback protocol (writeback() may run on any thread, several at once), entry by entry as zswap
// does since 6.x:
//  1. Pick, under the mutex: walk the persistent entry LRU from its cold end with second chance
//     (an entry whose referenced bit is set, i.e. loaded since the last look, has the bit cleared
//     and goes to the head instead). Each picked page is decompressed (or copied, if raw) into the
//     batch's private buffer, its index entry gets the "under writeback" bit, and it leaves the
//     LRU: no other batch picks it. Its object stays allocated (and may be moved by compaction:
//     the batch keeps no pointer into the arena, only the entry's (area, offset) and handle).
//  2. Write, without the mutex: seal each page (page_seal.h: its CRC32C into the area's table,
//     encrypted first on an encrypted area), then pwrite/pwritev each page to its own slot
//     (offset * 4096) in its area's swap file, runs of adjacent slots of one file in one pwritev. Short writes are
//     continued; the first error stops the batch.
//  3. Finish, under the mutex: each written page whose entry is still the one picked (plus the
//     bit) is removed from the index and its object freed (written_back_pages). Pages of the run
//     whose write failed count reject_reclaim_fail, once each; they and the pages never tried get
//     their entry back unchanged and return to the cold end of the LRU. Then compaction gives the
//     frames the freed objects leave back to the arena (CompactMode::kAll: writeback is the
//     "free memory now" path), and waiters are woken.
// A later load of a written-back page misses; frontswap's bit is still set, so the swap layer
// reads the page from the file, where it now is.
//
// Races: plain loads of an entry under writeback simply hit the pool copy, which stays intact
// until step 3 (they set its referenced bit, which step 3 ignores). Every mutation of such an
// entry (store over it, invalidate, exclusive load, and invalidate_area of its area) first waits on
// the condition variable, mutex released, until the batch has finished. Otherwise the caller could
// go on to write newer data for that slot to the file itself (a refused store, or the slot freed
// and reused) and the batch's older pwrite could land after it. After the wait the entry is either
// gone (written back: the page is in the file) or back as it was (I/O error), and the mutation
// proceeds normally. invalidate_area also stops new picks in the area and waits until none of its
// pages is in flight, so the caller may close the file afterwards. shutdown() (close) refuses new
// batches and waits for the running ones.
//
// Compaction (zsmalloc moves objects between zspages, z3fold within a frame) runs under the mutex:
// automatically at the end of an operation that freed objects when the allocator reports a class
// over its fragmentation threshold, at the start of writeback() (before it frees memory by I/O), at
// the end of each batch, and on demand (compact()). It finds an object's handle through the owner
// in the object's header (the HandleResolver below), so every handle stays valid: the index, the
// LRU links (handles) and running batches (handles and offsets) need no update.
//
// Ephemeral pool (cleancache pages, DESIGN §5): pages keyed by (cleancache pool, six-word file
// key, page index) in an EphIndex, compressed into allocator units (frames, zspages) of the
// ephemeral class, which never hold a persistent page, and kept on their own entry LRU (a shared
// pool's hit sets the entry's referenced bit). Same-filled pages are kept as a value; only the absolute
// compress_poor rule applies and they are never stored raw. Both classes share the frame cap: an
// allocation of either class that finds no frame evicts the unit (frame or zspage) of the least
// recently used ephemeral entry, all its pages at once (they are clean, nothing is written; a unit
// with a page referenced since the last look is spared once), and retries until it succeeds or no
// ephemeral page is left. An ephemeral put never evicts a
// persistent page, never starts writeback and never sets the "reached full" state; that state
// refuses a persistent store only while no ephemeral page is left to eat. writeback() evicts
// ephemeral units first and counts their pages as progress. Writeback only picks persistent
// entries, so an eviction can never touch a page of a running batch, and ephemeral ops never wait
// for one.
//
// Bad arguments are reported as PoolError before anything changes, so the N-API layer can throw
// without leaving a half-applied batch behind.
//
// Remote tier (pool_remote.cc): the TypeScript layer picks a batch of cold objects' stored bytes,
// sends them to the cluster and finishes the batch once acknowledged. The round trip happens on
// the JS thread's event loop, so mutations must not wait for it (they would block the thread that
// finishes the batch): a picked entry carries its own bit, stays loadable, and a store over it,
// an invalidate or an exclusive load simply drops it; the finish step then sees the entry changed
// and leaves it be. Only one remote batch is picked at a time, so an entry equal to the picked
// one (bit included) cannot be a newer page that happens to look the same.
//
// One class, six files by concern: pool.cc (areas, store/load/invalidate), pool_ephemeral.cc
// (cleancache ops, eviction of ephemeral units), pool_writeback.cc (the protocol above, shutdown),
// pool_remote.cc (the remote tier's pick and finish),
// pool_compact.cc (compaction entry points, the handle resolver), pool_stats.cc (counters in
// TMEM_STATS order, then the allocator's).
#ifndef TMEM_POOL_H
#define TMEM_POOL_H

#include <cstddef>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocator.h"
#include "arena.h"
#include "area_index.h"
#include "codec.h"
#include "entry_lru.h"
#include "eph_index.h"
#include "page_seal.h"
#include "stats.h"

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
  // zswap's accept_threshold_percent: once a store found the pool at its cap, stores needing
  // pool memory are refused (kRejectPoolFull) until the pool is below this share of the cap.
  uint32_t accept_threshold_percent = 90;
  // Ignore ephemeral puts of pages that were never active (cleancache's wasActive hint).
  bool ignore_nonactive_puts = false;
  AllocatorKind allocator = AllocatorKind::kZsmalloc;
  // Compact classes over the allocator's fragmentation threshold at the end of operations that
  // free objects. Off: only writeback and compact() compact (the bench measures compact() so).
  bool auto_compact = true;
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
  kRejectPoolFull = -5,  // the pool was full and is not yet below the accept threshold
};

enum class PoolError {
  kOk,
  kBadType,      // area type outside 0..kMaxAreas-1
  kNoArea,       // area not initialised
  kBadOffset,    // offset >= area pages
  kAreaExists,   // init of an initialised area
  kBadPages,     // area of zero pages
  kNoMemory,     // native memory for the area index could not be allocated
  kNoEphPool,    // no such ephemeral (cleancache) pool
};

class Pool final : private HandleResolver {
 public:
  static constexpr uint32_t kMaxAreas = 32;

  explicit Pool(const PoolOptions& options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // Reserves the arena and allocator metadata. False if the address space is not available.
  bool init();
  const char* allocator_name() const { return alloc_->name(); }

  // `seals`: where writeback records each page's checksum (and encrypts it), see page_seal.h; its
  // arrays must stay valid until invalidate_area(type) returns. The N-API layer always gives one;
  // the default (no table) leaves pages unsealed, for unit tests of the pool alone.
  PoolError init_area(uint32_t type, uint32_t pages, int fd, const SealTable& seals = SealTable());
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

  // ---- ephemeral pool (cleancache backend ops; key = six u32 words, copied when kept) ----
  // A new private pool: the lowest free id.
  uint32_t eph_init_fs();
  // The pool of `uuid`, created (lowest free id) on its first call; each call is one user.
  uint32_t eph_init_shared_fs(const std::string& uuid);
  // Fills `into` on a hit. `exclusive` (private pools) drops the page after the copy; otherwise its
  // frame becomes the most recently used. A page that fails to decompress is dropped: a miss.
  PoolError eph_get(uint32_t pool, const uint32_t* key, uint32_t index, uint8_t* into, bool exclusive, bool* hit);
  // Drops any older copy, then keeps the page if it can (it may be dropped: see above).
  PoolError eph_put(uint32_t pool, const uint32_t* key, uint32_t index, const uint8_t* page, bool was_active);
  // Invalidations of unknown pools do nothing.
  void eph_invalidate_page(uint32_t pool, const uint32_t* key, uint32_t index);
  void eph_invalidate_inode(uint32_t pool, const uint32_t* key);
  // Drops one user of the pool; with the last, its pages go and its id is free again.
  void eph_invalidate_fs(uint32_t pool);

  // Makes room: first evicts the units of least recently used ephemeral pages (no I/O), then
  // compacts, then writes up to the rest of max_pages least recently used persistent pages back
  // to their swap files, frees them and compacts again; returns the ephemeral pages dropped plus
  // the persistent pages written back. Blocks on I/O without holding the mutex; safe on any thread
  // and concurrently with every other operation. 0 after shutdown().
  uint32_t writeback(uint32_t max_pages);
  // ---- remote tier (pool_remote.cc): one batch at a time, both calls on the JS thread ----
  // Picks up to `max` coldest persistent objects off the LRU (second chance, as writeback), copies
  // each one's stored bytes to payloads + i * 4096 with its length, area type and offset, and
  // marks it remote picked. 0 when a batch is already picked and not finished.
  uint32_t remote_pick(uint32_t max, uint8_t* payloads, uint32_t* lengths, uint32_t* types, uint32_t* offsets);
  // Ends the picked batch: an entry still as picked whose ok[i] is 1 is dropped (the page is now
  // remote: committed[i] = 1), one whose ok[i] is 0 goes back to the cold end of the LRU. An entry
  // stored over, invalidated or exclusively loaded meanwhile is left alone (committed[i] = 0: the
  // remote copy, if any, is stale). Returns the pages committed.
  uint32_t remote_finish(uint32_t n, const uint8_t* ok, uint8_t* committed);
  // Compaction on demand: every size class that can give back a frame. Returns frames released.
  uint32_t compact();
  // Frame bytes in use; lock-free, may lag a concurrent operation.
  uint64_t pool_bytes() const { return pool_bytes_.load(std::memory_order_relaxed); }
  // pwrite/pwritev calls made by writeback so far (for tests of run coalescing).
  uint64_t write_calls() const { return write_calls_.load(std::memory_order_relaxed); }
  // Times a mutation had to wait for a writeback batch (for tests of the race protocol).
  uint64_t writeback_waits() const { return writeback_waits_.load(std::memory_order_relaxed); }
  // Refuses new writeback batches and waits for the running ones to finish. Idempotent.
  void shutdown();
  ~Pool() { shutdown(); }

  // Counter names: TMEM_STATS, then the allocator's own (its directory only). Fixed after init().
  const std::vector<std::string>& stat_names() const { return stat_names_; }
  // Fills out[0..stat_names().size()) in that order.
  void stats(double* out);
  // What the persistent pool holds for area `type` now: pages (same-filled included) and the sum
  // of their stored lengths (compressed length; 4096 for a raw page, 0 for a same-filled one).
  // Pages under writeback count until the batch drops them. An uninitialised area gives zeros.
  PoolError area_stats(uint32_t type, uint64_t* pages, uint64_t* bytes);

 private:
  struct Area {
    AreaIndex index;
    int fd = -1;            // the swap file, target of writeback
    SealTable seals;        // per-slot checksums (and key) of the pages written to it
    uint32_t inflight = 0;  // pages of this area in running writeback batches
    bool draining = false;  // invalidate_area is waiting for them: pick no more
  };
  struct Picked {
    uint64_t entry;  // the entry as picked, without the under-writeback and referenced bits
    uint32_t offset;
    uint8_t type;
    int fd;
  };
  using Lock = std::unique_lock<std::mutex>;

  // Waits (mutex released) while the entry at (type, offset) is under writeback; returns it then.
  // The area may have been invalidated meanwhile by another thread: 0 then, and *gone is set.
  uint64_t settled(Lock& lock, uint32_t type, uint32_t offset, bool* gone);
  // Step 1 of writeback; returns pages picked into picks/pages (bounce: a page of scratch).
  uint32_t pick_locked(uint32_t max_pages, Picked* picks, uint8_t* pages, uint8_t* bounce);
  // Writeback batches' buffers, kept between batches (at most kSpareBuffers, freed by shutdown()).
  struct SpareBuffer {
    void* mem;
    size_t bytes;
  };
  static constexpr size_t kSpareBuffers = 2;
  void* take_batch_buffer(size_t bytes);
  void give_batch_buffer(void* mem, size_t bytes);
  // What happened to a picked page in step 2.
  enum : uint8_t { kNotTried = 0, kWritten = 1, kFailed = 2 };
  // Step 3 for one batch; returns the pages written back.
  uint32_t finish_locked(uint32_t n, const Picked* picks, const uint8_t* outcome);
  // HandleResolver, for compaction: the owner in an object's header leads to its index entry.
  Handle handle_of(AllocClass cls, const uint8_t* header) override;
  // Compaction at the end of an operation, when the allocator asks for it.
  void auto_compact() {
    if (options_.auto_compact && alloc_->wants_compaction()) alloc_->compact(CompactMode::kAuto, *this);
  }
  void publish_size() {
    pool_bytes_.store(uint64_t{arena_.frames_in_use()} * kPageSize, std::memory_order_relaxed);
  }

  // Checks type, area and every offset; the caller holds the lock.
  PoolError check(uint32_t type, const uint32_t* offsets, size_t n) const;
  int store_locked(Lock& lock, uint32_t type, uint32_t offset, const uint8_t* page);
  bool load_locked(Lock& lock, uint32_t type, uint32_t offset, uint8_t* into, bool exclusive);
  void invalidate_locked(Lock& lock, uint32_t type, uint32_t offset);
  // Releases what an entry owns and takes it out of the gauges; `in_lru`: its object is on the
  // persistent LRU (false only for entries picked by a writeback batch).
  void drop_entry(uint64_t entry, bool in_lru = true);
  // Places `len` bytes as an object and indexes it; a StoreStatus (kRejectAllocFail on failure).
  int place(uint32_t type, uint32_t offset, const uint8_t* data, uint32_t len, EntryKind kind);

  struct EphPool {
    uint32_t users = 0;  // 0: the id is free
    bool shared = false;
    std::string uuid;
  };
  bool eph_pool_ok(uint32_t pool) const { return pool < eph_pools_.size() && eph_pools_[pool].users > 0; }
  uint32_t eph_add_pool(bool shared, const std::string& uuid);
  // The part of eph_put after the older copy is gone: keeps the page if it can.
  void eph_keep(uint32_t pool, const uint32_t* key, uint32_t index, const uint8_t* page);
  // Drops an ephemeral entry: frees its object, removes it from the index.
  void eph_drop(uint32_t e);
  uint64_t eph_drop_inode(uint32_t ino);
  // Evicts every page sharing the unit of the least recently used ephemeral page (there must be
  // one); returns the pages dropped.
  uint32_t evict_eph_unit(bool for_persistent);
  // alloc that eats ephemeral units, oldest first, while no frame can be had.
  AllocStatus alloc_evicting(uint32_t len, AllocClass cls, Handle* out);
  uint64_t class_frames(AllocClass cls) const;

  const PoolOptions options_;
  const uint64_t accept_bytes_;  // below this, a full pool accepts stores again
  std::mutex mu_;
  std::condition_variable settled_cv_;  // a writeback batch finished
  std::atomic<uint64_t> pool_bytes_{0};
  std::atomic<uint64_t> write_calls_{0};
  std::atomic<uint64_t> writeback_waits_{0};
  bool reached_full_ = false;
  bool closed_ = false;
  uint32_t active_batches_ = 0;
  Arena arena_;
  std::unique_ptr<Allocator> alloc_;
  EntryLru pers_lru_;  // persistent entries not in a writeback batch
  EntryLru eph_lru_;
  std::vector<std::string> stat_names_;
  std::vector<SpareBuffer> spare_buffers_;
  std::vector<Picked> remote_picks_;  // the remote batch picked and not yet finished
  Codec codec_;
  alignas(16) uint8_t bounce_[kPageSize];  // a straddling object's copy, for loads
  Area areas_[kMaxAreas];
  EphIndex eph_;
  std::vector<EphPool> eph_pools_;
  std::unordered_map<std::string, uint32_t> eph_uuids_;

  // Gauges.
  uint64_t stored_pages_ = 0;
  uint64_t same_filled_pages_ = 0;
  uint64_t raw_pages_ = 0;
  uint64_t object_pages_ = 0;  // pages with an allocator object (compressed or raw)
  uint64_t compressed_bytes_ = 0;
  uint64_t outstanding_writeback_ = 0;  // pages picked by running batches
  // Monotonic event counters.
  uint64_t duplicate_entry_ = 0;
  uint64_t reject_compress_poor_ = 0;
  uint64_t reject_mean_compress_poor_ = 0;
  uint64_t reject_compress_fail_ = 0;
  uint64_t reject_alloc_fail_ = 0;
  uint64_t pool_limit_hit_ = 0;
  uint64_t reject_reclaim_fail_ = 0;
  uint64_t written_back_ = 0;
  uint64_t decompress_fail_ = 0;
  uint64_t loads_ = 0;
  uint64_t stores_ = 0;
  uint64_t invalidates_ = 0;
  uint64_t evicted_eph_frames_ = 0;
  uint64_t evicted_eph_pages_ = 0;
  uint64_t pers_ate_eph_ = 0;
  uint64_t eph_nonactive_ignored_ = 0;
  uint64_t eph_puts_ = 0;
  uint64_t eph_gets_ = 0;
  uint64_t eph_invalidates_ = 0;
};

}  // namespace tmem

#endif
