#include "seal_args.h"

#include <cstring>
#include <string>

#include "args.h"

namespace tmem {
namespace {

// seals[name]: a typed array of `type` with exactly `length` elements, or (when `optional`) null.
bool Member(napi_env env, Napi::Object seals, const char* name, napi_typedarray_type type, size_t length,
            bool optional, void** data) {
  Napi::Value v = seals.Get(name);
  if (v.IsEmpty()) return false;
  *data = nullptr;
  if (optional && v.IsNull()) return true;
  bool is_typed = false;
  napi_typedarray_type actual;
  size_t actual_length = 0;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &actual, &actual_length, data, nullptr, nullptr) != napi_ok ||
      actual != type) {
    ThrowTypeError(env, (std::string("seals.") + name + " has the wrong type").c_str());
    return false;
  }
  return ExpectLength(env, name, actual_length, length);
}

}  // namespace

bool ArgSealTable(const Napi::CallbackInfo& info, size_t i, uint32_t pages, SealTable* out) {
  napi_env env = info.Env();
  if (!info[i].IsObject()) {
    ThrowTypeError(env, "The \"seals\" argument must be a PageSeals object");
    return false;
  }
  Napi::Object seals = info[i].As<Napi::Object>();
  void *crcs, *tags, *counters, *key;
  if (!Member(env, seals, "crcs", napi_uint32_array, pages, false, &crcs) ||
      !Member(env, seals, "tags", napi_uint8_array, size_t{pages} * 16, true, &tags) ||
      !Member(env, seals, "counters", napi_uint32_array, size_t{pages} * 2, true, &counters) ||
      !Member(env, seals, "key", napi_uint8_array, sizeof out->key, true, &key)) {
    return false;
  }
  if ((tags == nullptr) != (key == nullptr) || (tags == nullptr) != (counters == nullptr)) {
    ThrowTypeError(env, "seals: tags, counters and key come together");
    return false;
  }
  out->crcs = static_cast<uint32_t*>(crcs);
  out->tags = static_cast<uint8_t*>(tags);
  out->counters = static_cast<uint32_t*>(counters);
  if (key != nullptr) std::memcpy(out->key, key, sizeof out->key);
  return true;
}

}  // namespace tmem
