// libFuzzer target: the codec on arbitrary bytes, the way the pool's load path meets a block whose
// bytes or stored length went wrong.
//  1. The input as a compressed block: Codec::decompress must stay inside the block and the page,
//     and report success only when the block decodes to exactly one page: such a page must
//     compress and decompress back to itself. The system liblz4 is not instrumented, so ASan sees
//     only our code's accesses; guard bytes around the page catch a write of liblz4's past it
//     (which a wrong capacity from our side would cause).
//  2. The input as page contents (repeated to fill 4 KiB): compress, decompress, compare; the
//     same-filled test and fill() agree with a plain word-by-word check.
//  3. That page's compressed block with the stored length off by the input's last byte (too
//     short, too long): decompress may fail, never touch memory outside the buffers.
#include <cstdint>
#include <cstring>
#include <memory>

#include "../codec.h"
#include "../test/check.h"

using tmem::Codec;
using tmem::kPageSize;

namespace {

bool plain_same_filled(const uint8_t* page, uint32_t* word) {
  uint32_t first, w;
  std::memcpy(&first, page, 4);
  for (size_t i = 4; i < kPageSize; i += 4) {
    std::memcpy(&w, page + i, 4);
    if (w != first) return false;
  }
  *word = first;
  return true;
}

void round_trip(Codec& codec, const uint8_t* page) {
  uint32_t len = codec.compress(page);
  CHECK(len > 0 && len <= Codec::kScratchBytes);
  auto block = std::make_unique<uint8_t[]>(len);
  std::memcpy(block.get(), codec.scratch(), len);
  auto out = std::make_unique<uint8_t[]>(kPageSize);
  CHECK(Codec::decompress(block.get(), len, out.get()));
  CHECK(std::memcmp(out.get(), page, kPageSize) == 0);
}

constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xa5;

// A page with guard bytes on both sides.
class GuardedPage {
 public:
  GuardedPage() : bytes_(std::make_unique<uint8_t[]>(kGuard + kPageSize + kGuard)) {
    std::memset(bytes_.get(), kGuardByte, kGuard + kPageSize + kGuard);
  }
  uint8_t* get() { return bytes_.get() + kGuard; }
  uint8_t& operator[](size_t i) { return get()[i]; }
  void check_guards() const {
    for (size_t i = 0; i < kGuard; i++) {
      CHECK(bytes_[i] == kGuardByte);
      CHECK(bytes_[kGuard + kPageSize + i] == kGuardByte);
    }
  }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Codec codec;
  GuardedPage page;

  // 1. Arbitrary block. An empty one is a length of 0, which the pool never stores but must not crash.
  auto block = std::make_unique<uint8_t[]>(size);
  if (size > 0) std::memcpy(block.get(), data, size);
  if (Codec::decompress(block.get(), static_cast<uint32_t>(size), page.get())) round_trip(codec, page.get());
  page.check_guards();

  if (size == 0) return 0;

  // 2. The input as a page.
  for (size_t i = 0; i < kPageSize; i++) page[i] = data[i % size];
  uint32_t word = 0, plain = 0;
  bool same = Codec::same_filled(page.get(), &word);
  CHECK(same == plain_same_filled(page.get(), &plain));
  if (same) {
    CHECK(word == plain);
    auto filled = std::make_unique<uint8_t[]>(kPageSize);
    Codec::fill(filled.get(), word);
    CHECK(std::memcmp(filled.get(), page.get(), kPageSize) == 0);
  }
  round_trip(codec, page.get());

  // 3. The same block with a wrong stored length, in a buffer of exactly that length.
  uint32_t len = codec.compress(page.get());
  int delta = static_cast<int8_t>(data[size - 1]);
  uint32_t wrong = static_cast<uint32_t>(std::max<int64_t>(0, static_cast<int64_t>(len) + delta));
  auto skewed = std::make_unique<uint8_t[]>(wrong);
  std::memcpy(skewed.get(), codec.scratch(), std::min(len, wrong));
  if (wrong > len) std::memset(skewed.get() + len, data[0], wrong - len);
  if (Codec::decompress(skewed.get(), wrong, page.get())) round_trip(codec, page.get());
  page.check_guards();
  return 0;
}
