// A model of what an allocator holds, shared by the allocator unit tests: every object's id, size,
// class and handle, its data derived from (id, version) so that any byte read back wrong (or from
// another object) is caught, and the pool's part of the header (owner = the object's id) written
// as the pool does, so that compaction can resolve handles through it (HandleResolver).
#ifndef TMEM_TEST_ALLOCATOR_MODEL_H
#define TMEM_TEST_ALLOCATOR_MODEL_H

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "allocator.h"
#include "arena.h"
#include "check.h"
#include "entry_lru.h"

namespace tmem_test {

using tmem::AllocClass;
using tmem::Allocator;
using tmem::AllocStatus;
using tmem::Handle;
using tmem::kPageSize;

inline uint8_t model_byte(uint32_t id, uint32_t version, uint32_t i) {
  uint32_t x = id * 0x9e3779b1u ^ version * 0x85ebca6bu ^ i * 0xc2b2ae35u;
  x ^= x >> 15;
  return static_cast<uint8_t>(x * 0x2c1b3c6du >> 24);
}

class AllocatorModel final : public tmem::HandleResolver {
 public:
  struct Object {
    Handle handle = tmem::kNoHandle;  // kNoHandle: freed
    uint32_t size = 0;
    uint32_t version = 0;
    AllocClass cls = AllocClass::kPersistent;
  };

  explicit AllocatorModel(Allocator& a) : a_(a) {}

  // Allocates and fills a new object; false when the allocator is out of memory.
  bool add(uint32_t size, AllocClass cls) {
    Handle h;
    const AllocStatus st = a_.alloc(size, cls, &h);
    if (st == AllocStatus::kNoMemory) return false;
    CHECK(st == AllocStatus::kOk);
    const uint32_t id = static_cast<uint32_t>(objects_.size());
    objects_.push_back(Object{h, size, 0, cls});
    tmem::header::set_owner(a_.header(h), tmem::Owner{cls == AllocClass::kEphemeral ? tmem::kEphemeralOwner : uint8_t{0}, id});
    fill(id);
    live_.push_back(id);
    return true;
  }

  // Frees live object number `i` (of live()).
  void remove(size_t i) {
    const uint32_t id = live_[i];
    check(id);
    a_.free(objects_[id].handle);
    objects_[id].handle = tmem::kNoHandle;
    live_[i] = live_.back();
    live_.pop_back();
  }

  // Frees the live object `id`.
  void remove_id(uint32_t id) {
    for (size_t i = 0; i < live_.size(); i++) {
      if (live_[i] == id) {
        remove(i);
        return;
      }
    }
    CHECK(false);
  }

  // Rewrites an object's data (a new version).
  void rewrite(uint32_t id) {
    objects_[id].version++;
    fill(id);
  }

  void check(uint32_t id) {
    const Object& o = objects_[id];
    const tmem::Owner owner = tmem::header::owner(a_.header(o.handle));
    CHECK_EQ(owner.offset, id);
    const uint8_t* p = a_.map(o.handle, o.size, bounce_);
    for (uint32_t i = 0; i < o.size; i++) {
      if (p[i] != model_byte(id, o.version, i)) {
        std::fprintf(stderr, "object %u (size %u, handle %u): byte %u wrong\n", id, o.size, o.handle, i);
        CHECK(false);
      }
    }
  }

  void check_all() {
    for (uint32_t id : live_) check(id);
  }

  Handle handle_of(AllocClass, const uint8_t* header) override {
    return objects_[tmem::header::owner(header).offset].handle;
  }

  const std::vector<uint32_t>& live() const { return live_; }
  const Object& object(uint32_t id) const { return objects_[id]; }
  uint64_t live_bytes() const {
    uint64_t b = 0;
    for (uint32_t id : live_) b += objects_[id].size;
    return b;
  }

 private:
  void fill(uint32_t id) {
    const Object& o = objects_[id];
    std::vector<uint8_t> data(o.size);
    for (uint32_t i = 0; i < o.size; i++) data[i] = model_byte(id, o.version, i);
    a_.write(o.handle, data.data(), o.size);
  }

  Allocator& a_;
  std::vector<Object> objects_;
  std::vector<uint32_t> live_;
  uint8_t bounce_[kPageSize];
};

// An arena of `frames` frames, an allocator of type A over it, and a model of what it holds.
template <typename A>
struct ModelFixture {
  tmem::Arena arena;
  A a{&arena};
  AllocatorModel m{a};
  explicit ModelFixture(uint32_t frames) {
    CHECK(arena.init(frames));
    CHECK(a.init());
  }
};

// Random allocations (sizes like compressed pages: mostly 1..3600, some tiny, some whole pages),
// frees, rewrites and compactions against the model: every live object reads back intact, and
// after everything is freed the allocator holds no frame. Returns the model's peak live objects.
template <typename CheckInvariants>
void run_model(Allocator& a, tmem::Arena& arena, uint32_t steps, uint32_t seed, CheckInvariants&& invariants) {
  AllocatorModel m(a);
  std::mt19937 rng(seed);
  for (uint32_t step = 0; step < steps; step++) {
    const uint32_t r = rng() % 100;
    if (m.live().empty() || r < 50) {
      uint32_t size = 1 + rng() % 3600;
      if (rng() % 8 == 0) size = 1 + rng() % 64;
      if (rng() % 32 == 0) size = kPageSize;
      const AllocClass cls = rng() % 8 == 0 ? AllocClass::kEphemeral : AllocClass::kPersistent;
      m.add(size, cls);
    } else if (r < 90) {
      m.remove(rng() % m.live().size());
    } else if (r < 95) {
      m.rewrite(m.live()[rng() % m.live().size()]);
    } else if (r < 97) {
      a.compact(rng() % 2 ? tmem::CompactMode::kAll : tmem::CompactMode::kAuto, m);
    } else {
      m.check(m.live()[rng() % m.live().size()]);
    }
    if (step % 1000 == 0) {
      m.check_all();
      invariants(m);
    }
  }
  m.check_all();
  invariants(m);
  while (!m.live().empty()) m.remove(m.live().size() - 1);
  CHECK_EQ(arena.frames_in_use(), 0);
  tmem::AllocatorStats s;
  a.stats(&s);
  CHECK_EQ(s.class_frames[0] + s.class_frames[1], 0);
  CHECK_EQ(s.class_object_bytes[0] + s.class_object_bytes[1], 0);
}

}  // namespace tmem_test

#endif
