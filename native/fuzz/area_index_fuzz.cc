// libFuzzer target: the per-area index (area_index.h) driven by set / take / replace / get /
// drain / reset operations decoded from the input, against a std::map model. Checks every answer,
// the entry and byte counts, the packed entry fields, and that leaves are freed with their last
// entry (metadata falls back to the top array alone).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <map>

#include "../area_index.h"
#include "../test/check.h"

using namespace tmem;

namespace {

uint64_t MakeEntry(FuzzedDataProvider& in) {
  auto kind = static_cast<EntryKind>(in.ConsumeIntegralInRange<int>(1, 3));
  uint32_t length = in.ConsumeIntegralInRange<uint32_t>(0, 4096);
  uint32_t payload = in.ConsumeIntegral<uint32_t>();
  uint64_t e = Entry::make(kind, length, payload);
  CHECK(Entry::kind(e) == kind);
  CHECK_EQ(Entry::length(e), length);
  CHECK_EQ(Entry::payload(e), payload);
  CHECK(!Entry::under_writeback(e));
  if (in.ConsumeBool()) {
    e |= Entry::kUnderWriteback;
    CHECK(Entry::under_writeback(e) && Entry::length(e) == length && Entry::kind(e) == kind);
  }
  return e;
}

void CheckTotals(const AreaIndex& index, const std::map<uint32_t, uint64_t>& model) {
  uint64_t bytes = 0;
  for (const auto& [offset, e] : model) bytes += Entry::length(e);
  CHECK_EQ(index.entries(), model.size());
  CHECK_EQ(index.bytes(), bytes);
  if (model.empty()) {
    uint64_t top = (static_cast<uint64_t>(index.pages()) + AreaIndex::kLeafEntries - 1) / AreaIndex::kLeafEntries;
    CHECK(index.metadata_bytes() <= top * 16);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  AreaIndex index;
  std::map<uint32_t, uint64_t> model;
  // Up to a few leaves, so offsets collide often and leaves come and go.
  uint32_t pages = in.ConsumeIntegralInRange<uint32_t>(1, 4 * AreaIndex::kLeafEntries + 7);
  CHECK(index.init(pages));
  while (in.remaining_bytes() > 0) {
    const uint8_t op = in.ConsumeIntegral<uint8_t>() % 8;
    const uint32_t offset = in.ConsumeIntegralInRange<uint32_t>(0, pages - 1);
    auto it = model.find(offset);
    switch (op) {
      case 0:
      case 1:
      case 2:
        CHECK_EQ(index.get(offset), it == model.end() ? 0 : it->second);
        if (it == model.end()) {
          uint64_t e = MakeEntry(in);
          CHECK(index.set(offset, e));
          model[offset] = e;
        }
        break;
      case 3:
        CHECK_EQ(index.take(offset), it == model.end() ? 0 : it->second);
        if (it != model.end()) model.erase(it);
        break;
      case 4:
        if (it != model.end()) {
          uint64_t e = MakeEntry(in);
          index.replace(offset, e);
          it->second = e;
        }
        break;
      case 5:
        CHECK_EQ(index.get(offset), it == model.end() ? 0 : it->second);
        break;
      case 6: {
        if (in.ConsumeIntegral<uint8_t>() >= 16) break;  // rarely: drain empties everything
        std::map<uint32_t, uint64_t> seen;
        index.drain([&](uint32_t off, uint64_t e) {
          CHECK(seen.emplace(off, e).second);
        });
        CHECK(seen == model);
        model.clear();
        break;
      }
      default:
        if (in.ConsumeIntegral<uint8_t>() >= 8) break;  // rarely: reset and size anew
        index.reset();
        model.clear();
        CHECK(!index.active());
        pages = in.ConsumeIntegralInRange<uint32_t>(1, 4 * AreaIndex::kLeafEntries + 7);
        CHECK(index.init(pages));
        break;
    }
    CheckTotals(index, model);
  }
  return 0;
}
