// Argument checks for the N-API entry points.
//
// Validation proper is the TypeScript layer's job; these are the cheap checks that keep a bad
// call from crashing the process or touching memory it should not. Each returns false after
// throwing (TypeError code ERR_INVALID_ARG_TYPE, RangeError code ERR_OUT_OF_RANGE), so callers
// simply return.
#ifndef TMEM_NAPI_ARGS_H
#define TMEM_NAPI_ARGS_H

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tmem {

void ThrowTypeError(napi_env env, const char* message);
void ThrowRangeError(napi_env env, const char* code, const char* message);

// An integral number in [min, max].
bool ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max,
                double* out);
bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t max, uint32_t* out);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool* out);

// Throws ERR_OUT_OF_RANGE unless a typed array argument's length is exactly `expected`.
bool ExpectLength(napi_env env, const char* name, size_t actual, size_t expected);
// Throws ERR_OUT_OF_RANGE unless a byte array argument holds exactly `pages` pages.
bool ExpectPages(napi_env env, const char* name, size_t actual, size_t pages);

// A typed array of the given element type; *data points at its first element, no copy made.
bool ArgTypedArray(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                   void** data, size_t* length);
// The same, of exactly `length` elements (a page, a cleancache key).
bool ArgFixedArray(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                   size_t length, void** data);

}  // namespace tmem

#endif
