#include "eph_index.h"

#include <cstdlib>
#include <cstring>

namespace tmem {

namespace {

constexpr uint32_t kMinSlots = 64;
constexpr uint32_t kMinSlab = 32;
constexpr uint32_t kMaxSlots = 1u << 31;

uint32_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<uint32_t>(h);
}

uint32_t* new_slots(uint32_t n) {
  auto* s = static_cast<uint32_t*>(std::malloc(size_t{n} * sizeof(uint32_t)));
  if (s != nullptr) std::memset(s, 0xff, size_t{n} * sizeof(uint32_t));  // all kNil
  return s;
}

}  // namespace

uint32_t EphIndex::inode_hash(uint32_t pool, const uint32_t* key) {
  uint64_t h = (uint64_t{pool} + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  for (uint32_t w = 0; w < kKeyWords; w++) h = (h ^ key[w]) * 0x94d049bb133111ebULL + (h >> 29);
  return mix(h);
}

uint32_t EphIndex::page_hash(uint32_t ino, uint32_t index) {
  return mix((uint64_t{ino} << 32 | index) * 0x9e3779b97f4a7c15ULL);
}

void EphIndex::release() {
  std::free(inos_);
  std::free(ino_slots_);
  std::free(ents_);
  std::free(pg_slots_);
  std::free(pool_head_);
  inos_ = nullptr;
  ino_slots_ = nullptr;
  ents_ = nullptr;
  pg_slots_ = nullptr;
  pool_head_ = nullptr;
  ino_cap_ = ent_cap_ = npools_ = 0;
  ino_mask_ = pg_mask_ = 0;
  ino_free_ = ent_free_ = kNil;
  pages_ = inodes_ = 0;
}

bool EphIndex::reserve() {
  if (ino_slots_ == nullptr && !rehash_inodes(kMinSlots)) return false;
  if (pg_slots_ == nullptr && !rehash_pages(kMinSlots)) return false;
  if ((inodes_ + 1) * 2 > uint64_t{ino_mask_} + 1) {
    if (ino_mask_ + 1 >= kMaxSlots || !rehash_inodes((ino_mask_ + 1) * 2)) return false;
  }
  if ((pages_ + 1) * 2 > uint64_t{pg_mask_} + 1) {
    if (pg_mask_ + 1 >= kMaxSlots || !rehash_pages((pg_mask_ + 1) * 2)) return false;
  }
  if (ino_free_ == kNil && !grow_inodes(ino_cap_ == 0 ? kMinSlab : ino_cap_ * 2)) return false;
  if (ent_free_ == kNil && !grow_ents(ent_cap_ == 0 ? kMinSlab : ent_cap_ * 2)) return false;
  return true;
}

bool EphIndex::rehash_inodes(uint32_t n) {
  uint32_t* slots = new_slots(n);
  if (slots == nullptr) return false;
  const uint32_t mask = n - 1;
  if (ino_slots_ != nullptr) {
    for (uint32_t s = 0; s <= ino_mask_; s++) {
      const uint32_t ino = ino_slots_[s];
      if (ino == kNil) continue;
      uint32_t i = inode_hash(inos_[ino].pool, inos_[ino].key) & mask;
      while (slots[i] != kNil) i = (i + 1) & mask;
      slots[i] = ino;
    }
    std::free(ino_slots_);
  }
  ino_slots_ = slots;
  ino_mask_ = mask;
  return true;
}

bool EphIndex::rehash_pages(uint32_t n) {
  uint32_t* slots = new_slots(n);
  if (slots == nullptr) return false;
  const uint32_t mask = n - 1;
  if (pg_slots_ != nullptr) {
    for (uint32_t s = 0; s <= pg_mask_; s++) {
      const uint32_t e = pg_slots_[s];
      if (e == kNil) continue;
      uint32_t i = page_hash(ents_[e].ino, ents_[e].index) & mask;
      while (slots[i] != kNil) i = (i + 1) & mask;
      slots[i] = e;
    }
    std::free(pg_slots_);
  }
  pg_slots_ = slots;
  pg_mask_ = mask;
  return true;
}

bool EphIndex::grow_inodes(uint32_t cap) {
  if (cap <= ino_cap_) return false;  // ids would overflow
  auto* a = static_cast<Inode*>(std::realloc(inos_, size_t{cap} * sizeof(Inode)));
  if (a == nullptr) return false;
  inos_ = a;
  // Chain the new ids onto the free list, lowest first.
  for (uint32_t id = cap; id-- > ino_cap_;) {
    inos_[id].next = ino_free_;
    ino_free_ = id;
  }
  ino_cap_ = cap;
  return true;
}

bool EphIndex::grow_ents(uint32_t cap) {
  if (cap <= ent_cap_ || cap == kNil) return false;
  auto* a = static_cast<Ent*>(std::realloc(ents_, size_t{cap} * sizeof(Ent)));
  if (a == nullptr) return false;
  ents_ = a;
  for (uint32_t id = cap; id-- > ent_cap_;) {
    ents_[id].ino = kNil;
    ents_[id].next = ent_free_;
    ent_free_ = id;
  }
  ent_cap_ = cap;
  return true;
}

bool EphIndex::grow_pools(uint32_t pool) {
  uint32_t n = npools_ == 0 ? 8 : npools_;
  while (n <= pool) n *= 2;
  auto* a = static_cast<uint32_t*>(std::realloc(pool_head_, size_t{n} * sizeof(uint32_t)));
  if (a == nullptr) return false;
  for (uint32_t i = npools_; i < n; i++) a[i] = kNil;
  pool_head_ = a;
  npools_ = n;
  return true;
}

uint32_t EphIndex::find_inode(uint32_t pool, const uint32_t* key) const {
  if (ino_slots_ == nullptr) return kNil;
  for (uint32_t i = inode_hash(pool, key) & ino_mask_;; i = (i + 1) & ino_mask_) {
    const uint32_t ino = ino_slots_[i];
    if (ino == kNil) return kNil;
    const Inode& r = inos_[ino];
    if (r.pool == pool && std::memcmp(r.key, key, sizeof(r.key)) == 0) return ino;
  }
}

uint32_t EphIndex::add_inode(uint32_t pool, const uint32_t* key) {
  if (pool >= npools_) return kNil;
  const uint32_t ino = ino_free_;
  if (ino == kNil) return kNil;
  Inode& r = inos_[ino];
  ino_free_ = r.next;
  r.pool = pool;
  std::memcpy(r.key, key, sizeof(r.key));
  r.head = kNil;
  r.pages = 0;
  const uint32_t head = pool_head_[pool];
  r.prev = kNil;
  r.next = head;
  if (head != kNil) inos_[head].prev = ino;
  pool_head_[pool] = ino;
  uint32_t i = inode_hash(pool, key) & ino_mask_;
  while (ino_slots_[i] != kNil) i = (i + 1) & ino_mask_;
  ino_slots_[i] = ino;
  inodes_++;
  return ino;
}

uint32_t EphIndex::find_page(uint32_t ino, uint32_t index) const {
  if (pg_slots_ == nullptr) return kNil;
  for (uint32_t i = page_hash(ino, index) & pg_mask_;; i = (i + 1) & pg_mask_) {
    const uint32_t e = pg_slots_[i];
    if (e == kNil) return kNil;
    if (ents_[e].ino == ino && ents_[e].index == index) return e;
  }
}

uint32_t EphIndex::add_page(uint32_t ino, uint32_t index, uint64_t value) {
  const uint32_t e = ent_free_;
  if (e == kNil) return kNil;
  Ent& r = ents_[e];
  ent_free_ = r.next;
  r.value = value;
  r.ino = ino;
  r.index = index;
  Inode& in = inos_[ino];
  r.prev = kNil;
  r.next = in.head;
  if (in.head != kNil) ents_[in.head].prev = e;
  in.head = e;
  in.pages++;
  uint32_t i = page_hash(ino, index) & pg_mask_;
  while (pg_slots_[i] != kNil) i = (i + 1) & pg_mask_;
  pg_slots_[i] = e;
  pages_++;
  return e;
}

void EphIndex::remove_page(uint32_t e) {
  Ent& r = ents_[e];
  const uint32_t ino = r.ino;
  // Page table: find the slot, then shift later members of its cluster back into the hole.
  const uint32_t mask = pg_mask_;
  uint32_t i = page_hash(ino, r.index) & mask;
  while (pg_slots_[i] != e) i = (i + 1) & mask;
  for (uint32_t j = (i + 1) & mask; pg_slots_[j] != kNil; j = (j + 1) & mask) {
    const uint32_t o = pg_slots_[j];
    const uint32_t home = page_hash(ents_[o].ino, ents_[o].index) & mask;
    // Move o into the hole unless its home lies cyclically in (i, j].
    if (((j - home) & mask) >= ((j - i) & mask)) {
      pg_slots_[i] = o;
      i = j;
    }
  }
  pg_slots_[i] = kNil;
  Inode& in = inos_[ino];
  if (r.prev != kNil) {
    ents_[r.prev].next = r.next;
  } else {
    in.head = r.next;
  }
  if (r.next != kNil) ents_[r.next].prev = r.prev;
  r.ino = kNil;
  r.next = ent_free_;
  ent_free_ = e;
  pages_--;
  if (--in.pages == 0) remove_inode(ino);
}

void EphIndex::remove_inode(uint32_t ino) {
  Inode& r = inos_[ino];
  const uint32_t mask = ino_mask_;
  uint32_t i = inode_hash(r.pool, r.key) & mask;
  while (ino_slots_[i] != ino) i = (i + 1) & mask;
  for (uint32_t j = (i + 1) & mask; ino_slots_[j] != kNil; j = (j + 1) & mask) {
    const uint32_t o = ino_slots_[j];
    const uint32_t home = inode_hash(inos_[o].pool, inos_[o].key) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      ino_slots_[i] = o;
      i = j;
    }
  }
  ino_slots_[i] = kNil;
  if (r.prev != kNil) {
    inos_[r.prev].next = r.next;
  } else {
    pool_head_[r.pool] = r.next;
  }
  if (r.next != kNil) inos_[r.next].prev = r.prev;
  r.next = ino_free_;
  ino_free_ = ino;
  inodes_--;
}

uint64_t EphIndex::metadata_bytes() const {
  uint64_t b = uint64_t{ino_cap_} * sizeof(Inode) + uint64_t{ent_cap_} * sizeof(Ent) +
               uint64_t{npools_} * sizeof(uint32_t);
  if (ino_slots_ != nullptr) b += (uint64_t{ino_mask_} + 1) * sizeof(uint32_t);
  if (pg_slots_ != nullptr) b += (uint64_t{pg_mask_} + 1) * sizeof(uint32_t);
  return b;
}

}  // namespace tmem
