// The pool's counters, in the order Pool::stats() writes them and under their debugfs names
// (kernel names where the kernel has one). JS reads them all with one call into a Float64Array.
#ifndef TMEM_STATS_H
#define TMEM_STATS_H

namespace tmem {

// X(enumerator, "dir/name"). Append only: the order is the contract with the JS side, which
// gets it from statNames at runtime.
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
  X(kOutstandingWritebackPages, "zcache/outstanding_writeback_pages")       \
  X(kMetadataBytes, "zcache/metadata_bytes")                                \
  X(kMeanCompressedSize, "zcache/mean_compressed_size")                     \
  X(kLoads, "zcache/loads")                                                 \
  X(kStores, "zcache/stores")                                               \
  X(kInvalidates, "zcache/invalidates")                                     \
  X(kZbudPages, "zbud/pages")                                               \
  X(kZbudBuddied, "zbud/buddied")                                           \
  X(kZbudUnbuddied, "zbud/unbuddied")                                       \
  X(kZbudZbytes, "zbud/zbytes")                                             \
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
