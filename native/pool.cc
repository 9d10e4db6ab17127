#include "pool.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace tmem {

Pool::Pool(const PoolOptions& options)
    : options_(options), accept_bytes_(options.max_pool_bytes / 100 * options.accept_threshold_percent +
                                       options.max_pool_bytes % 100 * options.accept_threshold_percent / 100) {}

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
  invalidates_++;
  publish_size();
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
  AllocStatus st = alloc_evicting(len, AllocClass::kPersistent, OwnerRef{static_cast<uint8_t>(type), offset},
                                  &handle);
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
      if (zbud_.lru_count(AllocClass::kEphemeral) == 0) {
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
    entry = index.get(offset) & ~Entry::kUnderWriteback;
  }
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
  publish_size();
  return PoolError::kOk;
}

PoolError Pool::load(uint32_t type, uint32_t offset, uint8_t* into, bool exclusive, bool* hit) {
  Lock lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) {
    *hit = load_locked(lock, type, offset, into, exclusive);
    if (exclusive) publish_size();
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
  if (exclusive) publish_size();
  return PoolError::kOk;
}

PoolError Pool::invalidate_page(uint32_t type, uint32_t offset) {
  Lock lock(mu_);
  PoolError err = check(type, &offset, 1);
  if (err == PoolError::kOk) {
    invalidate_locked(lock, type, offset);
    publish_size();
  }
  return err;
}

PoolError Pool::invalidate_batch(uint32_t type, const uint32_t* offsets, size_t n) {
  Lock lock(mu_);
  PoolError err = check(type, offsets, n);
  if (err != PoolError::kOk) return err;
  for (size_t i = 0; i < n; i++) invalidate_locked(lock, type, offsets[i]);
  publish_size();
  return PoolError::kOk;
}

// ---- ephemeral pool (pool.h) ----

AllocStatus Pool::alloc_evicting(uint32_t len, AllocClass cls, OwnerRef owner, Handle* out) {
  AllocStatus st = zbud_.alloc(len, cls, owner, out);
  while (st == AllocStatus::kNoMemory && zbud_.lru_count(AllocClass::kEphemeral) > 0) {
    evict_eph_frame(cls == AllocClass::kPersistent);
    st = zbud_.alloc(len, cls, owner, out);
  }
  return st;
}

uint32_t Pool::evict_eph_frame(bool for_persistent) {
  const uint32_t frame = zbud_.lru_tail(AllocClass::kEphemeral);
  // Ephemeral frames are never under reclaim (writeback walks the persistent LRU only).
  assert(frame != Zbud::kNil && !zbud_.under_reclaim(frame));
  const Zbud::FrameInfo info = zbud_.frame_info(frame);
  assert(info.cls == AllocClass::kEphemeral);
  uint32_t n = 0;
  for (uint32_t b = 0; b < 2; b++) {
    if (info.chunks[b] == 0) continue;
    eph_drop(info.owners[b].offset);  // the owner of an ephemeral object is its entry id
    n++;
  }
  evicted_eph_frames_++;
  evicted_eph_pages_ += n;
  if (for_persistent) pers_ate_eph_++;
  return n;
}

void Pool::eph_drop(uint32_t e) {
  const uint64_t v = eph_.value(e);
  if (Entry::kind(v) == EntryKind::kCompressed) zbud_.free(Entry::payload(v));
  eph_.remove_page(e);
}

uint64_t Pool::eph_drop_inode(uint32_t ino) {
  uint64_t n = 0;
  for (uint32_t e = eph_.first_page(ino); e != EphIndex::kNil;) {
    const uint32_t next = eph_.next_page(e);
    eph_drop(e);  // the inode goes with its last page; `next` is never touched after that
    n++;
    e = next;
  }
  return n;
}

uint32_t Pool::eph_add_pool(bool shared, const std::string& uuid) {
  uint32_t id = 0;
  while (id < eph_pools_.size() && eph_pools_[id].users > 0) id++;
  if (id == eph_pools_.size()) eph_pools_.emplace_back();
  EphPool& p = eph_pools_[id];
  p.users = 1;
  p.shared = shared;
  p.uuid = uuid;
  return id;
}

uint32_t Pool::eph_init_fs() {
  Lock lock(mu_);
  return eph_add_pool(false, std::string());
}

uint32_t Pool::eph_init_shared_fs(const std::string& uuid) {
  Lock lock(mu_);
  auto it = eph_uuids_.find(uuid);
  if (it != eph_uuids_.end()) {
    eph_pools_[it->second].users++;
    return it->second;
  }
  const uint32_t id = eph_add_pool(true, uuid);
  eph_uuids_.emplace(uuid, id);
  return id;
}

PoolError Pool::eph_get(uint32_t pool, const uint32_t* key, uint32_t index, uint8_t* into, bool exclusive,
                        bool* hit) {
  Lock lock(mu_);
  *hit = false;
  if (!eph_pool_ok(pool)) return PoolError::kNoEphPool;
  const uint32_t ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) return PoolError::kOk;
  const uint32_t e = eph_.find_page(ino, index);
  if (e == EphIndex::kNil) return PoolError::kOk;
  const uint64_t v = eph_.value(e);
  if (Entry::kind(v) == EntryKind::kSameFilled) {
    Codec::fill(into, Entry::payload(v));
  } else {
    const Handle h = Entry::payload(v);
    if (!Codec::decompress(zbud_.map(h), Entry::length(v), into)) {
      // A clean page can be read again from its file: drop it and miss rather than fail.
      decompress_fail_++;
      eph_drop(e);
      publish_size();
      return PoolError::kOk;
    }
    // Shared pools keep the page: its frame becomes the most recently used.
    if (!exclusive) zbud_.lru_to_head(Zbud::frame_of(h));
  }
  eph_gets_++;
  if (exclusive) {
    eph_drop(e);
    publish_size();
  }
  *hit = true;
  return PoolError::kOk;
}

PoolError Pool::eph_put(uint32_t pool, const uint32_t* key, uint32_t index, const uint8_t* page,
                        bool was_active) {
  Lock lock(mu_);
  if (!eph_pool_ok(pool)) return PoolError::kNoEphPool;
  eph_puts_++;
  // Coherency: whatever happens to the new page, the older copy is gone.
  uint32_t ino = eph_.find_inode(pool, key);
  if (ino != EphIndex::kNil) {
    const uint32_t e = eph_.find_page(ino, index);
    if (e != EphIndex::kNil) {
      eph_drop(e);
      publish_size();
    }
  }
  if (options_.ignore_nonactive_puts && !was_active) {
    eph_nonactive_ignored_++;
    return PoolError::kOk;
  }
  // Room in the index first, so that nothing can fail once a frame is taken. Short of memory for
  // it, the page is simply not kept.
  if (!eph_.reserve() || !eph_.reserve_pool(pool)) return PoolError::kOk;
  uint64_t value;
  Handle handle = 0;
  uint32_t word;
  if (Codec::same_filled(page, &word)) {
    value = Entry::make(EntryKind::kSameFilled, 0, word);
  } else {
    const uint32_t clen = codec_.compress(page);
    // compress_poor: not kept. Ephemeral pages are never stored raw, and the running-mean rule is
    // the persistent pool's (as in zcache).
    if (clen == 0 || clen > options_.max_compressed_bytes || clen >= kPageSize) return PoolError::kOk;
    // May evict ephemeral frames (never persistent ones); dropped when none is left to evict.
    if (alloc_evicting(clen, AllocClass::kEphemeral, OwnerRef{0, EphIndex::kNil}, &handle) != AllocStatus::kOk) {
      publish_size();
      return PoolError::kOk;
    }
    std::memcpy(zbud_.map(handle), codec_.scratch(), clen);
    value = Entry::make(EntryKind::kCompressed, clen, handle);
  }
  // Looked up again: an eviction above may have taken the inode's last page, and the inode with it.
  ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) ino = eph_.add_inode(pool, key);
  const uint32_t e = eph_.add_page(ino, index, value);
  if (Entry::kind(value) == EntryKind::kCompressed) zbud_.set_owner(handle, OwnerRef{0, e});
  publish_size();
  return PoolError::kOk;
}

void Pool::eph_invalidate_page(uint32_t pool, const uint32_t* key, uint32_t index) {
  Lock lock(mu_);
  if (!eph_pool_ok(pool)) return;
  const uint32_t ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) return;
  const uint32_t e = eph_.find_page(ino, index);
  if (e == EphIndex::kNil) return;
  eph_drop(e);
  eph_invalidates_++;
  publish_size();
}

void Pool::eph_invalidate_inode(uint32_t pool, const uint32_t* key) {
  Lock lock(mu_);
  if (!eph_pool_ok(pool)) return;
  const uint32_t ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) return;
  eph_invalidates_ += eph_drop_inode(ino);
  publish_size();
}

void Pool::eph_invalidate_fs(uint32_t pool) {
  Lock lock(mu_);
  if (!eph_pool_ok(pool)) return;
  EphPool& p = eph_pools_[pool];
  if (--p.users > 0) return;
  for (uint32_t ino = eph_.pool_first_inode(pool); ino != EphIndex::kNil; ino = eph_.pool_first_inode(pool)) {
    eph_invalidates_ += eph_drop_inode(ino);
  }
  if (p.shared) eph_uuids_.erase(p.uuid);
  p = EphPool();
  while (!eph_pools_.empty() && eph_pools_.back().users == 0) eph_pools_.pop_back();
  // Give back the memory of an index that grew large.
  if (eph_.pages() == 0) eph_.release();
  publish_size();
}

// ---- writeback (protocol in pool.h) ----

uint32_t Pool::pick_locked(uint32_t max_pages, Picked* picks, uint8_t* pages, uint32_t* frames,
                           uint32_t* nframes) {
  uint32_t n = 0;
  // Two passes over the LRU at most: the first may only clear referenced bits.
  uint64_t budget = uint64_t{2} * zbud_.lru_count(AllocClass::kPersistent);
  uint32_t frame = zbud_.lru_tail(AllocClass::kPersistent);
  while (frame != Zbud::kNil && budget-- > 0 && n < max_pages) {
    const uint32_t prev = zbud_.lru_prev(frame);
    if (zbud_.second_chance(frame)) {
      frame = prev;
      continue;
    }
    const Zbud::FrameInfo info = zbud_.frame_info(frame);
    const uint32_t buddies = (info.chunks[0] != 0) + (info.chunks[1] != 0);
    // Whole frames only (a half-written frame frees nothing); a batch may go one page over only
    // when its very first frame does not fit.
    if (n > 0 && n + buddies > max_pages) break;
    uint32_t k = n;
    bool ok = true;
    for (uint32_t b = 0; b < 2 && ok; b++) {
      if (info.chunks[b] == 0) continue;
      const OwnerRef owner = info.owners[b];
      ok = owner.area_type < kMaxAreas;
      if (!ok) break;
      const Area& area = areas_[owner.area_type];
      ok = area.index.active() && !area.draining && area.fd >= 0 && owner.offset < area.index.pages();
      if (!ok) break;
      const uint64_t e = area.index.get(owner.offset);
      const EntryKind kind = Entry::kind(e);
      ok = (kind == EntryKind::kCompressed || kind == EntryKind::kRaw) && !Entry::under_writeback(e) &&
           Entry::payload(e) == ((frame << 1) | b);
      if (!ok) break;
      uint8_t* out = pages + size_t{k} * kPageSize;
      const uint8_t* obj = zbud_.map(Entry::payload(e));
      if (kind == EntryKind::kRaw) {
        std::memcpy(out, obj, kPageSize);
      } else if (!Codec::decompress(obj, Entry::length(e), out)) {
        decompress_fail_++;
        ok = false;
        break;
      }
      picks[k++] = Picked{e, owner.offset, owner.area_type, area.fd};
    }
    if (!ok) {
      // Not writable now (area without a file, or going away, or a corrupt object): move it out of
      // the way so the next batches do not trip over it again.
      zbud_.lru_to_head(frame);
      frame = prev;
      continue;
    }
    for (uint32_t i = n; i < k; i++) {
      Area& area = areas_[picks[i].type];
      area.index.replace(picks[i].offset, picks[i].entry | Entry::kUnderWriteback);
      area.inflight++;
    }
    zbud_.begin_reclaim(frame);
    frames[(*nframes)++] = frame;
    n = k;
    frame = prev;
  }
  return n;
}

namespace {

// pwritev of the whole iovec array at `pos`, continuing after short writes. False with *err set
// on an error (EINTR is retried). Consumes the iovecs.
bool write_fully(int fd, struct iovec* iov, int iovcnt, off_t pos, int* err, std::atomic<uint64_t>* calls) {
  while (iovcnt > 0) {
    calls->fetch_add(1, std::memory_order_relaxed);
    ssize_t w = iovcnt == 1 ? pwrite(fd, iov->iov_base, iov->iov_len, pos) : pwritev(fd, iov, iovcnt, pos);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    if (w == 0) {  // no progress on a non-empty write: treat as out of space
      *err = ENOSPC;
      return false;
    }
    pos += w;
    size_t left = static_cast<size_t>(w);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      iovcnt--;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace

uint32_t Pool::writeback(uint32_t max_pages) {
  if (max_pages == 0) return 0;
  // One frame may hold two pages, so room for two even when asked for one.
  const uint32_t cap = std::max<uint32_t>(max_pages, 2);
  // Private buffers of the batch: pages, their records, the order they are written in, frames.
  const size_t bytes = size_t{cap} * (kPageSize + sizeof(Picked) + sizeof(uint32_t) * 2 + sizeof(struct iovec) + 1);
  void* mem = std::aligned_alloc(kPageSize, (bytes + kPageSize - 1) / kPageSize * kPageSize);
  if (mem == nullptr) return 0;
  uint8_t* pages = static_cast<uint8_t*>(mem);
  struct iovec* iov = reinterpret_cast<struct iovec*>(pages + size_t{cap} * kPageSize);
  Picked* picks = reinterpret_cast<Picked*>(iov + cap);
  uint32_t* order = reinterpret_cast<uint32_t*>(picks + cap);
  uint32_t* frames = order + cap;
  uint8_t* written = reinterpret_cast<uint8_t*>(frames + cap);

  uint32_t n = 0, nframes = 0, evicted = 0;
  {
    Lock lock(mu_);
    if (!closed_) {
      // Ephemeral frames first: clean pages, dropped without I/O. They count as progress, so that
      // the policy sees the pool shrink. Persistent frames are picked for the rest.
      while (evicted < max_pages && zbud_.lru_count(AllocClass::kEphemeral) > 0) evicted += evict_eph_frame(false);
      if (evicted > 0) publish_size();
      if (evicted < max_pages) n = pick_locked(max_pages - evicted, picks, pages, frames, &nframes);
    }
    if (n == 0) {
      lock.unlock();
      std::free(mem);
      return evicted;
    }
    active_batches_++;
    outstanding_writeback_ += n;
  }

  // Step 2, no lock held. Sorted by file and slot, adjacent slots of one file make one pwritev.
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  std::sort(order, order + n, [picks](uint32_t a, uint32_t b) {
    return picks[a].fd != picks[b].fd ? picks[a].fd < picks[b].fd : picks[a].offset < picks[b].offset;
  });
  std::memset(written, 0, n);
  bool failed = false;
  for (uint32_t i = 0; i < n && !failed;) {
    const Picked& first = picks[order[i]];
    uint32_t j = i;
    int cnt = 0;
    while (j < n && cnt < IOV_MAX && picks[order[j]].fd == first.fd &&
           picks[order[j]].offset == first.offset + (j - i)) {
      iov[cnt].iov_base = pages + size_t{order[j]} * kPageSize;
      iov[cnt].iov_len = kPageSize;
      cnt++;
      j++;
    }
    int err = 0;
    if (write_fully(first.fd, iov, cnt, static_cast<off_t>(first.offset) * kPageSize, &err, &write_calls_)) {
      for (uint32_t k = i; k < j; k++) written[order[k]] = 1;
    } else {
      failed = true;  // this run and every later one stay in the pool
    }
    i = j;
  }

  uint32_t done = 0;
  {
    Lock lock(mu_);
    for (uint32_t i = 0; i < n; i++) {
      const Picked& p = picks[i];
      Area& area = areas_[p.type];
      area.inflight--;
      const uint64_t now = area.index.get(p.offset);
      // Mutations wait for the batch, so the entry cannot have changed; checked all the same.
      assert(now == (p.entry | Entry::kUnderWriteback));
      if (now != (p.entry | Entry::kUnderWriteback)) continue;
      if (written[i]) {
        drop_entry(area.index.take(p.offset) & ~Entry::kUnderWriteback);
        written_back_++;
        done++;
      } else {
        area.index.replace(p.offset, p.entry);
        reject_reclaim_fail_++;
      }
    }
    for (uint32_t f = 0; f < nframes; f++) zbud_.end_reclaim(frames[f]);
    outstanding_writeback_ -= n;
    active_batches_--;
    publish_size();
  }
  settled_cv_.notify_all();
  std::free(mem);
  return evicted + done;
}

void Pool::shutdown() {
  Lock lock(mu_);
  closed_ = true;
  while (active_batches_ > 0) settled_cv_.wait(lock);
}

void Pool::stats(double* out) {
  Lock lock(mu_);
  AllocatorStats z;
  zbud_.stats(&z);
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
  set(stat::kZbudPages, z.frames);
  set(stat::kZbudBuddied, z.buddied);
  set(stat::kZbudUnbuddied, z.unbuddied);
  set(stat::kZbudZbytes, z.object_bytes);
  set(stat::kArenaCommittedBytes, arena_.committed_bytes());
  set(stat::kArenaFreeFrames, arena_.free_frames());
  set(stat::kArenaReturnedFrames, arena_.returned_frames());
}

}  // namespace tmem
