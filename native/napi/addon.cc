// Module entry point: PAGE_SIZE, versions(), the Pool class, liblz4's raw block functions,
// ownPath/disownPath, and SwapCache's KeyIndex class, mapped buffers, C-heap and page-cache
// helpers.
#include <napi.h>

#include "../codec.h"
#include "../crc32c.h"
#include "addon_data.h"
#include "args.h"
#include "file_cache.h"
#include "key_index_wrap.h"
#include "lz4_wrap.h"
#include "malloc_info.h"
#include "mapped_buffer.h"
#include "owned_paths.h"
#include "pool_wrap.h"

namespace tmem {

namespace {

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object v = Napi::Object::New(env);
  v.Set("lz4", Codec::lz4_version());
  v.Set("napi", Napi::Number::New(env, NAPI_VERSION));
  return v;
}

// crc32c(bytes): the native CRC32C, for the bench and for tests that it matches lib/util/crc32c.ts.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  void* data;
  size_t length;
  if (!ArgTypedArray(info, 0, "data", napi_uint8_array, &data, &length)) return Napi::Value();
  return Napi::Number::New(info.Env(), crc32c(static_cast<const uint8_t*>(data), length));
}

}  // namespace

}  // namespace tmem

// Runs once per environment that loads the addon (the main thread and each worker).
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace tmem;
  // First, so that its cleanup hook runs after every pool's (hooks run in reverse order).
  DefineOwnedPaths(env, exports);
  AddonData* data = new AddonData();
  env.SetInstanceData(data);  // deleted with the environment
  exports.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(kPageSize)));
  exports.Set("versions", Napi::Function::New<Versions>(env, "versions"));
  exports.Set("Pool", PoolWrap::Define(env, data));
  exports.Set("crc32c", Napi::Function::New<Crc32c>(env, "crc32c"));
  exports.Set("crc32cImpl", Napi::String::New(env, crc32c_impl()));
  exports.Set("lz4", DefineLz4(env));
  exports.Set("KeyIndex", KeyIndexWrap::Define(env));
  DefineMappedBuffer(env, exports);
  DefineMallocInfo(env, exports);
  DefineFileCache(env, exports);
  return exports;
}

NODE_API_MODULE(tmem, Init)
