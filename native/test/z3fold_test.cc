// z3fold: first, last and middle placement, headless frames, the unbuddied lists by largest gap,
// in-frame compaction of the middle buddy (handles stay, data moves intact), unit headers, and a
// randomized run against a model that also checks every frame's list.
#include "z3fold.h"

#include <cstring>
#include <vector>

#include "allocator_model.h"
#include "check.h"

using namespace tmem_test;
using tmem::Arena;
using tmem::Z3fold;

static const AllocClass P = AllocClass::kPersistent;
static const AllocClass E = AllocClass::kEphemeral;

// Data bytes that take exactly `n` chunks with the header.
static uint32_t bytes_for(uint32_t n) { return n * Z3fold::kChunkSize - tmem::kHeaderBytes; }

static void test_placement() {
  ModelFixture<Z3fold> f(16);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;
  CHECK(m.add(bytes_for(10), P));  // first buddy: chunk 0
  const Handle a = m.object(0).handle;
  CHECK_EQ(Z3fold::frame_of(a), 0);
  CHECK_EQ(z.start(0, Z3fold::slot_of(a)), 0);
  CHECK(z.header(a) == arena.frame(0));
  CHECK_EQ(z.largest_gap(0), 54);
  CHECK(m.add(bytes_for(20), P));  // does not fit before the first: last buddy, right-aligned
  const Handle b = m.object(1).handle;
  CHECK_EQ(Z3fold::frame_of(b), 0);
  CHECK_EQ(z.start(0, Z3fold::slot_of(b)), 44);
  CHECK_EQ(z.largest_gap(0), 34);
  CHECK(m.add(bytes_for(30), P));  // middle buddy, in the gap
  const Handle c = m.object(2).handle;
  CHECK_EQ(Z3fold::frame_of(c), 0);
  CHECK_EQ(z.start(0, Z3fold::slot_of(c)), 10);
  CHECK_EQ(z.largest_gap(0), 4);
  // Three objects: buddied, even with room left.
  CHECK(m.add(bytes_for(2), P));
  CHECK_EQ(Z3fold::frame_of(m.object(3).handle), 1);
  m.check_all();

  // Headless: a raw page takes a frame alone, header out of band.
  CHECK(m.add(kPageSize, P));
  const Handle h = m.object(4).handle;
  CHECK(z.headless(Z3fold::frame_of(h)));
  CHECK(z.map(h, kPageSize, nullptr) == arena.frame(Z3fold::frame_of(h)));
  uint8_t out[3 * tmem::kHeaderBytes];
  CHECK_EQ(z.unit_headers(h, out), 1);
  CHECK_EQ(z.unit_headers(a, out), 3);
  // Classes never share frames.
  CHECK(m.add(bytes_for(2), E));
  CHECK(Z3fold::frame_of(m.object(5).handle) != 1);
  m.check_all();
  CHECK(z.consistent());
  Handle dummy;
  CHECK(z.alloc(0, P, &dummy) == AllocStatus::kTooBig);
}

// A freed neighbour lets the middle buddy move: to chunk 0 when it is alone, next to the first or
// the last buddy when it floats at least kBigGap chunks away. Handles stay valid, data intact.
static void test_in_frame_compaction() {
  ModelFixture<Z3fold> f(16);
  auto& z = f.a;
  auto& m = f.m;
  // Frame 0: first [0,10), last [44,64), middle [10,40).
  CHECK(m.add(bytes_for(10), P));
  CHECK(m.add(bytes_for(20), P));
  CHECK(m.add(bytes_for(30), P));
  const Handle mid = m.object(2).handle;
  // The first goes: the middle, now away from chunk 0, ends 4 >= kBigGap chunks before the last
  // buddy, so it moves next to it.
  m.remove_id(0);
  CHECK_EQ(z.start(0, Z3fold::slot_of(mid)), 14);
  CHECK_EQ(z.largest_gap(0), 14);
  m.check_all();
  // The last goes: the middle is alone, and moves to chunk 0.
  m.remove_id(1);
  CHECK_EQ(z.start(0, Z3fold::slot_of(mid)), 0);
  CHECK_EQ(z.largest_gap(0), 34);
  m.check_all();
  // Room for a first buddy is gone (the middle sits at 0), so a new object goes last.
  CHECK(m.add(bytes_for(5), P));
  CHECK_EQ(z.start(0, Z3fold::slot_of(m.object(3).handle)), 59);
  CHECK(m.add(bytes_for(8), P));  // and one more in the gap, right after the first object
  CHECK_EQ(z.start(0, Z3fold::slot_of(m.object(4).handle)), 30);
  CHECK(z.middle_moves() == 2);
  m.check_all();
  // The object at 59 goes: the one at [30, 38) already touches the object at chunk 0, so nothing
  // moves and the free space is one run.
  m.remove_id(3);
  CHECK_EQ(z.start(0, Z3fold::slot_of(m.object(4).handle)), 30);
  CHECK_EQ(z.middle_moves(), 2);
  m.check_all();
}

static void test_random_against_model() {
  Arena arena;
  CHECK(arena.init(512));
  Z3fold z(&arena);
  CHECK(z.init());
  run_model(z, arena, 100000, 4321, [&](AllocatorModel&) {
    CHECK(z.consistent());
    tmem::AllocatorStats s;
    z.stats(&s);
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], arena.frames_in_use());
  });
  std::printf("  %llu middle buddies moved\n", static_cast<unsigned long long>(z.middle_moves()));
  CHECK(z.middle_moves() > 0);
}

int main() {
  RUN(test_placement);
  RUN(test_in_frame_compaction);
  RUN(test_random_against_model);
  return 0;
}
