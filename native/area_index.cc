#include "area_index.h"

#include <cassert>
#include <cstdlib>

namespace tmem {

bool AreaIndex::init(uint32_t pages) {
  assert(top_ == nullptr && pages > 0);
  pages_ = pages;
  top_ = static_cast<Slot*>(std::calloc(top_count(), sizeof(Slot)));
  if (top_ == nullptr) pages_ = 0;
  return top_ != nullptr;
}

void AreaIndex::reset() {
  if (top_ == nullptr) return;
  for (uint32_t t = 0; t < top_count(); t++) release_leaf(top_[t]);
  std::free(top_);
  top_ = nullptr;
  pages_ = 0;
  entries_ = 0;
  bytes_ = 0;
}

bool AreaIndex::set(uint32_t offset, uint64_t entry) {
  assert(entry != 0 && offset < pages_);
  Slot& s = top_[offset >> kLeafShift];
  if (s.leaf == nullptr) {
    // calloc: an all-zero leaf is a leaf of empty entries.
    s.leaf = static_cast<uint64_t*>(std::calloc(kLeafEntries, sizeof(uint64_t)));
    if (s.leaf == nullptr) return false;
    leaves_++;
  }
  uint64_t& slot = s.leaf[offset & (kLeafEntries - 1)];
  assert(slot == 0);
  slot = entry;
  s.used++;
  entries_++;
  bytes_ += Entry::length(entry);
  return true;
}

uint64_t AreaIndex::take(uint32_t offset) {
  assert(offset < pages_);
  Slot& s = top_[offset >> kLeafShift];
  if (s.leaf == nullptr) return 0;
  uint64_t& slot = s.leaf[offset & (kLeafEntries - 1)];
  uint64_t e = slot;
  if (e == 0) return 0;
  slot = 0;
  entries_--;
  bytes_ -= Entry::length(e);
  if (--s.used == 0) release_leaf(s);
  return e;
}

void AreaIndex::release_leaf(Slot& s) {
  if (s.leaf == nullptr) return;
  std::free(s.leaf);
  s.leaf = nullptr;
  s.used = 0;
  leaves_--;
}

uint64_t AreaIndex::metadata_bytes() const {
  if (top_ == nullptr) return 0;
  return static_cast<uint64_t>(top_count()) * sizeof(Slot) +
         static_cast<uint64_t>(leaves_) * kLeafEntries * sizeof(uint64_t);
}

}  // namespace tmem
