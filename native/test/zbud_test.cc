// zbud: buddy placement, the unbuddied lists by free chunks, buddied transitions, whole-frame
// objects with their header out of band, per-class separation, unit headers, and a randomized run
// against a model.
#include "zbud.h"

#include <cstring>
#include <vector>

#include "allocator_model.h"
#include "check.h"

using namespace tmem_test;
using tmem::Arena;
using tmem::Zbud;

static const AllocClass P = AllocClass::kPersistent;
static const AllocClass E = AllocClass::kEphemeral;

// Chunks an object of `size` data bytes takes (its header included).
static uint32_t chunks(uint32_t size) { return (size + tmem::kHeaderBytes + Zbud::kChunkSize - 1) / Zbud::kChunkSize; }

static void test_placement_and_lists() {
  ModelFixture<Zbud> f(64);
  auto& z = f.a;
  auto& m = f.m;
  auto& arena = f.arena;

  // A first buddy starts at chunk 0 (its header first); its frame waits on the list for its free
  // chunk count.
  CHECK(m.add(100, P));  // 2 chunks
  const Handle h0 = m.object(0).handle;
  CHECK_EQ(Zbud::frame_of(h0), 0);
  CHECK_EQ(Zbud::buddy_of(h0), 0);
  CHECK(z.header(h0) == arena.frame(0));
  CHECK(z.map(h0, 100, nullptr) == arena.frame(0) + tmem::kHeaderBytes);
  CHECK_EQ(z.unbuddied_head(P, 64 - chunks(100)), 0);

  // A last buddy is right-aligned in the same frame, which moves to the buddied list.
  CHECK(m.add(1000, P));  // 16 chunks
  const Handle h1 = m.object(1).handle;
  CHECK_EQ(Zbud::frame_of(h1), 0);
  CHECK_EQ(Zbud::buddy_of(h1), 1);
  CHECK(z.header(h1) == arena.frame(0) + (64 - chunks(1000)) * Zbud::kChunkSize);
  CHECK_EQ(z.unbuddied_head(P, 64 - chunks(100)), Zbud::kNil);
  CHECK_EQ(z.buddied_head(P), 0);
  CHECK_EQ(z.chunks(0, 0), chunks(100));
  CHECK_EQ(z.chunks(0, 1), chunks(1000));

  // A raw page fills a frame on its own, its header out of band; on unbuddied[0], never searched.
  CHECK(m.add(kPageSize, P));
  const Handle h2 = m.object(2).handle;
  CHECK_EQ(Zbud::frame_of(h2), 1);
  CHECK(z.map(h2, kPageSize, nullptr) == arena.frame(1));
  CHECK(z.header(h2) < arena.frame(0) || z.header(h2) >= arena.frame(64));
  CHECK_EQ(z.unbuddied_head(P, 0), 1);
  // So does an object whose header and data need more than a frame.
  CHECK(m.add(kPageSize - 4, P));
  CHECK_EQ(Zbud::frame_of(m.object(3).handle), 2);
  CHECK_EQ(z.list_next(2), 1);

  CHECK(m.add(2990, P));  // 47 chunks: frame 3, 17 free
  CHECK_EQ(z.unbuddied_head(P, 17), 3);
  CHECK(m.add(1100, P));  // 18 chunks: does not fit frame 3
  CHECK_EQ(Zbud::frame_of(m.object(5).handle), 4);
  CHECK(m.add(1075, P));  // exactly 17 chunks: fills frame 3
  CHECK_EQ(Zbud::frame_of(m.object(6).handle), 3);
  CHECK_EQ(z.unbuddied_head(P, 17), Zbud::kNil);

  // Freeing a first buddy leaves the last buddy in place; the frame goes back to unbuddied.
  const uint8_t* h1_at = z.header(h1);
  m.remove_id(0);
  CHECK(z.header(h1) == h1_at);
  CHECK_EQ(z.unbuddied_head(P, 64 - chunks(1000)), 0);
  // Tightest fit first: a 4-chunk object goes to frame 4 (46 free) rather than frame 0 (48 free).
  CHECK(m.add(200, P));
  CHECK_EQ(Zbud::frame_of(m.object(7).handle), 4);
  // The empty first slot of frame 0 is reused.
  CHECK(m.add(2900, P));
  const Handle h8 = m.object(8).handle;
  CHECK_EQ(Zbud::frame_of(h8), 0);
  CHECK_EQ(Zbud::buddy_of(h8), 0);
  m.check_all();

  // Both buddies gone: the frame goes back to the arena.
  const uint32_t in_use = arena.frames_in_use();
  m.remove_id(1);
  m.remove_id(8);
  CHECK_EQ(arena.frames_in_use(), in_use - 1);

  // Classes never share frames.
  CHECK(m.add(100, E));
  const Handle he = m.object(9).handle;
  CHECK(m.add(100, P));
  CHECK(Zbud::frame_of(m.object(10).handle) != Zbud::frame_of(he));
  CHECK_EQ(z.unbuddied_head(E, 64 - chunks(100)), Zbud::frame_of(he));
  tmem::AllocatorStats s;
  z.stats(&s);
  CHECK_EQ(s.class_frames[1], 1);
  CHECK_EQ(s.class_frames[0] + s.class_frames[1], arena.frames_in_use());

  // A unit is a frame: both of its buddies' headers.
  CHECK(m.add(300, E));
  uint8_t out[2 * tmem::kHeaderBytes];
  CHECK_EQ(z.unit_headers(he, out), 2);
  CHECK_EQ(tmem::header::owner(out).offset, 9);
  CHECK_EQ(tmem::header::owner(out + tmem::kHeaderBytes).offset, 11);
  m.check_all();
  CHECK(z.consistent());
  m.remove_id(11);

  Handle dummy;
  CHECK(z.alloc(0, P, &dummy) == AllocStatus::kTooBig);
  CHECK(z.alloc(kPageSize + 1, P, &dummy) == AllocStatus::kTooBig);
  // Fill the arena: the allocator fails cleanly at its cap.
  while (arena.frames_in_use() < arena.max_frames()) CHECK(m.add(kPageSize, P));
  CHECK(z.alloc(kPageSize, P, &dummy) == AllocStatus::kNoMemory);
  CHECK(m.add(64, E));  // still room next to an ephemeral buddy
}

static void test_random_against_model() {
  Arena arena;
  CHECK(arena.init(512));
  Zbud z(&arena);
  CHECK(z.init());
  run_model(z, arena, 100000, 12345, [&](AllocatorModel&) {
    CHECK(z.consistent());
    tmem::AllocatorStats s;
    z.stats(&s);
    CHECK_EQ(s.class_frames[0] + s.class_frames[1], arena.frames_in_use());
  });
}

int main() {
  RUN(test_placement_and_lists);
  RUN(test_random_against_model);
  return 0;
}
