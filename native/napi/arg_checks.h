// The pure part of the N-API argument checks (args.cc): arithmetic on the numbers and lengths a
// call brings, with no N-API in it, so that the fuzzer (native/fuzz/napi_args_fuzz.cc) can drive
// it without Node. A check passing must make the casts and sizes the entry points then use exact.
#ifndef TMEM_NAPI_ARG_CHECKS_H
#define TMEM_NAPI_ARG_CHECKS_H

#include <cmath>
#include <cstddef>
#include <limits>

#include "../arena.h"

namespace tmem {

// An integral number in [min, max]. Written so that NaN fails too.
inline bool IsIntegerIn(double d, double min, double max) { return d >= min && d <= max && std::trunc(d) == d; }

// True when `bytes` is exactly `n` pages. Computed without overflow for any width of Size: with
// a 32-bit size_t, n * 4096 wraps and a short buffer would pass for a batch of 2^20 + 1 pages.
template <typename Size>
bool IsPagesLength(Size n, Size bytes) {
  return n <= std::numeric_limits<Size>::max() / kPageSize && n * static_cast<Size>(kPageSize) == bytes;
}

}  // namespace tmem

#endif
