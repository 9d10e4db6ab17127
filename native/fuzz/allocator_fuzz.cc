// libFuzzer target: every allocator behind the Allocator interface (allocator.h), made by
// make_allocator() and driven by a sequence of alloc / free / rewrite / compact / unit / check
// operations decoded from the input, against the allocator model the unit tests use
// (test/allocator_model.h: every object's bytes derive from its id and version, its header names
// its id). The input's first byte picks the allocator; a new AllocatorKind joins by raising
// kNumKinds.
//
// What must hold, for any allocator and any sequence:
//  - every live object reads back intact after every operation on others, compaction included
//    (the model checks bytes and the owner in the header);
//  - alloc refuses sizes 0 and above a page with kTooBig and changes nothing; it fails with
//    kNoMemory only when the arena cannot give the frames one object may need;
//  - the objects of one unit (unit_headers) are live, of one class, and include the asked one;
//  - stats agree with the model and the arena (frames per class, bytes per class) and freeing
//    every object returns every frame to the arena.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>

#include "../allocator.h"
#include "../arena.h"
#include "../entry_lru.h"
#include "../test/allocator_model.h"
#include "../test/check.h"

using namespace tmem;
using tmem_test::AllocatorModel;

namespace {

constexpr uint8_t kNumKinds = static_cast<uint8_t>(AllocatorKind::kZbud) + 1;
// Small enough that inputs reach "arena full" quickly.
constexpr uint32_t kFrames = 48;
// The most frames one allocation may take at once (a zspage of zsmalloc's longest class).
constexpr uint32_t kMaxUnitFrames = 8;

class Harness {
 public:
  explicit Harness(AllocatorKind kind) {
    CHECK(arena_.init(kFrames));
    alloc_ = make_allocator(kind, &arena_);
    CHECK(alloc_ != nullptr && alloc_->init());
    model_ = std::make_unique<AllocatorModel>(*alloc_);
  }

  ~Harness() {
    model_->check_all();
    check_stats();
    while (!model_->live().empty()) model_->remove(model_->live().size() - 1);
    AllocatorStats s;
    alloc_->stats(&s);
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], 0);
    CHECK_EQ(s.class_object_bytes[0] + s.class_object_bytes[1], 0);
    CHECK_EQ(arena_.frames_in_use(), 0);
  }

  void alloc(uint32_t size, AllocClass cls) {
    if (!model_->add(size, cls)) CHECK(arena_.frames_in_use() + kMaxUnitFrames > kFrames);
  }

  void alloc_too_big(size_t size, AllocClass cls) {
    AllocatorStats before, after;
    alloc_->stats(&before);
    const uint32_t frames = arena_.frames_in_use();
    Handle h = kNoHandle;
    CHECK(alloc_->alloc(size, cls, &h) == AllocStatus::kTooBig);
    alloc_->stats(&after);
    CHECK_EQ(arena_.frames_in_use(), frames);
    for (int c = 0; c < kNumAllocClasses; c++) {
      CHECK_EQ(after.class_frames[c], before.class_frames[c]);
      CHECK_EQ(after.class_object_bytes[c], before.class_object_bytes[c]);
    }
  }

  // The live object at position `pick` (mod the number live); false when none is.
  bool pick(uint32_t pick, uint32_t* id) const {
    if (model_->live().empty()) return false;
    *id = model_->live()[pick % model_->live().size()];
    return true;
  }

  void free(uint32_t id) { model_->remove_id(id); }
  void rewrite(uint32_t id) { model_->rewrite(id); }

  // Moved objects are checked when they are freed or picked, and all at the end of the input.
  void compact(CompactMode mode) { alloc_->compact(mode, *model_); }

  void unit(uint32_t id) {
    const AllocClass cls = model_->object(id).cls;
    const uint32_t n = alloc_->unit_headers(model_->object(id).handle, headers_);
    CHECK(n >= 1 && n <= Allocator::kMaxUnitObjects);
    bool self = false;
    for (uint32_t i = 0; i < n; i++) {
      const Owner o = header::owner(headers_ + i * kHeaderBytes);
      const uint8_t type = cls == AllocClass::kEphemeral ? kEphemeralOwner : uint8_t{0};
      CHECK_EQ(o.type, type);
      CHECK(model_->object(o.offset).handle != kNoHandle);
      CHECK(model_->object(o.offset).cls == cls);
      self = self || o.offset == id;
    }
    CHECK(self);
  }

  // One object's bytes and header; every object's at the end of the input (checking all of them
  // after every operation would cost most of the run).
  void check(uint32_t id) { model_->check(id); }

  void check_stats() {
    uint64_t bytes[kNumAllocClasses] = {};
    for (uint32_t id : model_->live()) bytes[static_cast<int>(model_->object(id).cls)] += model_->object(id).size;
    AllocatorStats s;
    alloc_->stats(&s);
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], arena_.frames_in_use());
    for (int c = 0; c < kNumAllocClasses; c++) {
      // Objects take at least their size (headers and rounding come on top), at most their frames.
      CHECK(s.class_object_bytes[c] >= bytes[c]);
      CHECK(s.class_object_bytes[c] <= s.class_frames[c] * kPageSize);
      if (bytes[c] == 0) CHECK_EQ(s.class_object_bytes[c], 0);
    }
  }

 private:
  Arena arena_;
  std::unique_ptr<Allocator> alloc_;
  std::unique_ptr<AllocatorModel> model_;
  uint8_t headers_[kHeaderBytes * Allocator::kMaxUnitObjects];
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Harness harness(static_cast<AllocatorKind>(in.ConsumeIntegral<uint8_t>() % kNumKinds));
  while (in.remaining_bytes() > 0) {
    const uint8_t op = in.ConsumeIntegral<uint8_t>();
    const AllocClass cls = (op & 0x80) ? AllocClass::kEphemeral : AllocClass::kPersistent;
    uint32_t id;
    switch (op % 16) {
      case 0: case 1: case 2: case 3: case 4: case 5:
        harness.alloc(in.ConsumeIntegralInRange<uint32_t>(1, kPageSize), cls);
        break;
      case 6:
        harness.alloc_too_big((op & 0x40) ? 0 : in.ConsumeIntegralInRange<size_t>(kPageSize + 1, 2 * kPageSize), cls);
        break;
      case 7: case 8: case 9: case 10:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &id)) harness.free(id);
        break;
      case 11:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &id)) harness.rewrite(id);
        break;
      case 12:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &id)) harness.unit(id);
        break;
      case 13: case 14:
        harness.compact((op & 0x40) ? CompactMode::kAll : CompactMode::kAuto);
        break;
      default:
        if (harness.pick(in.ConsumeIntegral<uint16_t>(), &id)) harness.check(id);
        harness.check_stats();
        break;
    }
  }
  return 0;
}
