// The persistent (frontswap) side of the pool: construction, swap areas, store/load/invalidate
// and their batch forms, with the compress_poor rules and the accept-threshold hysteresis. The
// ephemeral pool, writeback and the counters' export live in pool_ephemeral.cc, pool_writeback.cc
// and pool_stats.cc; the class and the race protocol are described in pool.h.
#include "pool.h"

#include <cstring>

namespace tmem {

Pool::Pool(const PoolOptions& options)
    : options_(options), accept_bytes_(options.max_pool_bytes / 100 * options.accept_threshold_percent +
                                       options.max_pool_bytes % 100 * options.accept_threshold_percent / 100) {}

bool Pool::init() {
  uint64_t frames = options_.max_pool_bytes / kPageSize;
  if (frames > Arena::kMaxFrames || !arena_.init(static_cast<uint32_t>(frames))) return false;
  alloc_ = make_allocator(options_.allocator, &arena_);
  if (alloc_ == nullptr || !alloc_->init()) return false;
  stat_names_.assign(std::begin(kStatNames), std::end(kStatNames));
  for (std::string& name : alloc_->stat_names()) stat_names_.push_back(std::move(name));
  return true;
}

PoolError Pool::init_area(uint32_t type, uint32_t pages, int fd, const SealTable& seals) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type >= kMaxAreas) return PoolError::kBadType;
  if (pages == 0) return PoolError::kBadPages;
  Area& area = areas_[type];
  if (area.index.active()) return PoolError::kAreaExists;
  if (!area.index.init(pages)) return PoolError::kNoMemory;
  area.fd = fd;
  area.seals = seals;
  return PoolError::kOk;
}

PoolError Pool::invalidate_area(uint32_t type) {
  Lock lock(mu_);
  PoolError err = check(type, nullptr, 0);
  if (err != PoolError::kOk) return err;
  Area& area = areas_[type];
  // No new picks in the area, and none of its pages in flight once this returns: the caller may
  // close the swap file next (swapoff), and a batch must not pwrite to a closed (or reused) fd.
  area.draining = true;
  while (area.inflight > 0) settled_cv_.wait(lock);
  area.draining = false;
  if (!area.index.active()) return PoolError::kNoArea;  // another thread got there first
  area.index.drain([this](uint32_t, uint64_t entry) { drop_entry(entry); });
  area.index.reset();
  area.fd = -1;
  area.seals.clear();
  invalidates_++;
  auto_compact();
  publish_size();
  return PoolError::kOk;
}

PoolError Pool::area_stats(uint32_t type, uint64_t* pages, uint64_t* bytes) {
  if (type >= kMaxAreas) return PoolError::kBadType;
  std::lock_guard<std::mutex> lock(mu_);
  // The index keeps both as entries come and go (set/take/drain), so every path that adds or
  // drops a page (stores, exclusive loads, invalidations, writeback, invalidate_area) is counted.
  const AreaIndex& index = areas_[type].index;
  *pages = index.entries();
  *bytes = index.bytes();
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

void Pool::drop_entry(uint64_t entry, bool in_lru) {
  stored_pages_--;
  if (Entry::kind(entry) == EntryKind::kSameFilled) {
    same_filled_pages_--;
    return;
  }
  if (Entry::kind(entry) == EntryKind::kRaw) raw_pages_--;
  object_pages_--;
  compressed_bytes_ -= Entry::length(entry);
  const Handle h = Entry::payload(entry);
  // A remote-picked entry left the LRU when it was picked (pool_remote.cc).
  if (in_lru && !Entry::remote_picked(entry)) pers_lru_.unlink(*alloc_, h);
  alloc_->free(h);
}

int Pool::place(uint32_t type, uint32_t offset, const uint8_t* data, uint32_t len, EntryKind kind) {
  Handle handle;
  AllocStatus st = alloc_evicting(len, AllocClass::kPersistent, &handle);
  if (st != AllocStatus::kOk) {
    // len never exceeds a page, so the only failure is the arena at its cap (or the OS refusing
    // to commit more, which is the same situation from the caller's point of view). From now on
    // stores are refused until the pool is back under the accept threshold (store_locked).
    reject_alloc_fail_++;
    pool_limit_hit_++;
    reached_full_ = true;
    return kRejectAllocFail;
  }
  if (!areas_[type].index.set(offset, Entry::make(kind, len, handle))) {
    alloc_->free(handle);
    reject_alloc_fail_++;
    return kRejectAllocFail;
  }
  alloc_->write(handle, data, len);
  header::set_owner(alloc_->header(handle), Owner{static_cast<uint8_t>(type), offset});
  pers_lru_.push_head(*alloc_, handle);
  stored_pages_++;
  object_pages_++;
  compressed_bytes_ += len;
  if (kind == EntryKind::kRaw) raw_pages_++;
  return kind == EntryKind::kRaw ? kStoredRaw : kStoredCompressed;
}

uint64_t Pool::settled(Lock& lock, uint32_t type, uint32_t offset, bool* gone) {
  const AreaIndex& index = areas_[type].index;
  uint64_t e = index.get(offset);
  while (Entry::under_writeback(e)) {
    writeback_waits_.fetch_add(1, std::memory_order_relaxed);
    settled_cv_.wait(lock);
    // Only possible with several mutating threads (JS has one): the area went while we waited.
    if (!index.active() || offset >= index.pages()) {
      *gone = true;
      return 0;
    }
    e = index.get(offset);
  }
  return e;
}

int Pool::store_locked(Lock& lock, uint32_t type, uint32_t offset, const uint8_t* page) {
  stores_++;
  AreaIndex& index = areas_[type].index;

  // The old copy goes first, whatever happens to the new one: a refused store of a held offset
  // must never leave stale data loadable (frontswap's contract), and its space may be needed.
  // If it is being written back, wait for that to end first: a refused store sends the new page
  // to the file, and the batch's older pwrite must not land after it.
  bool gone = false;
  if (settled(lock, type, offset, &gone) != 0) {
    uint64_t old = index.take(offset);
    duplicate_entry_++;
    drop_entry(old);
  }
  if (gone) return kRejectAllocFail;

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

  // zswap's hysteresis: once full, refuse until the pool is back under the accept threshold
  // (writeback or invalidations make room), rather than accepting one page per freed frame;
  // unless ephemeral frames are there to be eaten (room that costs no I/O).
  if (reached_full_) {
    if (uint64_t{arena_.frames_in_use()} * kPageSize >= accept_bytes_) {
      if (eph_lru_.count() == 0) {
        pool_limit_hit_++;
        return kRejectPoolFull;
      }
    } else {
      reached_full_ = false;
    }
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

bool Pool::load_locked(Lock& lock, uint32_t type, uint32_t offset, uint8_t* into, bool exclusive) {
  loads_++;
  AreaIndex& index = areas_[type].index;
  uint64_t entry;
  if (exclusive) {
    // An exclusive load frees the entry (and the caller the slot, which may be reused and written
    // to the file): wait for a batch writing it back. A written-back page then misses, and the
    // caller reads it from the file. A plain load hits the pool copy, intact until the batch ends.
    bool gone = false;
    entry = settled(lock, type, offset, &gone);
  } else {
    entry = index.get(offset);
  }
  switch (Entry::kind(entry)) {
    case EntryKind::kEmpty:
      return false;
    case EntryKind::kSameFilled:
      Codec::fill(into, Entry::payload(entry));
      break;
    case EntryKind::kRaw: {
      // A raw page is one unsplit object (it takes a frame of its own), so this is a pointer.
      const uint8_t* src = alloc_->map(Entry::payload(entry), kPageSize, into);
      if (src != into) std::memcpy(into, src, kPageSize);
      break;
    }
    case EntryKind::kCompressed:
      if (!Codec::decompress(alloc_->map(Entry::payload(entry), Entry::length(entry), bounce_), Entry::length(entry),
                             into)) {
        // Only possible if the arena was corrupted. The entry is kept (not consumed even by an
        // exclusive load) so that the layer above can decide what to do with the slot.
        decompress_fail_++;
        return false;
      }
      break;
    default:
      return false;
  }
  if (exclusive) {
    index.take(offset);
    drop_entry(entry);
  } else if (!Entry::referenced(entry) && Entry::kind(entry) != EntryKind::kSameFilled) {
    index.set_flags(offset, Entry::kReferenced);  // second chance for writeback
  }
  return true;
}

void Pool::invalidate_locked(Lock& lock, uint32_t type, uint32_t offset) {
  invalidates_++;
  // The slot is being freed and may be reused at once: wait for a batch writing it back.
  bool gone = false;
  if (settled(lock, type, offset, &gone) == 0) return;
  drop_entry(areas_[type].index.take(offset));
}

PoolError Pool::store(uint32_t type, uint32_t offset, const uint8_t* page, int* status) {
  Lock lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) {
    *status = store_locked(lock, type, offset, page);
    auto_compact();
    publish_size();
  }
  return err;
}

PoolError Pool::store_batch(uint32_t type, const uint32_t* offsets, size_t n, const uint8_t* pages,
                            int8_t* results, uint32_t* stored) {
  Lock lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  uint32_t count = 0;
  for (size_t i = 0; i < n; i++) {
    int st = store_locked(lock, type, offsets[i], pages + i * kPageSize);
    results[i] = static_cast<int8_t>(st);
    if (st > 0) count++;
  }
  *stored = count;
  auto_compact();
  publish_size();
  return PoolError::kOk;
}

PoolError Pool::load(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive, bool* hit) {
  Lock lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) {
    *hit = load_locked(lock, type, offset, into, exclusive);
    if (exclusive) {
      auto_compact();
      publish_size();
    }
  }
  return err;
}

PoolError Pool::load_batch(uint32_t type, const uint32_t* offsets, size_t n, uint8_t* into, uint8_t* hits,
                           bool exclusive, uint32_t* hit_count) {
  Lock lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  uint32_t count = 0;
  for (size_t i = 0; i < n; i++) {
    bool hit = load_locked(lock, type, offsets[i], into + i * kPageSize, exclusive);
    hits[i] = hit ? 1 : 0;
    if (hit) count++;
  }
  *hit_count = count;
  if (exclusive) {
    auto_compact();
    publish_size();
  }
  return PoolError::kOk;
}

PoolError Pool::invalidate_page(uint32_t type, uint32_t offset) {
  Lock lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) {
    invalidate_locked(lock, type, offset);
    auto_compact();
    publish_size();
  }
  return err;
}

PoolError Pool::invalidate_batch(uint32_t type, const uint32_t* offsets, size_t n) {
  Lock lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  for (size_t i = 0; i < n; i++) invalidate_locked(lock, type, offsets[i]);
  auto_compact();
  publish_size();
  return PoolError::kOk;
}

}  // namespace tmem
