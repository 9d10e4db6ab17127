// libFuzzer target: the pure argument checks of the N-API layer (napi/arg_checks.h) on arbitrary
// numbers and lengths, the parts of a call that JavaScript controls.
//  - IsIntegerIn, for every range an entry point uses, agrees with a definition written another
//    way (finite, no fraction, in range), and a value it accepts converts exactly to the integer
//    type the entry point then casts it to (UBSan reports an overflowing cast as a crash).
//  - IsPagesLength agrees with 128-bit arithmetic, for a 64-bit size_t and for a 32-bit one
//    (where n * 4096 wraps).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>

#include "../napi/arg_checks.h"
#include "../test/check.h"

using namespace tmem;

namespace {

bool Defined(double d, double min, double max) {
  double whole;
  return std::isfinite(d) && std::modf(d, &whole) == 0.0 && !(d < min) && !(d > max);
}

// Each range the entry points check, and the cast they make after the check.
template <typename T>
void CheckRange(double d, double min, double max) {
  const bool ok = IsIntegerIn(d, min, max);
  CHECK(ok == Defined(d, min, max));
  if (ok) CHECK(static_cast<double>(static_cast<T>(d)) == d);
}

template <typename Size>
void CheckPages(Size n, Size bytes) {
  const unsigned __int128 want = static_cast<unsigned __int128>(n) * kPageSize;
  CHECK(IsPagesLength<Size>(n, bytes) == (want == bytes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const double d = in.ConsumeBool() ? in.ConsumeFloatingPoint<double>() : static_cast<double>(in.ConsumeIntegral<int64_t>());
  CheckRange<uint32_t>(d, 0, UINT32_MAX);                                     // type, offset, pages, index
  CheckRange<uint32_t>(d, 0, 1u << 20);                                       // maxPages
  CheckRange<int>(d, -1, INT32_MAX);                                          // fd
  CheckRange<uint64_t>(d, 0, static_cast<double>(uint64_t{Arena::kMaxFrames} * kPageSize));  // maxPoolBytes
  CheckRange<uint32_t>(d, 0, kPageSize);                                      // maxCompressedBytes
  CheckRange<uint32_t>(d, 0, 100);                                            // acceptThresholdPercent

  const uint64_t n = in.ConsumeIntegral<uint64_t>();
  const uint64_t bytes = in.ConsumeBool() ? n * kPageSize + in.ConsumeIntegralInRange<int>(-1, 1) : in.ConsumeIntegral<uint64_t>();
  CheckPages<uint64_t>(n, bytes);
  CheckPages<uint32_t>(static_cast<uint32_t>(n), static_cast<uint32_t>(bytes));
  CheckPages<uint32_t>(static_cast<uint32_t>(n), static_cast<uint32_t>(n * kPageSize));
  return 0;
}
