// Per-swap-area index: offset -> where that page's data is, like zswap's per-type tree.
//
// Swap offsets are dense small integers handed out by a slot bitmap, so a two-level radix array
// beats a tree: lookup is two loads, and at 8 bytes per slot a fully used leaf costs 8 bytes per
// stored page. Leaves (512 entries, one 4 KiB block) are allocated when the first page in their
// range is stored and freed when the last one goes, so sparse areas cost little.
#ifndef TMEM_AREA_INDEX_H
#define TMEM_AREA_INDEX_H

#include <cstddef>
#include <cstdint>

namespace tmem {

// One u64 per stored page:
//   bits  0..2   kind (EntryKind; values 4..7 are free, e.g. for a page held remotely whose
//                payload is a version)
//   bits  3..15  stored length in bytes (compressed length, or 4096 for a raw page)
//   bit  16      under writeback: a writeback batch has this page's data in flight (pool.h)
//   bit  17      referenced: loaded since writeback last looked at it (second chance)
//   bit  18      remote picked: the remote tier has a copy of the object in flight to the cluster
//                (pool_remote.cc); the entry is off the LRU, mutations do not wait for it
//   bits 32..63  allocator handle, or the fill word of a same-filled page
// An all-zero entry is empty.
enum class EntryKind : uint8_t { kEmpty = 0, kCompressed = 1, kSameFilled = 2, kRaw = 3 };

struct Entry {
  static uint64_t make(EntryKind kind, uint32_t length, uint32_t payload) {
    return static_cast<uint64_t>(kind) | (static_cast<uint64_t>(length & 0x1fff) << 3) |
           (static_cast<uint64_t>(payload) << 32);
  }
  static EntryKind kind(uint64_t e) { return static_cast<EntryKind>(e & 7); }
  static uint32_t length(uint64_t e) { return static_cast<uint32_t>((e >> 3) & 0x1fff); }
  static uint32_t payload(uint64_t e) { return static_cast<uint32_t>(e >> 32); }
  static bool has_object(uint64_t e) { return kind(e) == EntryKind::kCompressed || kind(e) == EntryKind::kRaw; }
  static constexpr uint64_t kUnderWriteback = uint64_t{1} << 16;
  static constexpr uint64_t kReferenced = uint64_t{1} << 17;
  static bool under_writeback(uint64_t e) { return (e & kUnderWriteback) != 0; }
  static bool referenced(uint64_t e) { return (e & kReferenced) != 0; }
  static constexpr uint64_t kRemotePicked = uint64_t{1} << 18;
  static bool remote_picked(uint64_t e) { return (e & kRemotePicked) != 0; }
};

class AreaIndex {
 public:
  static constexpr uint32_t kLeafShift = 9;
  static constexpr uint32_t kLeafEntries = 1u << kLeafShift;

  AreaIndex() = default;
  ~AreaIndex() { reset(); }
  AreaIndex(const AreaIndex&) = delete;
  AreaIndex& operator=(const AreaIndex&) = delete;

  // Sizes the top array for offsets [0, pages). False if it cannot be allocated.
  bool init(uint32_t pages);
  // Frees everything; the index is uninitialised again.
  void reset();
  bool active() const { return top_ != nullptr; }
  uint32_t pages() const { return pages_; }

  uint64_t get(uint32_t offset) const {
    const Slot& s = top_[offset >> kLeafShift];
    return s.leaf == nullptr ? 0 : s.leaf[offset & (kLeafEntries - 1)];
  }
  // Puts a non-empty entry into an empty slot. False if its leaf cannot be allocated.
  bool set(uint32_t offset, uint64_t entry);
  // Sets flag bits of a non-empty entry.
  void set_flags(uint32_t offset, uint64_t flags) { top_[offset >> kLeafShift].leaf[offset & (kLeafEntries - 1)] |= flags; }
  // Overwrites a non-empty entry in place (used to set and clear flag bits).
  void replace(uint32_t offset, uint64_t entry) {
    uint64_t& slot = top_[offset >> kLeafShift].leaf[offset & (kLeafEntries - 1)];
    bytes_ = bytes_ - Entry::length(slot) + Entry::length(entry);
    slot = entry;
  }
  // Empties a slot, returning what it held.
  uint64_t take(uint32_t offset);

  // Calls fn(offset, entry) for every stored entry, emptying the index as it goes.
  template <typename Fn>
  void drain(Fn&& fn) {
    for (uint32_t t = 0; t < top_count(); t++) {
      Slot& s = top_[t];
      if (s.leaf == nullptr) continue;
      for (uint32_t i = 0; i < kLeafEntries && s.used > 0; i++) {
        if (s.leaf[i] == 0) continue;
        uint64_t e = s.leaf[i];
        s.leaf[i] = 0;
        s.used--;
        entries_--;
        bytes_ -= Entry::length(e);
        fn((t << kLeafShift) | i, e);
      }
      release_leaf(s);
    }
  }

  uint64_t entries() const { return entries_; }
  // Sum of the stored lengths of the entries (compressed length, 4096 raw, 0 same-filled).
  uint64_t bytes() const { return bytes_; }
  // Bytes of native memory this index holds: top array plus leaves.
  uint64_t metadata_bytes() const;

 private:
  struct Slot {
    uint64_t* leaf;
    uint32_t used;  // non-empty entries in the leaf
  };

  uint32_t top_count() const { return (pages_ + kLeafEntries - 1) >> kLeafShift; }
  void release_leaf(Slot& s);

  Slot* top_ = nullptr;
  uint32_t pages_ = 0;
  uint32_t leaves_ = 0;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tmem

#endif
