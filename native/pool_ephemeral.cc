// The ephemeral (cleancache) pool's operations, and the eviction of ephemeral units that both
// classes rely on when the frame cap is reached (pool.h, "Ephemeral pool"). Separate from
// pool.cc because it has its own index (EphIndex), LRU, pool ids and drop rules.
#include "pool.h"

#include <cassert>
#include <cstring>

namespace tmem {

AllocStatus Pool::alloc_evicting(uint32_t len, AllocClass cls, Handle* out) {
  AllocStatus st = alloc_->alloc(len, cls, out);
  while (st == AllocStatus::kNoMemory && eph_lru_.count() > 0) {
    evict_eph_unit(cls == AllocClass::kPersistent);
    st = alloc_->alloc(len, cls, out);
  }
  return st;
}

uint64_t Pool::class_frames(AllocClass cls) const {
  AllocatorStats s;
  alloc_->stats(&s);
  return s.class_frames[static_cast<int>(cls)];
}

uint32_t Pool::evict_eph_unit(bool for_persistent) {
  // The owners first, then the drops: freeing objects may move the others (z3fold).
  uint8_t headers[Allocator::kMaxUnitObjects * kHeaderBytes];
  uint32_t n;
  // Second chance at unit level: a unit holding a page that a shared get used since the last look
  // is spared once (its pages' bits cleared, its pages moved to the head); at most one pass.
  for (uint32_t spared = 0;; spared++) {
    n = alloc_->unit_headers(eph_lru_.tail(), headers);
    bool used = false;
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t e = header::owner(headers + size_t{i} * kHeaderBytes).offset;
      const uint64_t v = eph_.value(e);
      if (Entry::referenced(v)) {
        used = true;
        eph_.set_value(e, v & ~Entry::kReferenced);
      }
    }
    if (!used || spared >= eph_lru_.count()) break;
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t e = header::owner(headers + size_t{i} * kHeaderBytes).offset;
      eph_lru_.move_to_head(*alloc_, Entry::payload(eph_.value(e)));
    }
  }
  const uint64_t frames = class_frames(AllocClass::kEphemeral);
  for (uint32_t i = 0; i < n; i++) {
    const Owner owner = header::owner(headers + size_t{i} * kHeaderBytes);
    assert(owner.type == kEphemeralOwner);
    eph_drop(owner.offset);  // the owner of an ephemeral object is its entry id
  }
  evicted_eph_frames_ += frames - class_frames(AllocClass::kEphemeral);
  evicted_eph_pages_ += n;
  if (for_persistent) pers_ate_eph_++;
  return n;
}

void Pool::eph_drop(uint32_t e) {
  const uint64_t v = eph_.value(e);
  if (Entry::kind(v) == EntryKind::kCompressed) {
    eph_lru_.unlink(*alloc_, Entry::payload(v));
    alloc_->free(Entry::payload(v));
  }
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
    if (!Codec::decompress(alloc_->map(h, Entry::length(v), bounce_), Entry::length(v), into)) {
      // A clean page can be read again from its file: drop it and miss rather than fail.
      decompress_fail_++;
      eph_drop(e);
      auto_compact();
      publish_size();
      return PoolError::kOk;
    }
    // Shared pools keep the page: its unit gets a second chance at eviction.
    if (!exclusive) eph_.set_value(e, v | Entry::kReferenced);
  }
  eph_gets_++;
  if (exclusive) {
    eph_drop(e);
    auto_compact();
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
  const uint32_t ino = eph_.find_inode(pool, key);
  if (ino != EphIndex::kNil) {
    const uint32_t e = eph_.find_page(ino, index);
    if (e != EphIndex::kNil) eph_drop(e);
  }
  if (options_.ignore_nonactive_puts && !was_active) {
    eph_nonactive_ignored_++;
  } else {
    eph_keep(pool, key, index, page);
  }
  auto_compact();
  publish_size();
  return PoolError::kOk;
}

void Pool::eph_keep(uint32_t pool, const uint32_t* key, uint32_t index, const uint8_t* page) {
  // Room in the index first, so that nothing can fail once a frame is taken. Short of memory for
  // it, the page is simply not kept.
  if (!eph_.reserve() || !eph_.reserve_pool(pool)) return;
  uint64_t value;
  Handle handle = 0;
  uint32_t word;
  if (Codec::same_filled(page, &word)) {
    value = Entry::make(EntryKind::kSameFilled, 0, word);
  } else {
    const uint32_t clen = codec_.compress(page);
    // compress_poor: not kept. Ephemeral pages are never stored raw, and the running-mean rule is
    // the persistent pool's (as in zcache).
    if (clen == 0 || clen > options_.max_compressed_bytes || clen >= kPageSize) return;
    // May evict ephemeral units (never persistent pages); dropped when none is left to evict.
    if (alloc_evicting(clen, AllocClass::kEphemeral, &handle) != AllocStatus::kOk) return;
    alloc_->write(handle, codec_.scratch(), clen);
    value = Entry::make(EntryKind::kCompressed, clen, handle);
  }
  // Looked up now: an eviction above may have taken the inode's last page, and the inode with it.
  uint32_t ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) ino = eph_.add_inode(pool, key);
  const uint32_t e = eph_.add_page(ino, index, value);
  if (Entry::kind(value) == EntryKind::kCompressed) {
    header::set_owner(alloc_->header(handle), Owner{kEphemeralOwner, e});
    eph_lru_.push_head(*alloc_, handle);
  }
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
  auto_compact();
  publish_size();
}

void Pool::eph_invalidate_inode(uint32_t pool, const uint32_t* key) {
  Lock lock(mu_);
  if (!eph_pool_ok(pool)) return;
  const uint32_t ino = eph_.find_inode(pool, key);
  if (ino == EphIndex::kNil) return;
  eph_invalidates_ += eph_drop_inode(ino);
  auto_compact();
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
  auto_compact();
  publish_size();
}

}  // namespace tmem
