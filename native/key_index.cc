// SwapCache's key index (key_index.h): records, the tagged open-addressing table, the key arena.
#include "key_index.h"

#include <sys/mman.h>

#include <chrono>
#include <cstring>

#if defined(__linux__)
#include <sys/random.h>
#endif

namespace tmem {

namespace {

constexpr size_t kMinCapacity = 64;
// Grow or rebuild at 85% filled (tombstones count: they lengthen probes too); a rebuilt table
// is 42.5% full, so a table costs between 5/0.85 and 5/0.425 bytes per key, and a key is rehashed
// about once over the table's growth.
constexpr double kMaxLoad = 0.85;
constexpr double kRebuiltLoad = 0.425;

void* map_bytes(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap_bytes(void* p, size_t n) {
  if (p != nullptr) munmap(p, n);
}

uint64_t random_seed(const void* salt) {
  uint64_t seed = 0;
#if defined(__linux__)
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof seed)) return seed;
#elif defined(__APPLE__)
  arc4random_buf(&seed, sizeof seed);
  return seed;
#endif
  seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return seed ^ reinterpret_cast<uintptr_t>(salt);
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// LEB128 length prefix: 1 byte below 128, 2 below 16384, 3 up to kMaxKeyBytes.
size_t prefix_bytes(size_t len) { return len < 128 ? 1 : len < 16384 ? 2 : 3; }
size_t record_bytes(size_t len) { return (prefix_bytes(len) + len + 3) & ~size_t{3}; }

}  // namespace

KeyIndex::KeyIndex() : seed_(random_seed(this)) {}

KeyIndex::~KeyIndex() { clear(); }

uint64_t KeyIndex::hash(const uint8_t* key, size_t len) const {
  uint64_t h = seed_ ^ (len * 0x9e3779b97f4a7c15ull);
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, key, 8);
    h = mix(h ^ w, 0xbf58476d1ce4e5b9ull);
    key += 8;
    len -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, key, len);
  return mix(mix(h ^ w, 0x94d049bb133111ebull), 0x2545f4914f6cdd1dull);
}

const uint8_t* KeyIndex::key_of(uint32_t id, size_t* len) const {
  uint32_t pos = record(id).key;
  const uint8_t* p = arena_[pos / kArenaUnitsPerChunk] + size_t{pos % kArenaUnitsPerChunk} * 4;
  size_t n = 0;
  int shift = 0;
  while (*p & 0x80) {
    n |= size_t{*p++ & 0x7fu} << shift;
    shift += 7;
  }
  n |= size_t{*p++} << shift;
  *len = n;
  return p;
}

bool KeyIndex::same_key(uint32_t id, const uint8_t* key, size_t len) const {
  size_t n;
  const uint8_t* p = key_of(id, &n);
  return n == len && std::memcmp(p, key, len) == 0;
}

int64_t KeyIndex::find(const uint8_t* key, size_t len) const {
  if (count_ == 0) return -1;
  uint64_t h = hash(key, len);
  uint8_t tag = tag_of(h);
  for (size_t pos = home_of(h);;) {
    uint8_t t = tags_[pos];
    if (t == kEmpty) return -1;
    if (t == tag && same_key(ids_[pos], key, len)) return ids_[pos];
    if (++pos == capacity_) pos = 0;
  }
}

int64_t KeyIndex::insert(const uint8_t* key, size_t len, bool* created) {
  *created = false;
  if (capacity_ == 0 || filled_ + 1 > capacity_ * kMaxLoad) {
    size_t want = static_cast<size_t>((count_ + 1) / kRebuiltLoad) + 1;
    if (!rebuild_table(want < kMinCapacity ? kMinCapacity : want)) return -1;
  }
  uint64_t h = hash(key, len);
  uint8_t tag = tag_of(h);
  size_t pos = home_of(h);
  size_t slot = SIZE_MAX;
  for (;;) {
    uint8_t t = tags_[pos];
    if (t == kEmpty) break;
    if (t == kTomb) {
      if (slot == SIZE_MAX) slot = pos;
    } else if (t == tag && same_key(ids_[pos], key, len)) {
      return ids_[pos];
    }
    if (++pos == capacity_) pos = 0;
  }
  if (slot == SIZE_MAX) {
    slot = pos;
    filled_++;
  }
  int64_t id = alloc_id();
  uint32_t at;
  if (id < 0) {
    if (slot == pos) filled_--;
    return -1;
  }
  if (!store_key(key, len, &at)) {
    free_id(static_cast<uint32_t>(id));
    if (slot == pos) filled_--;
    return -1;
  }
  KeyRecord& r = record(static_cast<uint32_t>(id));
  std::memset(&r, 0, sizeof r);
  r.key = at;
  tags_[slot] = tag;
  ids_[slot] = static_cast<uint32_t>(id);
  *created = true;
  return id;
}

void KeyIndex::remove(uint32_t id) {
  size_t len;
  const uint8_t* key = key_of(id, &len);
  uint64_t h = hash(key, len);
  size_t pos = home_of(h);
  while (!(tags_[pos] > kTomb && ids_[pos] == id)) {
    if (++pos == capacity_) pos = 0;
  }
  // A bucket followed by an empty one ends every probe sequence through it: it and the
  // tombstones just before it can become empty instead of tombstones.
  size_t next = pos + 1 == capacity_ ? 0 : pos + 1;
  if (tags_[next] == kEmpty) {
    for (;;) {
      tags_[pos] = kEmpty;
      filled_--;
      pos = pos == 0 ? capacity_ - 1 : pos - 1;
      if (tags_[pos] != kTomb) break;
    }
  } else {
    tags_[pos] = kTomb;
  }
  size_t bytes = record_bytes(len);
  key_bytes_ -= bytes;
  garbage_ += bytes;
  free_id(id);
  if (count_ == 0) {
    clear();
    return;
  }
  if (capacity_ > kMinCapacity && count_ < capacity_ / 8) {
    size_t want = static_cast<size_t>(count_ / kRebuiltLoad) + 1;
    rebuild_table(want < kMinCapacity ? kMinCapacity : want);  // on failure the old table stays
  }
  maybe_compact_keys();
}

void KeyIndex::clear() {
  for (KeyRecord* c : chunks_) unmap_bytes(c, sizeof(KeyRecord) * kChunkRecords);
  for (uint8_t* c : arena_) unmap_bytes(c, kArenaChunk);
  unmap_bytes(tags_, capacity_);
  unmap_bytes(ids_, capacity_ * sizeof(uint32_t));
  std::vector<KeyRecord*>().swap(chunks_);
  std::vector<uint32_t>().swap(chunk_live_);
  std::vector<uint64_t>().swap(used_);
  std::vector<uint8_t*>().swap(arena_);
  tags_ = nullptr;
  ids_ = nullptr;
  capacity_ = filled_ = 0;
  id_limit_ = lowest_free_ = count_ = 0;
  arena_used_ = key_bytes_ = garbage_ = 0;
}

int64_t KeyIndex::next_live(uint32_t from) const {
  for (uint32_t w = from >> 6; w < used_.size(); w++) {
    uint64_t bits = used_[w];
    if (w == from >> 6) bits &= ~uint64_t{0} << (from & 63);
    if (bits != 0) return int64_t{w} * 64 + __builtin_ctzll(bits);
  }
  return -1;
}

// Memory in use: mapped pages are only committed once touched, so the last record chunk and
// the last arena chunk count up to their high-water marks.
size_t KeyIndex::memory_bytes() const {
  size_t n = capacity_ * (1 + sizeof(uint32_t)) + used_.capacity() * sizeof(uint64_t);
  if (!arena_.empty()) n += (arena_.size() - 1) * kArenaChunk + arena_used_;
  for (size_t c = 0; c < chunk_live_.size(); c++) {
    if (chunk_live_[c] == 0) continue;
    if (c + 1 < chunk_live_.size()) {
      n += sizeof(KeyRecord) * kChunkRecords;
    } else {
      int64_t top = -1;
      for (int64_t id = next_live(static_cast<uint32_t>(c << kChunkShift)); id >= 0; id = next_live(static_cast<uint32_t>(id) + 1)) top = id;
      n += (static_cast<size_t>(top - static_cast<int64_t>(c << kChunkShift)) + 1) * sizeof(KeyRecord);
    }
  }
  return n;
}

int64_t KeyIndex::alloc_id() {
  uint32_t id = lowest_free_;
  for (size_t w = id >> 6; w < used_.size(); w++) {
    uint64_t bits = ~used_[w];
    if (w == id >> 6) bits &= ~uint64_t{0} << (id & 63);
    if (bits != 0) {
      id = static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits));
      break;
    }
    id = static_cast<uint32_t>((w + 1) * 64);
  }
  if (id >= id_limit_) {
    if (id_limit_ > UINT32_MAX - kChunkRecords) return -1;
    auto* chunk = static_cast<KeyRecord*>(map_bytes(sizeof(KeyRecord) * kChunkRecords));
    if (chunk == nullptr) return -1;
    chunks_.push_back(chunk);
    chunk_live_.push_back(0);
    used_.resize(used_.size() + kChunkRecords / 64, 0);
    id = id_limit_;
    id_limit_ += kChunkRecords;
  }
  used_[id >> 6] |= uint64_t{1} << (id & 63);
  chunk_live_[id >> kChunkShift]++;
  count_++;
  lowest_free_ = id + 1;
  return id;
}

void KeyIndex::free_id(uint32_t id) {
  used_[id >> 6] &= ~(uint64_t{1} << (id & 63));
  count_--;
  if (id < lowest_free_) lowest_free_ = id;
  uint32_t c = id >> kChunkShift;
  if (--chunk_live_[c] == 0) {
    // Every record in the chunk is free: give its memory back; it reads as zeros if reused.
    madvise(chunks_[c], sizeof(KeyRecord) * kChunkRecords, MADV_DONTNEED);
  }
}

bool KeyIndex::rebuild_table(size_t capacity) {
  auto* tags = static_cast<uint8_t*>(map_bytes(capacity));
  auto* ids = static_cast<uint32_t*>(map_bytes(capacity * sizeof(uint32_t)));
  if (tags == nullptr || ids == nullptr) {
    unmap_bytes(tags, capacity);
    unmap_bytes(ids, capacity * sizeof(uint32_t));
    return false;
  }
  unmap_bytes(tags_, capacity_);
  unmap_bytes(ids_, capacity_ * sizeof(uint32_t));
  tags_ = tags;
  ids_ = ids;
  capacity_ = capacity;
  filled_ = count_;
  for (int64_t id = next_live(0); id >= 0; id = next_live(static_cast<uint32_t>(id) + 1)) {
    size_t len;
    const uint8_t* key = key_of(static_cast<uint32_t>(id), &len);
    uint64_t h = hash(key, len);
    size_t pos = home_of(h);
    while (tags_[pos] != kEmpty) {
      if (++pos == capacity_) pos = 0;
    }
    tags_[pos] = tag_of(h);
    ids_[pos] = static_cast<uint32_t>(id);
  }
  return true;
}

bool KeyIndex::store_key(const uint8_t* key, size_t len, uint32_t* pos) {
  size_t bytes = record_bytes(len);
  if (arena_.empty() || arena_used_ + bytes > kArenaChunk) {
    if (arena_.size() >= UINT32_MAX / kArenaUnitsPerChunk) return false;
    auto* chunk = static_cast<uint8_t*>(map_bytes(kArenaChunk));
    if (chunk == nullptr) return false;
    arena_.push_back(chunk);
    arena_used_ = 0;
  }
  uint8_t* p = arena_.back() + arena_used_;
  *pos = static_cast<uint32_t>((arena_.size() - 1) * kArenaUnitsPerChunk + arena_used_ / 4);
  size_t n = len;
  while (n >= 0x80) {
    *p++ = static_cast<uint8_t>(n | 0x80);
    n >>= 7;
  }
  *p++ = static_cast<uint8_t>(n);
  std::memcpy(p, key, len);
  arena_used_ += bytes;
  key_bytes_ += bytes;
  return true;
}

// Copies the live keys into fresh chunks once removed ones are a quarter of the arena. All new
// chunks are mapped before any record changes, so a failed mmap leaves the index as it was.
void KeyIndex::maybe_compact_keys() {
  if (garbage_ < kArenaChunk || garbage_ * 4 < key_bytes_ + garbage_) return;
  size_t chunks = 1;
  size_t used = 0;
  for (int64_t id = next_live(0); id >= 0; id = next_live(static_cast<uint32_t>(id) + 1)) {
    size_t len;
    key_of(static_cast<uint32_t>(id), &len);
    size_t bytes = record_bytes(len);
    if (used + bytes > kArenaChunk) {
      chunks++;
      used = 0;
    }
    used += bytes;
  }
  std::vector<uint8_t*> fresh;
  fresh.reserve(chunks);
  for (size_t i = 0; i < chunks; i++) {
    auto* chunk = static_cast<uint8_t*>(map_bytes(kArenaChunk));
    if (chunk == nullptr) {
      for (uint8_t* c : fresh) unmap_bytes(c, kArenaChunk);
      return;
    }
    fresh.push_back(chunk);
  }
  size_t at = 0;
  used = 0;
  for (int64_t id = next_live(0); id >= 0; id = next_live(static_cast<uint32_t>(id) + 1)) {
    size_t len;
    const uint8_t* key = key_of(static_cast<uint32_t>(id), &len);
    size_t bytes = record_bytes(len);
    if (used + bytes > kArenaChunk) {
      at++;
      used = 0;
    }
    const uint8_t* from = key - prefix_bytes(len);
    std::memcpy(fresh[at] + used, from, prefix_bytes(len) + len);
    record(static_cast<uint32_t>(id)).key = static_cast<uint32_t>(at * kArenaUnitsPerChunk + used / 4);
    used += bytes;
  }
  for (uint8_t* c : arena_) unmap_bytes(c, kArenaChunk);
  arena_.swap(fresh);
  arena_used_ = used;
  garbage_ = 0;
}

}  // namespace tmem
