// zbud: buddy placement, the unbuddied lists by free chunks, buddied transitions, LRU order,
// whole-page objects, per-class separation, and a randomized run against a shadow model.
#include "zbud.h"

#include <cstring>
#include <random>
#include <vector>

#include "check.h"

using tmem::AllocClass;
using tmem::AllocStatus;
using tmem::AllocatorStats;
using tmem::Arena;
using tmem::Handle;
using tmem::kPageSize;
using tmem::OwnerRef;
using tmem::Zbud;

static const AllocClass P = AllocClass::kPersistent;
static const AllocClass E = AllocClass::kEphemeral;

static Handle alloc(Zbud& z, size_t size, AllocClass cls = P, OwnerRef owner = {0, 0}) {
  Handle h;
  CHECK(z.alloc(size, cls, owner, &h) == AllocStatus::kOk);
  std::memset(z.map(h), static_cast<int>(h & 0xff), size);
  return h;
}

static bool intact(Zbud& z, Handle h, size_t size) {
  const uint8_t* p = z.map(h);
  for (size_t i = 0; i < size; i++) {
    if (p[i] != (h & 0xff)) return false;
  }
  return true;
}

static void test_placement_and_lists() {
  Arena arena;
  CHECK(arena.init(64));
  Zbud z(&arena);
  CHECK(z.init());

  // A first buddy starts at chunk 0; its frame waits on the list for its free chunk count.
  Handle h0 = alloc(z, 100, P, {3, 77});  // 2 chunks
  CHECK_EQ(Zbud::frame_of(h0), 0);
  CHECK_EQ(Zbud::buddy_of(h0), 0);
  CHECK(z.map(h0) == arena.frame(0));
  CHECK_EQ(z.unbuddied_head(P, 62), 0);

  // A last buddy is right-aligned in the same frame, which moves to the buddied list.
  Handle h1 = alloc(z, 1000, P, {3, 78});  // 16 chunks
  CHECK_EQ(Zbud::frame_of(h1), 0);
  CHECK_EQ(Zbud::buddy_of(h1), 1);
  CHECK(z.map(h1) == arena.frame(0) + 48 * Zbud::kChunkSize);
  CHECK_EQ(z.unbuddied_head(P, 62), Zbud::kNil);
  CHECK_EQ(z.buddied_head(P), 0);
  Zbud::FrameInfo info = z.frame_info(0);
  CHECK_EQ(info.chunks[0], 2);
  CHECK_EQ(info.chunks[1], 16);
  CHECK_EQ(info.owners[0].area_type, 3);
  CHECK_EQ(info.owners[0].offset, 77);
  CHECK_EQ(info.owners[1].offset, 78);

  // A raw page fills a frame on its own (header out of band), on unbuddied[0], never searched.
  Handle h2 = alloc(z, kPageSize);
  CHECK_EQ(Zbud::frame_of(h2), 1);
  CHECK(z.map(h2) == arena.frame(1));
  CHECK_EQ(z.unbuddied_head(P, 0), 1);

  Handle h3 = alloc(z, 3000);  // 47 chunks: new frame 2, 17 free
  CHECK_EQ(Zbud::frame_of(h3), 2);
  CHECK_EQ(z.unbuddied_head(P, 17), 2);
  Handle h4 = alloc(z, 1100);  // 18 chunks: does not fit frame 2
  CHECK_EQ(Zbud::frame_of(h4), 3);
  CHECK_EQ(z.unbuddied_head(P, 46), 3);
  Handle h5 = alloc(z, 1088);  // exactly 17 chunks: fills frame 2
  CHECK_EQ(Zbud::frame_of(h5), 2);
  CHECK(z.map(h5) == arena.frame(2) + 47 * Zbud::kChunkSize);
  CHECK_EQ(z.unbuddied_head(P, 17), Zbud::kNil);
  CHECK_EQ(z.buddied_head(P), 2);
  CHECK_EQ(z.list_next(2), 0);

  // LRU: most recently allocated first.
  const uint32_t lru[] = {2, 3, 1, 0};
  uint32_t f = z.lru_head(P);
  for (uint32_t want : lru) {
    CHECK_EQ(f, want);
    f = z.lru_next(f);
  }
  CHECK_EQ(f, Zbud::kNil);
  CHECK_EQ(z.lru_tail(P), 0);
  CHECK_EQ(z.lru_prev(0), 1);

  AllocatorStats s;
  z.stats(&s);
  CHECK_EQ(s.frames, 4);
  CHECK_EQ(s.buddied, 2);
  CHECK_EQ(s.unbuddied, 2);
  CHECK_EQ(s.object_bytes, (2 + 16 + 64 + 47 + 18 + 17) * Zbud::kChunkSize);

  // Freeing a first buddy leaves the last buddy in place; the frame goes back to unbuddied.
  uint8_t* h1_data = z.map(h1);
  z.free(h0);
  CHECK(z.map(h1) == h1_data);
  CHECK(intact(z, h1, 1000));
  CHECK_EQ(z.unbuddied_head(P, 48), 0);

  // Tightest fit first: a 4-chunk object goes to frame 3 (46 free) rather than frame 0 (48 free).
  Handle h6 = alloc(z, 200);
  CHECK_EQ(Zbud::frame_of(h6), 3);
  CHECK_EQ(Zbud::buddy_of(h6), 1);
  // The empty first slot of frame 0 is reused.
  Handle h7 = alloc(z, 2900);  // 46 chunks
  CHECK_EQ(Zbud::frame_of(h7), 0);
  CHECK_EQ(Zbud::buddy_of(h7), 0);
  CHECK(z.map(h7) == arena.frame(0));

  // Everything survived the reshuffles.
  CHECK(intact(z, h1, 1000));
  CHECK(intact(z, h2, kPageSize));
  CHECK(intact(z, h3, 3000));
  CHECK(intact(z, h4, 1100));
  CHECK(intact(z, h5, 1088));
  CHECK(intact(z, h6, 200));
  CHECK(intact(z, h7, 2900));

  // Both buddies gone: the frame goes back to the arena.
  z.free(h1);
  CHECK_EQ(z.unbuddied_head(P, 18), 0);
  z.free(h7);
  z.stats(&s);
  CHECK_EQ(s.frames, 3);
  CHECK_EQ(arena.frames_in_use(), 3);

  // Second chance: a load marks the frame referenced.
  CHECK(!z.frame_info(2).referenced);
  z.touch(h3);
  CHECK(z.frame_info(2).referenced);
  CHECK(!z.frame_info(3).referenced);

  // Classes never share frames.
  Handle hp = alloc(z, 100, P);
  Handle he = alloc(z, 100, E);
  CHECK(Zbud::frame_of(hp) != Zbud::frame_of(he));
  CHECK(z.frame_info(Zbud::frame_of(he)).cls == E);
  CHECK_EQ(z.unbuddied_head(E, 62), Zbud::frame_of(he));
  CHECK_EQ(z.lru_head(E), Zbud::frame_of(he));
  z.stats(&s);
  CHECK_EQ(s.class_frames[0], 4);
  CHECK_EQ(s.class_frames[1], 1);

  Handle dummy;
  CHECK(z.alloc(0, P, {0, 0}, &dummy) == AllocStatus::kTooBig);
  CHECK(z.alloc(kPageSize + 1, P, {0, 0}, &dummy) == AllocStatus::kTooBig);
  // Fill the arena: the allocator fails cleanly at its cap.
  uint32_t left = arena.max_frames() - arena.frames_in_use();
  for (uint32_t i = 0; i < left; i++) alloc(z, kPageSize);
  CHECK(z.alloc(kPageSize, P, {0, 0}, &dummy) == AllocStatus::kNoMemory);
  CHECK(z.alloc(64, E, {0, 0}, &dummy) == AllocStatus::kOk);  // still room next to `he`
}

// Random allocations and frees, checked against a shadow list: contents survive, and the
// counters agree with what is live.
static void test_random_against_model() {
  Arena arena;
  CHECK(arena.init(256));
  Zbud z(&arena);
  CHECK(z.init());
  struct Live {
    Handle h;
    size_t size;
  };
  std::vector<Live> live;
  std::mt19937 rng(12345);
  for (int step = 0; step < 50000; step++) {
    bool do_alloc = live.empty() || (rng() % 100) < 55;
    if (do_alloc) {
      size_t size = 1 + rng() % kPageSize;
      if (rng() % 4 == 0) size = 1 + rng() % 512;
      AllocClass cls = rng() % 8 == 0 ? E : P;
      Handle h;
      AllocStatus st = z.alloc(size, cls, {static_cast<uint8_t>(step % 32), static_cast<uint32_t>(step)}, &h);
      if (st == AllocStatus::kNoMemory) continue;
      CHECK(st == AllocStatus::kOk);
      std::memset(z.map(h), static_cast<int>(h & 0xff), size);
      live.push_back({h, size});
    } else {
      size_t i = rng() % live.size();
      CHECK(intact(z, live[i].h, live[i].size));
      z.free(live[i].h);
      live[i] = live.back();
      live.pop_back();
    }
  }
  uint64_t chunks = 0;
  for (const Live& l : live) {
    CHECK(intact(z, l.h, l.size));
    chunks += (l.size + Zbud::kChunkSize - 1) / Zbud::kChunkSize;
  }
  AllocatorStats s;
  z.stats(&s);
  CHECK_EQ(s.object_bytes, chunks * Zbud::kChunkSize);
  CHECK_EQ(s.frames, arena.frames_in_use());
  CHECK_EQ(s.buddied + s.unbuddied, s.frames);
  CHECK_EQ(s.class_frames[0] + s.class_frames[1], s.frames);
  uint64_t lru_frames = 0;
  for (AllocClass cls : {P, E}) {
    for (uint32_t f = z.lru_head(cls); f != Zbud::kNil; f = z.lru_next(f)) lru_frames++;
  }
  CHECK_EQ(lru_frames, s.frames);
  for (const Live& l : live) z.free(l.h);
  CHECK_EQ(arena.frames_in_use(), 0);
}

int main() {
  RUN(test_placement_and_lists);
  RUN(test_random_against_model);
  return 0;
}
