// The pool's counters exported in TMEM_STATS order (stats.h), then the allocator's own, for debugfs
// and pool.stats(). Kept apart from the operations so that adding a counter touches stats.h and
// this file only.
#include "pool.h"

namespace tmem {

void Pool::stats(double* out) {
  Lock lock(mu_);
  AllocatorStats z;
  alloc_->stats(&z);
  // Every byte of native bookkeeping outside the arena's frames: the allocator's (handle table,
  // zspage descriptors or frame headers, class tables), the arena's returned-frame bitmap, the
  // index leaves and top arrays, the ephemeral index. (The pool object's fixed working buffers,
  // the LZ4 state and scratch pages, are not bookkeeping of what is stored.)
  uint64_t metadata = z.metadata_bytes + arena_.metadata_bytes() + eph_.metadata_bytes();
  for (const Area& area : areas_) metadata += area.index.metadata_bytes();

  auto set = [out](stat::Id s, uint64_t v) { out[s] = static_cast<double>(v); };
  set(stat::kStoredPages, stored_pages_);
  set(stat::kPoolTotalSize, arena_.frames_in_use() * uint64_t{kPageSize});
  set(stat::kPoolPages, arena_.frames_in_use());
  set(stat::kSameFilledPages, same_filled_pages_);
  set(stat::kDuplicateEntry, duplicate_entry_);
  set(stat::kRejectCompressPoor, reject_compress_poor_);
  set(stat::kRejectMeanCompressPoor, reject_mean_compress_poor_);
  set(stat::kRejectCompressFail, reject_compress_fail_);
  set(stat::kRejectAllocFail, reject_alloc_fail_);
  set(stat::kPoolLimitHit, pool_limit_hit_);
  set(stat::kDecompressFail, decompress_fail_);
  set(stat::kStoredIncompressiblePages, raw_pages_);
  set(stat::kCompressedBytes, compressed_bytes_);
  set(stat::kPersPageframes, z.class_frames[static_cast<int>(AllocClass::kPersistent)]);
  set(stat::kEphPageframes, z.class_frames[static_cast<int>(AllocClass::kEphemeral)]);
  set(stat::kRejectReclaimFail, reject_reclaim_fail_);
  set(stat::kWrittenBackPages, written_back_);
  set(stat::kEvictedEphPageframes, evicted_eph_frames_);
  set(stat::kPersZpages, stored_pages_);
  set(stat::kEphZpages, eph_.pages());
  set(stat::kPersZbytes, z.class_object_bytes[static_cast<int>(AllocClass::kPersistent)]);
  set(stat::kEphZbytes, z.class_object_bytes[static_cast<int>(AllocClass::kEphemeral)]);
  set(stat::kEvictedEphZpages, evicted_eph_pages_);
  set(stat::kPersAteEph, pers_ate_eph_);
  set(stat::kEphNonactivePutsIgnored, eph_nonactive_ignored_);
  set(stat::kEphPuts, eph_puts_);
  set(stat::kEphGets, eph_gets_);
  set(stat::kEphInvalidates, eph_invalidates_);
  set(stat::kOutstandingWritebackPages, outstanding_writeback_);
  set(stat::kMetadataBytes, metadata);
  out[stat::kMeanCompressedSize] =
      object_pages_ == 0 ? 0.0 : static_cast<double>(compressed_bytes_) / static_cast<double>(object_pages_);
  set(stat::kLoads, loads_);
  set(stat::kStores, stores_);
  set(stat::kInvalidates, invalidates_);
  set(stat::kArenaCommittedBytes, arena_.committed_bytes());
  set(stat::kArenaFreeFrames, arena_.free_frames());
  set(stat::kArenaReturnedFrames, arena_.returned_frames());
  alloc_->stat_values(out + kStatCount);
}

}  // namespace tmem
