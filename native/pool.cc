#include "pool.h"

#include <cstring>

namespace tmem {

Pool::Pool(const PoolOptions& options) : options_(options) {}

bool Pool::init() {
  uint64_t frames = options_.max_pool_bytes / kPageSize;
  if (frames > Arena::kMaxFrames) return false;
  return arena_.init(static_cast<uint32_t>(frames)) && zbud_.init();
}

PoolError Pool::init_area(uint32_t type, uint32_t pages, int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type >= kMaxAreas) return PoolError::kBadType;
  if (pages == 0) return PoolError::kBadPages;
  Area& area = areas_[type];
  if (area.index.active()) return PoolError::kAreaExists;
  if (!area.index.init(pages)) return PoolError::kNoMemory;
  area.fd = fd;
  return PoolError::kOk;
}

PoolError Pool::invalidate_area(uint32_t type) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, nullptr, 0);
  if (err != PoolError::kOk) return err;
  Area& area = areas_[type];
  area.index.drain([this](uint32_t, uint64_t entry) { drop_entry(entry); });
  area.index.reset();
  area.fd = -1;
  invalidates_++;
  return PoolError::kOk;
}

PoolError Pool::check(uint32_t type, const uint32_t* offsets, size_t n) const {
  if (type >= kMaxAreas) return PoolError::kBadType;
  const AreaIndex& index = areas_[type].index;
  if (!index.active()) return PoolError::kNoArea;
  for (size_t i = 0; i < n; i++) {
    if (offsets[i] >= index.pages()) return PoolError::kBadOffset;
  }
  return PoolError::kOk;
}

void Pool::drop_entry(uint64_t entry) {
  stored_pages_--;
  switch (Entry::kind(entry)) {
    case EntryKind::kSameFilled:
      same_filled_pages_--;
      return;
    case EntryKind::kRaw:
      raw_pages_--;
      break;
    case EntryKind::kCompressed:
    case EntryKind::kEmpty:
      break;
  }
  object_pages_--;
  compressed_bytes_ -= Entry::length(entry);
  zbud_.free(Entry::payload(entry));
}

int Pool::place(uint32_t type, uint32_t offset, const uint8_t* data, uint32_t len, EntryKind kind) {
  Handle handle;
  AllocStatus st = zbud_.alloc(len, AllocClass::kPersistent, OwnerRef{static_cast<uint8_t>(type), offset},
                               &handle);
  if (st != AllocStatus::kOk) {
    // len never exceeds a page, so the only failure is the arena at its cap (or the OS refusing
    // to commit more, which is the same situation from the caller's point of view).
    reject_alloc_fail_++;
    pool_limit_hit_++;
    return kRejectAllocFail;
  }
  if (!areas_[type].index.set(offset, Entry::make(kind, len, handle))) {
    zbud_.free(handle);
    reject_alloc_fail_++;
    return kRejectAllocFail;
  }
  std::memcpy(zbud_.map(handle), data, len);
  stored_pages_++;
  object_pages_++;
  compressed_bytes_ += len;
  if (kind == EntryKind::kRaw) raw_pages_++;
  return kind == EntryKind::kRaw ? kStoredRaw : kStoredCompressed;
}

int Pool::store_locked(uint32_t type, uint32_t offset, const uint8_t* page) {
  stores_++;
  AreaIndex& index = areas_[type].index;

  // The old copy goes first, whatever happens to the new one: a refused store of a held offset
  // must never leave stale data loadable (frontswap's contract), and its space may be needed.
  uint64_t old = index.take(offset);
  if (old != 0) {
    duplicate_entry_++;
    drop_entry(old);
  }

  uint32_t word;
  if (Codec::same_filled(page, &word)) {
    if (!index.set(offset, Entry::make(EntryKind::kSameFilled, 0, word))) {
      reject_alloc_fail_++;
      return kRejectAllocFail;
    }
    stored_pages_++;
    same_filled_pages_++;
    return kStoredSameFilled;
  }

  uint32_t clen = codec_.compress(page);
  if (clen == 0) {
    reject_compress_fail_++;
    return kRejectCompressFail;
  }

  // zcache's compress_poor: an absolute cap, plus a lower cap that only applies while the mean
  // of what is stored is already above it, so a few poor pages are let in but the pool as a
  // whole keeps its density. A "compressed" page no smaller than the page itself is always poor.
  if (clen > options_.max_compressed_bytes || clen >= kPageSize) {
    if (options_.store_incompressible) return place(type, offset, page, kPageSize, EntryKind::kRaw);
    reject_compress_poor_++;
    return kRejectCompressPoor;
  }
  const uint64_t max_mean = options_.max_mean_compressed_bytes;
  if (clen > max_mean && compressed_bytes_ > max_mean * object_pages_) {
    reject_compress_poor_++;
    reject_mean_compress_poor_++;
    return kRejectMeanCompressPoor;
  }
  return place(type, offset, codec_.scratch(), clen, EntryKind::kCompressed);
}

bool Pool::load_locked(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive) {
  loads_++;
  AreaIndex& index = areas_[type].index;
  uint64_t entry = index.get(offset);
  switch (Entry::kind(entry)) {
    case EntryKind::kEmpty:
      return false;
    case EntryKind::kSameFilled:
      Codec::fill(into, Entry::payload(entry));
      break;
    case EntryKind::kRaw:
      std::memcpy(into, zbud_.map(Entry::payload(entry)), kPageSize);
      break;
    case EntryKind::kCompressed:
      if (!Codec::decompress(zbud_.map(Entry::payload(entry)), Entry::length(entry), into)) {
        // Only possible if the arena was corrupted. The entry is kept (not consumed even by an
        // exclusive load) so that the layer above can decide what to do with the slot.
        decompress_fail_++;
        return false;
      }
      break;
  }
  if (exclusive) {
    index.take(offset);
    drop_entry(entry);
  } else if (Entry::kind(entry) != EntryKind::kSameFilled) {
    zbud_.touch(Entry::payload(entry));
  }
  return true;
}

void Pool::invalidate_locked(uint32_t type, uint32_t offset) {
  invalidates_++;
  uint64_t entry = areas_[type].index.take(offset);
  if (entry != 0) drop_entry(entry);
}

PoolError Pool::store(uint32_t type, uint32_t offset, const uint8_t* page, int* status) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) *status = store_locked(type, offset, page);
  return err;
}

PoolError Pool::store_batch(uint32_t type, const uint32_t* offsets, size_t n, const uint8_t* pages,
                            int8_t* results, uint32_t* stored) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  uint32_t count = 0;
  for (size_t i = 0; i < n; i++) {
    int st = store_locked(type, offsets[i], pages + i * kPageSize);
    results[i] = static_cast<int8_t>(st);
    if (st > 0) count++;
  }
  *stored = count;
  return PoolError::kOk;
}

PoolError Pool::load(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive, bool* hit) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) *hit = load_locked(type, offset, into, exclusive);
  return err;
}

PoolError Pool::load_batch(uint32_t type, const uint32_t* offsets, size_t n, uint8_t* into, uint8_t* hits,
                           bool exclusive, uint32_t* hit_count) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  uint32_t count = 0;
  for (size_t i = 0; i < n; i++) {
    bool hit = load_locked(type, offsets[i], into + i * kPageSize, exclusive);
    hits[i] = hit ? 1 : 0;
    if (hit) count++;
  }
  *hit_count = count;
  return PoolError::kOk;
}

PoolError Pool::invalidate_page(uint32_t type, uint32_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) invalidate_locked(type, offset);
  return err;
}

PoolError Pool::invalidate_batch(uint32_t type, const uint32_t* offsets, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  for (size_t i = 0; i < n; i++) invalidate_locked(type, offsets[i]);
  return PoolError::kOk;
}

void Pool::stats(double* out) {
  std::lock_guard<std::mutex> lock(mu_);
  AllocatorStats z;
  zbud_.stats(&z);
  uint64_t metadata = z.metadata_bytes + arena_.metadata_bytes();
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
  // Reclaim, writeback and the ephemeral pool do not exist yet; their counters stay at zero.
  set(stat::kRejectReclaimFail, 0);
  set(stat::kWrittenBackPages, 0);
  set(stat::kEvictedEphPageframes, 0);
  set(stat::kOutstandingWritebackPages, 0);
  set(stat::kMetadataBytes, metadata);
  out[stat::kMeanCompressedSize] =
      object_pages_ == 0 ? 0.0 : static_cast<double>(compressed_bytes_) / static_cast<double>(object_pages_);
  set(stat::kLoads, loads_);
  set(stat::kStores, stores_);
  set(stat::kInvalidates, invalidates_);
  set(stat::kZbudPages, z.frames);
  set(stat::kZbudBuddied, z.buddied);
  set(stat::kZbudUnbuddied, z.unbuddied);
  set(stat::kZbudZbytes, z.object_bytes);
  set(stat::kArenaCommittedBytes, arena_.committed_bytes());
  set(stat::kArenaFreeFrames, arena_.free_frames());
  set(stat::kArenaReturnedFrames, arena_.returned_frames());
}

}  // namespace tmem
