// SwapCache's key index: insert/find/remove, ids reused lowest first, the table growing and
// shrinking, key-arena compaction, and a randomized run against std::unordered_map (under ASan
// in ctest.sh, so a probe or arena access out of bounds is a failure).
#include "key_index.h"

#include <cstring>
#include <random>
#include <string>
#include <unordered_map>

#include "check.h"

using tmem::KeyIndex;

static int64_t put(KeyIndex& ix, const std::string& k, bool* created = nullptr) {
  bool c;
  int64_t id = ix.insert(reinterpret_cast<const uint8_t*>(k.data()), k.size(), &c);
  if (created) *created = c;
  return id;
}

static int64_t find(const KeyIndex& ix, const std::string& k) {
  return ix.find(reinterpret_cast<const uint8_t*>(k.data()), k.size());
}

static std::string key_of(const KeyIndex& ix, uint32_t id) {
  size_t n;
  const uint8_t* p = ix.key_of(id, &n);
  return std::string(reinterpret_cast<const char*>(p), n);
}

static void test_basics() {
  KeyIndex ix;
  CHECK_EQ(find(ix, "a"), -1);
  bool created;
  int64_t a = put(ix, "a", &created);
  CHECK(created);
  CHECK_EQ(put(ix, "a", &created), a);
  CHECK(!created);
  int64_t empty = put(ix, "", &created);
  CHECK(created && empty != a);
  std::string longkey(KeyIndex::kMaxKeyBytes, 'x');
  int64_t l = put(ix, longkey);
  CHECK(l >= 0);
  CHECK(key_of(ix, static_cast<uint32_t>(l)) == longkey);
  CHECK(ix.record(static_cast<uint32_t>(a)).set_place(77, false, 100, 5000));
  CHECK_EQ(ix.record(static_cast<uint32_t>(find(ix, "a"))).run_id(), 77);
  CHECK_EQ(ix.record(static_cast<uint32_t>(a)).start(), 100);
  CHECK_EQ(ix.record(static_cast<uint32_t>(a)).length(), 5000);
  // 64 KiB or more: only at the start of a run (or resident), where the length takes all 32 bits.
  CHECK(!ix.record(static_cast<uint32_t>(a)).set_place(77, false, 8, 70000));
  CHECK_EQ(ix.record(static_cast<uint32_t>(a)).length(), 5000);
  CHECK(ix.record(static_cast<uint32_t>(a)).set_place(78, false, 0, 4000000000u));
  CHECK_EQ(ix.record(static_cast<uint32_t>(a)).length(), 4000000000u);
  CHECK(ix.record(static_cast<uint32_t>(a)).set_place(5, true, 0, 300));
  CHECK(ix.record(static_cast<uint32_t>(a)).resident());
  CHECK_EQ(ix.record(static_cast<uint32_t>(a)).length(), 300);
  CHECK_EQ(ix.size(), 3);
  ix.remove(static_cast<uint32_t>(a));
  CHECK_EQ(find(ix, "a"), -1);
  CHECK(!ix.live(static_cast<uint32_t>(a)));
  // The lowest free id comes back first, with a zeroed record.
  int64_t b = put(ix, "b");
  CHECK_EQ(b, a);
  CHECK_EQ(ix.record(static_cast<uint32_t>(b)).run, 0);
  CHECK_EQ(ix.record(static_cast<uint32_t>(b)).place, 0);
  CHECK_EQ(ix.next_live(0), std::min(b, empty));
  ix.clear();
  CHECK_EQ(ix.size(), 0);
  CHECK_EQ(ix.memory_bytes(), 0);
}

static void test_against_map() {
  KeyIndex ix;
  std::unordered_map<std::string, uint32_t> ref;  // key -> run value stored in its record
  std::mt19937_64 rng(7);
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 120000; i++) {
      std::string k = "key:" + std::to_string(rng() % 150000) + std::string(rng() % 40, 'p');
      uint32_t v = static_cast<uint32_t>(rng());
      int64_t id = put(ix, k);
      CHECK(id >= 0);
      ix.record(static_cast<uint32_t>(id)).run = v;
      ref[k] = v;
    }
    for (auto it = ref.begin(); it != ref.end();) {
      if (rng() % 10 < 8) {
        int64_t id = find(ix, it->first);
        CHECK(id >= 0);
        ix.remove(static_cast<uint32_t>(id));
        it = ref.erase(it);
      } else {
        ++it;
      }
    }
    CHECK_EQ(ix.size(), ref.size());
    for (const auto& [k, v] : ref) {
      int64_t id = find(ix, k);
      CHECK(id >= 0);
      CHECK_EQ(ix.record(static_cast<uint32_t>(id)).run, v);
      CHECK(key_of(ix, static_cast<uint32_t>(id)) == k);
    }
    size_t live = 0;
    for (int64_t id = ix.next_live(0); id >= 0; id = ix.next_live(static_cast<uint32_t>(id) + 1)) live++;
    CHECK_EQ(live, ref.size());
  }
  for (const auto& [k, v] : ref) ix.remove(static_cast<uint32_t>(find(ix, k)));
  CHECK_EQ(ix.size(), 0);
  CHECK_EQ(ix.memory_bytes(), 0);
}

int main() {
  RUN(test_basics);
  RUN(test_against_map);
  return 0;
}
