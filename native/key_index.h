// SwapCache's key index: key bytes -> one fixed 20-byte record, all of it outside the V8 heap.
//
// A key whose value is swapped out costs its 20-byte record, 6-12 bytes of hash table and its
// bytes (rounded up to 4, plus a 1-3 byte length) in the key arena, and nothing in JavaScript.
// The record says where the value is: a swap run and a byte offset in it, or (resident) the slot
// of the JS-side resident tier that holds it. What a run is and which slots it uses is the
// TypeScript layer's business; this file only stores the numbers.
//
// Layout:
//   - Records live in fixed chunks of 2^16 (1.5 MiB, mmap'd), addressed by a dense id. A bitmap
//     of used ids hands out the lowest free id, so ids stay compact; a chunk whose records are
//     all free is given back to the OS (madvise) and faults in again as zeros when reused.
//   - The table is open addressing with linear probing over two arrays: a tag byte per bucket
//     (0 empty, 1 tombstone, else 8 bits of the hash) and the id of the record in it. A probe
//     reads tags, which sit 64 to a cache line, and touches a record only when the tag matches.
//     The capacity is any integer (fastrange maps a hash onto it), doubled at 85% load
//     (including tombstones), so the table costs 5.9-11.8 bytes per key; it shrinks at 1/8
//     load. Records do not keep their hash: growth rehashes the keys, walking records in id
//     order, which reads the key arena nearly sequentially.
//   - Keys sit in 1 MiB arena chunks as [LEB128 length][bytes], 4-byte aligned; a record holds
//     the position in 4-byte units (16 GiB of keys). Deleted keys leave garbage that is
//     compacted away (live keys copied to fresh chunks) once it is a quarter of the arena.
//   - All big arrays come from mmap, so memory given back (clear, shrink, compaction) leaves
//     the process at once instead of fragmenting the malloc heap.
//
// The hash is seeded per index from getrandom(), so keys an attacker picks cannot be made to
// collide in every process. Not thread-safe: one index belongs to one JS thread.
#ifndef TMEM_KEY_INDEX_H
#define TMEM_KEY_INDEX_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tmem {

struct KeyRecord {
  static constexpr uint32_t kRunMask = (1u << 30) - 1;
  static constexpr uint32_t kResidentBit = 1u << 30;
  static constexpr uint32_t kLongBit = 1u << 31;

  uint32_t key;      // key arena position, in 4-byte units
  uint32_t run;      // bits 0-29: swap run id, or the resident slot; bit 30: resident; bit 31: long
  uint32_t place;    // start << 16 | length; or, when long, the length (the value starts at 0)
  uint32_t expires;  // 0: never; else the cache's clock value at which the entry expires
  uint32_t ttl;      // the entry's ttl, for updateAgeOnGet

  uint32_t run_id() const { return run & kRunMask; }
  bool resident() const { return (run & kResidentBit) != 0; }
  uint32_t start() const { return (run & kLongBit) != 0 ? 0 : place >> 16; }
  uint32_t length() const { return (run & kLongBit) != 0 ? place : place & 0xffff; }
  // Values in a shared run are under 64 KiB; a longer one (its own run, or resident) starts at 0.
  // False, changing nothing, when the numbers do not fit that.
  bool set_place(uint32_t run_id, bool is_resident, uint32_t start, uint32_t length) {
    if (run_id > kRunMask || start > 0xffff || (length > 0xffff && start != 0)) return false;
    bool is_long = length > 0xffff || is_resident;
    run = run_id | (is_resident ? kResidentBit : 0) | (is_long ? kLongBit : 0);
    place = is_long ? length : (start << 16 | length);
    return true;
  }
};
static_assert(sizeof(KeyRecord) == 20, "KeyRecord is the per-key cost the design promises");

class KeyIndex {
 public:
  // Longest key in bytes: a key and its length prefix fit in one arena chunk.
  static constexpr size_t kMaxKeyBytes = 1 << 18;

  KeyIndex();
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // The id of `key`, or -1.
  int64_t find(const uint8_t* key, size_t len) const;
  // The id of `key`, adding it (record zeroed) if absent; *created says which. -1 when memory
  // for it cannot be had (nothing changed then). len <= kMaxKeyBytes.
  int64_t insert(const uint8_t* key, size_t len, bool* created);
  // Removes a live id.
  void remove(uint32_t id);
  // Drops every key; memory goes back to the OS.
  void clear();

  bool live(uint32_t id) const { return id < id_limit_ && test_bit(id); }
  KeyRecord& record(uint32_t id) { return chunks_[id >> kChunkShift][id & (kChunkRecords - 1)]; }
  const KeyRecord& record(uint32_t id) const { return chunks_[id >> kChunkShift][id & (kChunkRecords - 1)]; }
  // The key bytes of a live id (valid until the next insert or remove).
  const uint8_t* key_of(uint32_t id, size_t* len) const;
  // The lowest live id >= from, or -1.
  int64_t next_live(uint32_t from) const;

  uint32_t size() const { return count_; }
  // Bytes of memory the index holds (records, table, bitmap, key arena).
  size_t memory_bytes() const;

 private:
  static constexpr uint32_t kChunkShift = 16;
  static constexpr uint32_t kChunkRecords = 1u << kChunkShift;
  static constexpr size_t kArenaChunk = 1 << 20;
  static constexpr uint32_t kArenaUnitsPerChunk = kArenaChunk / 4;
  static constexpr uint8_t kEmpty = 0, kTomb = 1;

  uint64_t hash(const uint8_t* key, size_t len) const;
  static uint8_t tag_of(uint64_t h) { return static_cast<uint8_t>((h & 0xff) < 2 ? (h & 0xff) + 2 : h & 0xff); }
  size_t home_of(uint64_t h) const { return static_cast<size_t>((static_cast<unsigned __int128>(h >> 32) * capacity_) >> 32); }
  bool same_key(uint32_t id, const uint8_t* key, size_t len) const;

  bool test_bit(uint32_t id) const { return (used_[id >> 6] >> (id & 63)) & 1; }
  int64_t alloc_id();
  void free_id(uint32_t id);

  bool rebuild_table(size_t capacity);
  bool store_key(const uint8_t* key, size_t len, uint32_t* pos);
  void maybe_compact_keys();

  uint64_t seed_;
  // Records.
  std::vector<KeyRecord*> chunks_;
  std::vector<uint32_t> chunk_live_;
  std::vector<uint64_t> used_;  // bit per id
  uint32_t id_limit_ = 0;       // ids below this have a chunk
  uint32_t lowest_free_ = 0;    // no free id below this
  uint32_t count_ = 0;
  // Table.
  uint8_t* tags_ = nullptr;
  uint32_t* ids_ = nullptr;
  size_t capacity_ = 0;
  size_t filled_ = 0;  // live + tombstones
  // Key arena.
  std::vector<uint8_t*> arena_;
  size_t arena_used_ = 0;  // bytes used in the last chunk
  size_t key_bytes_ = 0;   // bytes of live key records (prefix, bytes, padding)
  size_t garbage_ = 0;     // bytes of removed key records
};

}  // namespace tmem

#endif
