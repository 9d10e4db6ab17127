// Arena: growth and commit chunks, frame addressing, free-frame reuse, and that freed frames
// beyond the resident cache really go back to the OS.
#include "arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "check.h"

using tmem::Arena;
using tmem::kPageSize;

static bool resident(const uint8_t* p) {
  unsigned char vec = 0;
  CHECK(mincore(const_cast<uint8_t*>(p), kPageSize, &vec) == 0);
  return (vec & 1) != 0;
}

static void test_grow_and_address() {
  Arena a;
  CHECK(a.init(600));
  CHECK_EQ(a.committed_bytes(), 0);
  uint32_t first = a.alloc_frame();
  CHECK_EQ(first, 0);
  // One commit chunk at a time.
  CHECK_EQ(a.committed_bytes(), Arena::kCommitFrames * kPageSize);
  // Fresh frames are faulted in kPopulateFrames at a time (where the kernel can), never further.
  CHECK(!resident(a.frame(Arena::kPopulateFrames)));
  for (uint32_t i = 1; i < 600; i++) {
    uint32_t id = a.alloc_frame();
    CHECK_EQ(id, i);  // fresh frames are handed out in order
    CHECK(a.frame(id) == a.frame(0) + static_cast<size_t>(id) * kPageSize);
    std::memset(a.frame(id), static_cast<int>(id & 0xff), kPageSize);
  }
  CHECK_EQ(a.frames_in_use(), 600);
  CHECK_EQ(a.committed_bytes(), 600 * kPageSize);  // whole chunks, capped at the reservation
  CHECK_EQ(a.alloc_frame(), Arena::kNoFrame);  // at the cap
  CHECK_EQ(a.frames_in_use(), 600);
  for (uint32_t i = 1; i < 600; i++) CHECK_EQ(a.frame(i)[kPageSize - 1], i & 0xff);
}

static void test_free_reuse_and_return() {
  Arena a;
  CHECK(a.init(300));
  for (uint32_t i = 0; i < 300; i++) {
    CHECK_EQ(a.alloc_frame(), i);
    std::memset(a.frame(i), 0xab, kPageSize);
  }
  // Free 100 frames: at most kCachedFrames stay resident for reuse; the rest go back to the
  // OS, in batches of half the cache.
  for (uint32_t i = 0; i < 100; i++) a.free_frame(i);
  CHECK_EQ(a.frames_in_use(), 200);
  CHECK_EQ(a.free_frames(), 100);
  CHECK_EQ(a.returned_frames(), 64);  // two batches of 32
  uint32_t gone = 0;
  for (uint32_t i = 0; i < 100; i++) {
    if (resident(a.frame(i))) {
      CHECK_EQ(a.frame(i)[0], 0xab);  // a cached frame keeps its memory
    } else {
      gone++;
      CHECK_EQ(a.frame(i)[0], 0);  // MADV_DONTNEED dropped it; it reads back as zeros
    }
  }
  CHECK_EQ(gone, a.returned_frames());
  CHECK(resident(a.frame(150)));

  // Reuse: cached frames (most recent first), then returned ones; the high-water mark (and so
  // the commit) does not move and the cap still holds.
  size_t committed = a.committed_bytes();
  CHECK_EQ(a.alloc_frame(), 99);  // the most recently freed
  for (int i = 1; i < 100; i++) CHECK(a.alloc_frame() < 100);
  CHECK_EQ(a.free_frames(), 0);
  CHECK_EQ(a.returned_frames(), 0);
  CHECK_EQ(a.alloc_frame(), Arena::kNoFrame);
  CHECK_EQ(a.committed_bytes(), committed);
}

static void test_empty_arena() {
  Arena a;
  CHECK(a.init(0));
  CHECK_EQ(a.alloc_frame(), Arena::kNoFrame);
  CHECK(!Arena().init(Arena::kMaxFrames + 1u));
}

int main() {
  RUN(test_grow_and_address);
  RUN(test_free_reuse_and_return);
  RUN(test_empty_arena);
  return 0;
}
