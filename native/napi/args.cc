#include "args.h"

#include <string>

#include "arg_checks.h"

namespace tmem {

void ThrowTypeError(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
}

void ThrowRangeError(napi_env env, const char* code, const char* message) {
  napi_throw_range_error(env, code, message);
}

bool ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max,
                double* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    ThrowTypeError(info.Env(), (std::string("The \"") + name + "\" argument must be a number").c_str());
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!IsIntegerIn(d, min, max)) {
    std::string msg = std::string("The \"") + name + "\" argument must be an integer in [" +
                      std::to_string(static_cast<int64_t>(min)) + ", " +
                      std::to_string(static_cast<int64_t>(max)) + "]";
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", msg.c_str());
    return false;
  }
  *out = d;
  return true;
}

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t max, uint32_t* out) {
  double d;
  if (!ArgInteger(info, i, name, 0, max, &d)) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool* out) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    ThrowTypeError(info.Env(), (std::string("The \"") + name + "\" argument must be a boolean").c_str());
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool ExpectLength(napi_env env, const char* name, size_t actual, size_t expected) {
  if (actual == expected) return true;
  std::string msg = std::string("The \"") + name + "\" argument must have length " + std::to_string(expected) +
                    ", got " + std::to_string(actual);
  ThrowRangeError(env, "ERR_OUT_OF_RANGE", msg.c_str());
  return false;
}

bool ExpectPages(napi_env env, const char* name, size_t actual, size_t pages) {
  if (IsPagesLength(pages, actual)) return true;
  std::string msg = std::string("The \"") + name + "\" argument must hold " + std::to_string(pages) + " pages of " +
                    std::to_string(kPageSize) + " bytes, got " + std::to_string(actual) + " bytes";
  ThrowRangeError(env, "ERR_OUT_OF_RANGE", msg.c_str());
  return false;
}

namespace {

const char* TypedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
      return "an Int8Array";
    case napi_uint8_array:
      return "a Uint8Array";
    case napi_uint32_array:
      return "a Uint32Array";
    case napi_float64_array:
      return "a Float64Array";
    default:
      return "a typed array";
  }
}

}  // namespace

bool ArgTypedArray(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                   void** data, size_t* length) {
  napi_env env = info.Env();
  napi_value v = info[i];
  bool is_typed = false;
  napi_typedarray_type actual;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &actual, length, data, nullptr, nullptr) != napi_ok ||
      actual != type) {
    ThrowTypeError(env, (std::string("The \"") + name + "\" argument must be " + TypedArrayName(type)).c_str());
    return false;
  }
  // A detached buffer reports a null pointer and length 0; the length checks of every caller
  // then reject it, so *data is never dereferenced.
  return true;
}

bool ArgFixedArray(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                   size_t length, void** data) {
  size_t actual;
  return ArgTypedArray(info, i, name, type, data, &actual) && ExpectLength(info.Env(), name, actual, length);
}

}  // namespace tmem
