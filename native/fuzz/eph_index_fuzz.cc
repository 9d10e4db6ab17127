// libFuzzer target: the ephemeral (cleancache) index (eph_index.h) driven by put / get / remove /
// invalidate-inode / invalidate-pool / release operations decoded from the input, against a
// std::map model, the way the pool uses it (a put drops the older copy first; reserve() before
// every add). Keys come from a small alphabet so that inodes collide in the hash tables and
// backward-shift deletion runs through long clusters.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>

#include "../eph_index.h"
#include "../test/check.h"

using namespace tmem;

namespace {

using Key = std::array<uint32_t, EphIndex::kKeyWords>;
using Inode = std::tuple<uint32_t, Key>;         // pool, key
using Page = std::tuple<uint32_t, Key, uint32_t>;  // pool, key, index

constexpr uint32_t kPools = 6;

class Harness {
 public:
  void put(uint32_t pool, const Key& key, uint32_t index, uint64_t value) {
    CHECK(index_.reserve_pool(pool));
    remove(pool, key, index);
    CHECK(index_.reserve());
    uint32_t ino = index_.find_inode(pool, key.data());
    if (ino == EphIndex::kNil) ino = index_.add_inode(pool, key.data());
    CHECK(ino != EphIndex::kNil);
    CHECK(index_.add_page(ino, index, value) != EphIndex::kNil);
    model_[{pool, key, index}] = value;
  }

  void get(uint32_t pool, const Key& key, uint32_t index) const {
    auto it = model_.find({pool, key, index});
    uint32_t ino = index_.find_inode(pool, key.data());
    uint32_t e = ino == EphIndex::kNil ? EphIndex::kNil : index_.find_page(ino, index);
    if (it == model_.end()) {
      CHECK(e == EphIndex::kNil);
      // An inode exists exactly while it has a page.
      CHECK((ino != EphIndex::kNil) == has_inode(pool, key));
    } else {
      CHECK(e != EphIndex::kNil);
      CHECK(index_.value(e) == it->second);
    }
  }

  void remove(uint32_t pool, const Key& key, uint32_t index) {
    uint32_t ino = index_.find_inode(pool, key.data());
    if (ino == EphIndex::kNil) return;
    uint32_t e = index_.find_page(ino, index);
    CHECK((e != EphIndex::kNil) == (model_.count({pool, key, index}) == 1));
    if (e == EphIndex::kNil) return;
    index_.remove_page(e);
    model_.erase({pool, key, index});
  }

  // Walks the inode's page chain: exactly the model's pages of (pool, key), then drops them all.
  void invalidate_inode(uint32_t pool, const Key& key) {
    uint32_t ino = index_.find_inode(pool, key.data());
    CHECK((ino != EphIndex::kNil) == has_inode(pool, key));
    if (ino != EphIndex::kNil) drop_inode(ino, pool, key);
  }

  // Drops the pool's inodes from its chain until none is left; each must be one the model has.
  void invalidate_pool(uint32_t pool) {
    std::set<Inode> expected;
    for (const auto& [page, value] : model_)
      if (std::get<0>(page) == pool) expected.insert({pool, std::get<1>(page)});
    size_t dropped = 0;
    for (uint32_t ino; (ino = index_.pool_first_inode(pool)) != EphIndex::kNil; dropped++) {
      CHECK(dropped < expected.size());
      // Which key is it? The chain gives only the id: find it among the expected ones.
      bool found = false;
      for (const auto& [p, key] : expected) {
        if (index_.find_inode(p, key.data()) == ino) {
          drop_inode(ino, p, key);
          found = true;
          break;
        }
      }
      CHECK(found);
    }
    CHECK_EQ(dropped, expected.size());
  }

  void release() {
    index_.release();
    model_.clear();
    CHECK_EQ(index_.pages(), 0);
    CHECK_EQ(index_.metadata_bytes(), 0);
  }

  void check_totals() const {
    std::set<Inode> inodes;
    for (const auto& [page, value] : model_) inodes.insert({std::get<0>(page), std::get<1>(page)});
    CHECK_EQ(index_.pages(), model_.size());
    CHECK_EQ(index_.inodes(), inodes.size());
  }

 private:
  bool has_inode(uint32_t pool, const Key& key) const {
    auto it = model_.lower_bound({pool, key, 0});
    return it != model_.end() && std::get<0>(it->first) == pool && std::get<1>(it->first) == key;
  }

  void drop_inode(uint32_t ino, uint32_t pool, const Key& key) {
    std::set<uint32_t> chain;
    for (uint32_t e = index_.first_page(ino); e != EphIndex::kNil; e = index_.next_page(e)) {
      CHECK(chain.size() < model_.size());  // no cycle
      chain.insert(e);
    }
    std::set<uint32_t> want;
    for (auto it = model_.lower_bound({pool, key, 0});
         it != model_.end() && std::get<0>(it->first) == pool && std::get<1>(it->first) == key; ++it) {
      uint32_t e = index_.find_page(ino, std::get<2>(it->first));
      CHECK(e != EphIndex::kNil && index_.value(e) == it->second);
      want.insert(e);
    }
    CHECK(chain == want);
    // Entry ids stay valid while the others go; the last one takes the inode with it.
    for (uint32_t e : chain) index_.remove_page(e);
    for (auto it = model_.lower_bound({pool, key, 0});
         it != model_.end() && std::get<0>(it->first) == pool && std::get<1>(it->first) == key;) {
      it = model_.erase(it);
    }
    CHECK(index_.find_inode(pool, key.data()) == EphIndex::kNil);
  }

  EphIndex index_;
  std::map<Page, uint64_t> model_;
};

Key MakeKey(FuzzedDataProvider& in) {
  Key key{};
  if (in.ConsumeIntegral<uint8_t>() < 8) {
    for (auto& w : key) w = in.ConsumeIntegral<uint32_t>();
  } else {
    key[0] = in.ConsumeIntegralInRange<uint32_t>(0, 15);
    key[5] = in.ConsumeIntegralInRange<uint32_t>(0, 1);
  }
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Harness h;
  while (in.remaining_bytes() > 0) {
    const uint8_t op = in.ConsumeIntegral<uint8_t>();
    const uint32_t pool = in.ConsumeIntegralInRange<uint32_t>(0, kPools - 1);
    const Key key = MakeKey(in);
    const uint32_t index = in.ConsumeBool() ? in.ConsumeIntegral<uint32_t>() : in.ConsumeIntegralInRange<uint32_t>(0, 7);
    switch (op % 16) {
      case 0: case 1: case 2: case 3: case 4: case 5:
        h.put(pool, key, index, in.ConsumeIntegral<uint64_t>());
        break;
      case 6: case 7: case 8: case 9:
        h.get(pool, key, index);
        break;
      case 10: case 11: case 12:
        h.remove(pool, key, index);
        break;
      case 13:
        h.invalidate_inode(pool, key);
        break;
      case 14:
        h.invalidate_pool(pool);
        break;
      default:
        if (op == 255) h.release();
        break;
    }
    h.check_totals();
  }
  return 0;
}
