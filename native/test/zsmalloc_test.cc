// zsmalloc: the class geometry, objects straddling frames, zspages taking frames as they fill,
// fullness-group bookkeeping, compaction (objects move, handles stay, frames come back, reads
// before and after agree), unit headers, the out-of-memory paths, and a randomized run against a
// model with compactions mixed in.
#include "zsmalloc.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "allocator_model.h"
#include "check.h"

using namespace tmem_test;
using tmem::Arena;
using tmem::SizeClass;
using tmem::SizeClasses;
using tmem::Zsmalloc;

static const AllocClass P = AllocClass::kPersistent;
static const AllocClass E = AllocClass::kEphemeral;

// Every size maps to a class at least as big; a class's geometry wastes no more of its tail than
// any other zspage length would; merged sizes share (frames, objects); the huge watermark is where
// packing stops paying.
static void test_class_geometry() {
  const SizeClasses c;
  std::printf("  %u classes, huge watermark %u bytes\n", c.count(), c.huge_size());
  CHECK(c.count() > 60 && c.count() < 200);
  CHECK(c.huge_size() > 3000 && c.huge_size() < kPageSize);
  CHECK_EQ(c.class_of(1), 0);
  CHECK_EQ(c[0].size, SizeClasses::kMinSize);
  CHECK(c[c.huge_index()].huge && c[c.huge_index()].size == kPageSize && c[c.huge_index()].objs == 1);
  CHECK_EQ(c.class_of(kPageSize + tmem::kHeaderBytes), c.huge_index());
  CHECK_EQ(c.class_of(c.huge_size()), c.huge_index());
  CHECK(c.class_of(c.huge_size() - SizeClasses::kStep) != c.huge_index());
  for (uint32_t i = 0; i + 1 < c.count(); i++) {
    const SizeClass& k = c[i];
    CHECK(!k.huge && k.size % SizeClasses::kStep == 0 && k.size < c[i + 1].size);
    CHECK(k.frames >= 1 && k.frames <= SizeClasses::kMaxZspageFrames && k.objs <= SizeClasses::kMaxObjects);
    CHECK_EQ(k.objs, k.frames * kPageSize / k.size);
    CHECK(k.objs > k.frames);  // below the watermark packing pays
    // No other length wastes a smaller share of its tail (ties go to the longest).
    const double waste = double(k.frames * kPageSize - k.objs * k.size) / (k.frames * kPageSize);
    for (uint32_t f = 1; f <= SizeClasses::kMaxZspageFrames; f++) {
      const uint32_t objs = f * kPageSize / k.size;
      if (objs > SizeClasses::kMaxObjects) break;
      CHECK(double(f * kPageSize - objs * k.size) / (f * kPageSize) >= waste - 1e-12);
    }
  }
  for (uint32_t bytes = 1; bytes <= kPageSize + tmem::kHeaderBytes; bytes++) {
    const uint32_t i = c.class_of(bytes);
    CHECK(c[i].size >= bytes || c[i].huge);
    // Merged: the class below this one would have been just as good a fit only if its geometry
    // differs (else they would be one class).
    if (i > 0 && !c[i].huge && bytes <= c[i - 1].size) CHECK(false);
  }
}

// Objects of a class that does not divide a frame straddle frame boundaries: write() and map()
// hide it, map() copying into the bounce buffer exactly when an object is split, and headers are
// never split.
static void test_straddling_objects() {
  ModelFixture<Zsmalloc> f(64);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  const uint32_t size = 1500 - tmem::kHeaderBytes;  // slot 1504 in the class of 1504-byte-ish objects
  const SizeClass& c = z.classes()[z.classes().class_of(size + tmem::kHeaderBytes)];
  CHECK(kPageSize % c.size != 0 && c.frames > 1);
  uint8_t bounce[kPageSize];
  uint32_t split = 0;
  for (uint32_t i = 0; i < c.objs; i++) {
    CHECK(m.add(size, P));
    const Handle h = m.object(i).handle;
    const uint32_t at = i * c.size;
    const bool straddles = at / kPageSize != (at + tmem::kHeaderBytes + size - 1) / kPageSize;
    CHECK_EQ(at / kPageSize, (at + tmem::kHeaderBytes - 1) / kPageSize);  // header in one frame
    CHECK_EQ(z.map(h, size, bounce) == bounce, straddles);
    split += straddles;
    // Frames are taken as the zspage fills.
    CHECK_EQ(arena.frames_in_use(), (at + c.size + kPageSize - 1) / kPageSize);
  }
  CHECK(split > 0);
  CHECK_EQ(arena.frames_in_use(), c.frames);
  m.check_all();
  // A second zspage starts with a single frame.
  CHECK(m.add(size, P));
  CHECK_EQ(arena.frames_in_use(), c.frames + 1u);
  const Zsmalloc::ClassStats st = z.class_stats(P, z.classes().class_of(size + tmem::kHeaderBytes));
  CHECK_EQ(st.zspages, 2);
  CHECK_EQ(st.frames, c.frames + 1u);
  CHECK_EQ(st.used, c.objs + 1u);
  CHECK(z.consistent());
}

// Allocation fills the fullest non-full zspage first; frees move zspages between fullness groups;
// an emptied zspage gives its frames back at once.
static void test_fullness_groups() {
  ModelFixture<Zsmalloc> f(256);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  const uint32_t size = 400;
  const uint32_t index = z.classes().class_of(size + tmem::kHeaderBytes);
  const SizeClass& c = z.classes()[index];
  for (uint32_t i = 0; i < 3 * c.objs; i++) CHECK(m.add(size, P));
  CHECK_EQ(z.group_count(P, index, Zsmalloc::kFullGroup), 3);
  // Free most of the first zspage's objects and a few of the second's.
  for (uint32_t i = 0; i < c.objs - 1u; i++) m.remove_id(i);
  for (uint32_t i = c.objs; i < c.objs + 2u; i++) m.remove_id(i);
  CHECK(z.consistent());
  CHECK_EQ(z.group_count(P, index, Zsmalloc::kFullGroup), 1);
  CHECK_EQ(z.group_count(P, index, 1), 1);  // one object left of c.objs
  const uint32_t dense = 1 + (100 * (c.objs - 2) / c.objs) / 10;
  CHECK_EQ(z.group_count(P, index, dense), 1);
  // The next objects go to the fullest non-full zspage: the dense one fills up first.
  CHECK(m.add(size, P));
  CHECK(m.add(size, P));
  CHECK_EQ(z.group_count(P, index, Zsmalloc::kFullGroup), 2);
  CHECK_EQ(z.group_count(P, index, 1), 1);
  const uint64_t frames = arena.frames_in_use();
  // The last object of the sparse zspage goes, and its frames with it.
  m.remove_id(c.objs - 1u);
  CHECK_EQ(arena.frames_in_use(), frames - c.frames);
  CHECK_EQ(z.group_count(P, index, 1), 0);
  CHECK(z.consistent());
  m.check_all();
}

// Compaction: classes freed down to a third, randomly, are packed again: frames come back, each
// class keeps less than one zspage of spare frames, handles are unchanged and every object reads
// back what it read before. Then the churn measure: frames over ideal (the live objects' slots).
static void test_compaction() {
  ModelFixture<Zsmalloc> f(32768);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  std::mt19937 rng(3);
  const uint32_t n = 90000;
  for (uint32_t i = 0; i < n; i++) CHECK(m.add(600 + rng() % 800, i % 5 == 0 ? E : P));
  std::vector<Handle> handles;
  for (uint32_t i = 0; i < n; i++) handles.push_back(m.object(i).handle);
  while (m.live().size() > n / 3) m.remove(rng() % m.live().size());
  CHECK(z.consistent());
  const uint32_t before = arena.frames_in_use();
  const uint32_t released = z.compact(tmem::CompactMode::kAll, m);
  CHECK(z.consistent());
  CHECK_EQ(arena.frames_in_use(), before - released);
  CHECK(released > before / 3);
  for (uint32_t id : m.live()) CHECK_EQ(m.object(id).handle, handles[id]);
  m.check_all();
  uint64_t ideal_bytes = 0;
  for (int cls = 0; cls < 2; cls++) {
    for (uint32_t i = 0; i < z.classes().count(); i++) {
      const SizeClass& c = z.classes()[i];
      const auto st = z.class_stats(static_cast<AllocClass>(cls), i);
      ideal_bytes += st.used * c.size;
      CHECK(z.reclaimable_frames(static_cast<AllocClass>(cls), i) < c.frames);
    }
  }
  const double ratio = arena.frames_in_use() / (double(ideal_bytes) / kPageSize);
  std::printf("  %u objects, two thirds freed at random: %u frames, %u released by compaction, %.3f x ideal, "
              "%llu compactions, %llu frames compacted\n",
              n, before, released, ratio, static_cast<unsigned long long>(z.compactions()),
              static_cast<unsigned long long>(z.frames_compacted()));
  std::fflush(stdout);
  CHECK(ratio <= 1.10);
  CHECK(z.compactions() >= 1 && z.frames_compacted() == released);
  // Nothing left to do.
  CHECK_EQ(z.compact(tmem::CompactMode::kAll, m), 0);
}

// Frees push a class over the automatic threshold; compact(kAuto) then works on that class only.
static void test_auto_compaction_threshold() {
  ModelFixture<Zsmalloc> f(4096);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  for (uint32_t i = 0; i < 3000; i++) CHECK(m.add(1000, P));
  CHECK(!z.wants_compaction());
  // Every other object: half of the class's frames are spare.
  for (uint32_t id = 0; id < 3000; id += 2) m.remove_id(id);
  CHECK(z.wants_compaction());
  const uint32_t before = arena.frames_in_use();
  CHECK(z.compact(tmem::CompactMode::kAuto, m) > before / 3);
  CHECK(!z.wants_compaction());
  m.check_all();
  CHECK(z.consistent());
}

// Compaction between reads: every live object read, the classes compacted under them, read again
// through the same handles: the same bytes, many at another address.
static void test_reads_across_compaction() {
  ModelFixture<Zsmalloc> f(2048);
  auto& z = f.a;
  auto& m = f.m;
  std::mt19937 rng(5);
  for (uint32_t i = 0; i < 2000; i++) CHECK(m.add(300 + rng() % 600, P));
  uint64_t moved = 0;
  uint8_t bounce[kPageSize];
  for (uint32_t round = 0; round < 10; round++) {
    for (uint32_t k = 0; k < 100; k++) m.remove(rng() % m.live().size());
    std::vector<const uint8_t*> where;
    std::vector<std::vector<uint8_t>> before;
    for (uint32_t id : m.live()) {
      const AllocatorModel::Object& o = m.object(id);
      const uint8_t* p = z.map(o.handle, o.size, bounce);
      before.emplace_back(p, p + o.size);
      where.push_back(z.header(o.handle));
    }
    z.compact(tmem::CompactMode::kAll, m);
    for (size_t i = 0; i < m.live().size(); i++) {
      const AllocatorModel::Object& o = m.object(m.live()[i]);
      moved += z.header(o.handle) != where[i];
      CHECK(std::memcmp(z.map(o.handle, o.size, bounce), before[i].data(), o.size) == 0);
    }
    CHECK(z.consistent());
  }
  std::printf("  %llu objects moved while their handles stayed\n", static_cast<unsigned long long>(moved));
  CHECK(moved > 0);
}

// unit_headers names every object of a zspage (for eviction of a whole ephemeral unit); freeing
// them all returns its frames.
static void test_unit_headers() {
  ModelFixture<Zsmalloc> f(64);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  for (uint32_t i = 0; i < 10; i++) CHECK(m.add(700, E));
  m.remove(3);
  uint8_t out[Allocator::kMaxUnitObjects * tmem::kHeaderBytes];
  const uint32_t n = z.unit_headers(m.object(m.live()[0]).handle, out);
  CHECK_EQ(n, 9);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < n; i++) ids.push_back(tmem::header::owner(out + i * tmem::kHeaderBytes).offset);
  for (uint32_t id : ids) CHECK(m.object(id).handle != tmem::kNoHandle);
  CHECK(m.add(kPageSize, E));  // huge: its own one-frame zspage, header out of band
  const Handle huge = m.object(10).handle;
  CHECK_EQ(z.unit_headers(huge, out), 1);
  CHECK_EQ(tmem::header::owner(out).offset, 10);
  m.check_all();
  while (!m.live().empty()) m.remove(0);
  CHECK_EQ(arena.frames_in_use(), 0);
}

// Out of frames: a new zspage is not made, and nothing is left half-made.
static void test_out_of_memory() {
  ModelFixture<Zsmalloc> f(4);
  auto& z = f.a;
  auto& m = f.m;
  for (uint32_t i = 0; i < 4; i++) CHECK(m.add(kPageSize, P));
  CHECK(!m.add(100, P));
  CHECK(!m.add(kPageSize, E));
  CHECK(z.consistent());
  m.remove(0);
  CHECK(m.add(100, P));
  CHECK(m.add(110, P));  // the same class: the same frame
  CHECK(!m.add(2000, P));
  m.check_all();
  Handle h;
  CHECK(z.alloc(0, P, &h) == AllocStatus::kTooBig);
  CHECK(z.alloc(kPageSize + 1, P, &h) == AllocStatus::kTooBig);
}

static void test_random_against_model() {
  Arena arena;
  CHECK(arena.init(1024));
  Zsmalloc z(&arena);
  CHECK(z.init());
  run_model(z, arena, 200000, 12345, [&](AllocatorModel& m) {
    CHECK(z.consistent());
    tmem::AllocatorStats s;
    z.stats(&s);
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], arena.frames_in_use());
    CHECK(s.class_object_bytes[0] + s.class_object_bytes[1] >= m.live_bytes());
  });
}

int main() {
  RUN(test_class_geometry);
  RUN(test_straddling_objects);
  RUN(test_fullness_groups);
  RUN(test_compaction);
  RUN(test_auto_compaction_threshold);
  RUN(test_reads_across_compaction);
  RUN(test_unit_headers);
  RUN(test_out_of_memory);
  RUN(test_random_against_model);
  return 0;
}
