// libFuzzer target: an allocator behind the Allocator interface (allocator.h), driven by a
// sequence of alloc / free / touch / check operations decoded from the input, against a model of
// the live objects. A new allocator joins with one line in kAllocators; the input's first byte
// picks one.
//
// What must hold, for any allocator:
//  - alloc succeeds for sizes 1..4096 unless the arena is out of frames; kTooBig exactly for 0
//    and sizes above a page; kNoMemory only when every arena frame is in use;
//  - a new handle is not a live one; an object's bytes lie inside the arena, overlap no other live
//    object and share no frame with an object of the other class (persistent and ephemeral pages
//    are kept apart); its contents survive every later operation on other objects;
//  - stats agree with the model (frames, per-class frames and bytes, pool_bytes) and freeing
//    every object returns every frame to the arena.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>

#include "../allocator.h"
#include "../arena.h"
#include "../test/check.h"
#include "../zbud.h"

using namespace tmem;

namespace {

struct Factory {
  const char* name;
  std::unique_ptr<Allocator> (*make)(Arena* arena);
};

template <typename A>
std::unique_ptr<Allocator> Make(Arena* arena) {
  auto a = std::make_unique<A>(arena);
  CHECK(a->init());
  return a;
}

const Factory kAllocators[] = {
    {"zbud", Make<Zbud>},
};
constexpr size_t kNumAllocators = sizeof(kAllocators) / sizeof(kAllocators[0]);

// Small enough that inputs reach "arena full" quickly.
constexpr uint32_t kFrames = 48;

// Object contents: a window of this buffer starting at the object's seed, checked with one memcmp.
const uint8_t* Pattern() {
  static uint8_t bytes[kPageSize + 256];
  static bool init = false;
  if (!init) {
    for (size_t i = 0; i < sizeof(bytes); i++) bytes[i] = static_cast<uint8_t>(i * 131 + (i >> 8) * 7 + 1);
    init = true;
  }
  return bytes;
}

struct Object {
  size_t size;
  AllocClass cls;
  uint8_t seed;
};

class Harness {
 public:
  explicit Harness(const Factory& f) {
    CHECK(arena_.init(kFrames));
    alloc_ = f.make(&arena_);
  }

  ~Harness() {
    // Everything freed: every frame must be back in the arena.
    while (!live_.empty()) free_object(live_.begin()->first);
    AllocatorStats s;
    alloc_->stats(&s);
    CHECK_EQ(s.frames, 0);
    CHECK_EQ(alloc_->pool_bytes(), 0);
    CHECK_EQ(arena_.frames_in_use(), 0);
  }

  void alloc(size_t size, AllocClass cls, uint8_t seed) {
    Handle h;
    AllocStatus st = alloc_->alloc(size, cls, OwnerRef{static_cast<uint8_t>(seed & 31), seed}, &h);
    bool fits = size >= 1 && size <= kPageSize;
    if (st == AllocStatus::kTooBig) {
      CHECK(!fits);
      return;
    }
    CHECK(fits);
    if (st == AllocStatus::kNoMemory) {
      CHECK_EQ(arena_.frames_in_use(), kFrames);
      return;
    }
    CHECK(st == AllocStatus::kOk);
    CHECK(live_.count(h) == 0);
    uint8_t* p = alloc_->map(h);
    check_placement(p, size, cls);
    std::memcpy(p, Pattern() + seed, size);
    live_[h] = Object{size, cls, seed};
  }

  void free_object(Handle h) {
    check_contents(h);
    alloc_->free(h);
    live_.erase(h);
  }

  // The object at position `pick` (mod the number live), or nothing when none is.
  bool pick(uint32_t pick, Handle* out) const {
    if (live_.empty()) return false;
    auto it = live_.begin();
    std::advance(it, pick % live_.size());
    *out = it->first;
    return true;
  }

  void touch(Handle h) { alloc_->touch(h); }

  void check_all() {
    uint64_t bytes[kNumAllocClasses] = {};
    for (const auto& [h, o] : live_) {
      check_contents(h);
      bytes[static_cast<int>(o.cls)] += o.size;
    }
    AllocatorStats s;
    alloc_->stats(&s);
    CHECK_EQ(alloc_->pool_bytes(), s.frames * kPageSize);
    CHECK_EQ(s.frames, arena_.frames_in_use());
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], s.frames);
    CHECK_EQ(s.class_object_bytes[0] + s.class_object_bytes[1], s.object_bytes);
    for (int c = 0; c < kNumAllocClasses; c++) {
      // Objects take at least their size (rounded up to the allocator's unit) and at most their frames.
      CHECK(s.class_object_bytes[c] >= bytes[c]);
      CHECK(s.class_object_bytes[c] <= s.class_frames[c] * kPageSize);
      CHECK((s.class_frames[c] == 0) == (bytes[c] == 0));
    }
  }

 private:
  void check_contents(Handle h) {
    const Object& o = live_.at(h);
    CHECK(std::memcmp(alloc_->map(h), Pattern() + o.seed, o.size) == 0);
  }

  void check_placement(const uint8_t* p, size_t size, AllocClass cls) {
    const uint8_t* lo = arena_.frame(0);
    const uint8_t* hi = arena_.frame(kFrames);
    CHECK(p >= lo && p + size <= hi);
    const size_t first = static_cast<size_t>(p - lo) / kPageSize;
    const size_t last = static_cast<size_t>(p + size - 1 - lo) / kPageSize;
    for (const auto& [other, o] : live_) {
      const uint8_t* q = alloc_->map(other);
      CHECK(p + size <= q || q + o.size <= p);
      const size_t qf = static_cast<size_t>(q - lo) / kPageSize;
      const size_t ql = static_cast<size_t>(q + o.size - 1 - lo) / kPageSize;
      if (o.cls != cls) CHECK(last < qf || ql < first);
    }
  }

  Arena arena_;
  std::unique_ptr<Allocator> alloc_;
  std::map<Handle, Object> live_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Harness harness(kAllocators[in.ConsumeIntegral<uint8_t>() % kNumAllocators]);
  uint8_t seed = 1;
  while (in.remaining_bytes() > 0) {
    const uint8_t op = in.ConsumeIntegral<uint8_t>();
    Handle h;
    switch (op % 16) {
      case 0: case 1: case 2: case 3: case 4: case 5: {
        // Sizes around the interesting edges: tiny, chunk multiples, near a page, past a page.
        size_t n = in.ConsumeIntegralInRange<size_t>(0, kPageSize + 64);
        harness.alloc(n, (op & 0x80) ? AllocClass::kEphemeral : AllocClass::kPersistent, seed++);
        break;
      }
      case 6: case 7: case 8: case 9: case 10:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &h)) harness.free_object(h);
        break;
      case 11: case 12: case 13: case 14:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &h)) harness.touch(h);
        break;
      default:
        harness.check_all();
        break;
    }
  }
  harness.check_all();
  return 0;
}
