// The pool's counters, in the order Pool::stats() writes them and under their debugfs names
// (kernel names where the kernel has one). JS reads them all with one call into a Float64Array.
#ifndef TMEM_STATS_H
#define TMEM_STATS_H

namespace tmem {

// X(enumerator, "dir/name"). The JS side gets the order from statNames at runtime.
//
// Gauges (current state): stored_pages (persistent pages of every kind; = pers_zpages),
// pool_total_size and pool_pages (arena frames in use, both classes), same_filled_pages,
// stored_incompressible_pages (raw pages held), compressed_bytes (sum of stored persistent object
// lengths, raw pages count 4096), *_pageframes (frames per class), eph_zpages (ephemeral pages
// held, same-filled included), pers_zbytes/eph_zbytes (bytes of 64-byte chunks taken by each
// class's objects in the allocator: slots or chunks, headers and rounding included),
// outstanding_writeback_pages, metadata_bytes (every byte of native bookkeeping outside the arena:
// index leaves and top arrays, the allocator's handle table, descriptors or frame headers, the
// ephemeral index, the arena's returned-frame stack, the pool object), mean_compressed_size
// (compressed_bytes / persistent pages holding an object; same-filled pages excluded), arena/*.
// The allocator's own counters (zsmalloc/, z3fold/ or zbud/) follow these, after kCount.
// Everything else counts events since the pool was created: stores and loads count every call
// (per page in batches) whatever the outcome, invalidates counts page and area invalidations.
// The ephemeral (cleancache) pool has its own: eph_puts (every put), eph_gets (hits),
// eph_invalidates (pages dropped by invalidations), eph_nonactive_puts_ignored,
// evicted_eph_pageframes/evicted_eph_zpages (frames and their pages dropped to make room, by any
// allocation or by writeback), pers_ate_eph (those evicted for a persistent store). Ephemeral
// pages never count in stored_pages, compressed_bytes, the mean, reject_*, pool_limit_hit,
// written_back_pages, loads, stores or invalidates.
#define TMEM_STATS(X)                                                       \
  X(kStoredPages, "zcache/stored_pages")                                    \
  X(kPoolTotalSize, "zcache/pool_total_size")                               \
  X(kPoolPages, "zcache/pool_pages")                                        \
  X(kSameFilledPages, "zcache/same_filled_pages")                           \
  X(kDuplicateEntry, "zcache/duplicate_entry")                              \
  X(kRejectCompressPoor, "zcache/reject_compress_poor")                     \
  X(kRejectMeanCompressPoor, "zcache/reject_mean_compress_poor")            \
  X(kRejectCompressFail, "zcache/reject_compress_fail")                     \
  X(kRejectAllocFail, "zcache/reject_alloc_fail")                           \
  X(kRejectReclaimFail, "zcache/reject_reclaim_fail")                       \
  X(kPoolLimitHit, "zcache/pool_limit_hit")                                 \
  X(kWrittenBackPages, "zcache/written_back_pages")                         \
  X(kDecompressFail, "zcache/decompress_fail")                              \
  X(kStoredIncompressiblePages, "zcache/stored_incompressible_pages")       \
  X(kCompressedBytes, "zcache/compressed_bytes")                            \
  X(kPersPageframes, "zcache/pers_pageframes")                              \
  X(kEphPageframes, "zcache/eph_pageframes")                                \
  X(kEvictedEphPageframes, "zcache/evicted_eph_pageframes")                 \
  X(kPersZpages, "zcache/pers_zpages")                                      \
  X(kEphZpages, "zcache/eph_zpages")                                        \
  X(kPersZbytes, "zcache/pers_zbytes")                                      \
  X(kEphZbytes, "zcache/eph_zbytes")                                        \
  X(kEvictedEphZpages, "zcache/evicted_eph_zpages")                         \
  X(kPersAteEph, "zcache/pers_ate_eph")                                     \
  X(kEphNonactivePutsIgnored, "zcache/eph_nonactive_puts_ignored")          \
  X(kEphPuts, "zcache/eph_puts")                                            \
  X(kEphGets, "zcache/eph_gets")                                            \
  X(kEphInvalidates, "zcache/eph_invalidates")                              \
  X(kOutstandingWritebackPages, "zcache/outstanding_writeback_pages")       \
  X(kMetadataBytes, "zcache/metadata_bytes")                                \
  X(kMeanCompressedSize, "zcache/mean_compressed_size")                     \
  X(kLoads, "zcache/loads")                                                 \
  X(kStores, "zcache/stores")                                               \
  X(kInvalidates, "zcache/invalidates")                                     \
  X(kArenaCommittedBytes, "arena/committed_bytes")                          \
  X(kArenaFreeFrames, "arena/free_frames")                                  \
  X(kArenaReturnedFrames, "arena/returned_frames")

// In their own namespace: several counters share a name with the event they count.
namespace stat {
#define TMEM_STAT_ENUM(id, name) id,
enum Id : int { TMEM_STATS(TMEM_STAT_ENUM) kCount };
#undef TMEM_STAT_ENUM
}  // namespace stat

constexpr int kStatCount = stat::kCount;

#define TMEM_STAT_NAME(id, name) name,
inline constexpr const char* kStatNames[kStatCount] = {TMEM_STATS(TMEM_STAT_NAME)};
#undef TMEM_STAT_NAME

}  // namespace tmem

#endif
