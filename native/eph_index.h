// Index of the ephemeral (cleancache) pool: (pool, six-word file key, page index) -> entry.
//
// Same layout as the pure-JS zcache's EphIndex (lib/backends/zcache-js/eph-index.ts), in native
// memory: two open-addressing hash tables of u32 ids (linear probing, backward-shift deletion, no
// tombstones; doubled by rehashing once half full):
//   - the inode table: (pool, key) -> inode id;
//   - the page table:  (inode id, page index) -> entry id.
// Inodes and entries live in slabs indexed by id, free ids chained. The entries of one inode are
// chained (so invalidating an inode costs its pages) and the inodes of one pool are chained (so
// invalidating a pool costs its inodes). An inode exists while it has at least one page.
//
// An entry is 24 bytes: the packed u64 of area_index.h (kind, length, allocator handle or fill word),
// its inode, its page index and its two chain links. With the page table's 2..4 slots of 4 bytes
// per page, a page costs 32..40 bytes (plus the slab's growth slack), an inode 44 bytes + slots.
// Entry ids are stable while the entry lives: the object header records them as the owner of an
// ephemeral object, so evicting a unit finds the entries of its objects without a lookup.
//
// Not thread-safe: the pool's mutex guards it. Allocation failures are reported by reserve(),
// which callers run first, so that the adds that follow (with only removals between) cannot fail.
#ifndef TMEM_EPH_INDEX_H
#define TMEM_EPH_INDEX_H

#include <cstddef>
#include <cstdint>

namespace tmem {

class EphIndex {
 public:
  static constexpr uint32_t kKeyWords = 6;
  static constexpr uint32_t kNil = UINT32_MAX;

  EphIndex() = default;
  ~EphIndex() { release(); }
  EphIndex(const EphIndex&) = delete;
  EphIndex& operator=(const EphIndex&) = delete;

  // Makes room for one more inode and one more page. False when memory is short (nothing changed).
  bool reserve();
  // Makes room for the inode chain head of pool id `pool`; done when the pool is created, so that
  // add_inode cannot fail. False when memory is short.
  bool reserve_pool(uint32_t pool) { return pool < npools_ || grow_pools(pool); }
  // Frees everything (back to the empty state; the next reserve() allocates again).
  void release();

  uint32_t find_inode(uint32_t pool, const uint32_t* key) const;
  // Adds (pool, key), which must not be held, with no pages; needs reserve_pool(pool) and a
  // reserve() since the last add.
  uint32_t add_inode(uint32_t pool, const uint32_t* key);
  uint32_t find_page(uint32_t ino, uint32_t index) const;
  // Adds page `index` (not held) of `ino`; needs a reserve() since the last add.
  uint32_t add_page(uint32_t ino, uint32_t index, uint64_t value);
  // Removes an entry; its inode goes with its last page.
  void remove_page(uint32_t e);

  uint64_t value(uint32_t e) const { return ents_[e].value; }
  // Rewrites an entry's value in place (its flag bits: area_index.h).
  void set_value(uint32_t e, uint64_t value) { ents_[e].value = value; }
  uint32_t first_page(uint32_t ino) const { return inos_[ino].head; }
  uint32_t next_page(uint32_t e) const { return ents_[e].next; }
  uint32_t pool_first_inode(uint32_t pool) const { return pool < npools_ ? pool_head_[pool] : kNil; }

  uint64_t pages() const { return pages_; }
  uint64_t inodes() const { return inodes_; }
  uint64_t metadata_bytes() const;

 private:
  struct Inode {
    uint32_t pool;
    uint32_t key[kKeyWords];
    uint32_t head;   // first entry, or kNil
    uint32_t pages;  // entries held
    uint32_t next;   // pool chain (free list when free)
    uint32_t prev;
  };
  struct Ent {
    uint64_t value;
    uint32_t ino;  // kNil when free
    uint32_t index;
    uint32_t next;  // inode chain (free list when free)
    uint32_t prev;
  };
  static_assert(sizeof(Ent) == 24, "an ephemeral entry must stay at 24 bytes");

  static uint32_t inode_hash(uint32_t pool, const uint32_t* key);
  static uint32_t page_hash(uint32_t ino, uint32_t index);
  bool rehash_inodes(uint32_t slots);
  bool rehash_pages(uint32_t slots);
  bool grow_inodes(uint32_t cap);
  bool grow_ents(uint32_t cap);
  bool grow_pools(uint32_t pool);
  void remove_inode(uint32_t ino);

  Inode* inos_ = nullptr;
  uint32_t ino_cap_ = 0;
  uint32_t ino_free_ = kNil;
  uint32_t* ino_slots_ = nullptr;
  uint32_t ino_mask_ = 0;  // slots - 1; no table when ino_slots_ is null

  Ent* ents_ = nullptr;
  uint32_t ent_cap_ = 0;
  uint32_t ent_free_ = kNil;
  uint32_t* pg_slots_ = nullptr;
  uint32_t pg_mask_ = 0;

  uint32_t* pool_head_ = nullptr;
  uint32_t npools_ = 0;

  uint64_t pages_ = 0;
  uint64_t inodes_ = 0;
};

}  // namespace tmem

#endif
