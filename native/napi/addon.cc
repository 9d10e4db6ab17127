// Module entry point: PAGE_SIZE, versions(), the Pool class, liblz4's raw block functions, and
// SwapCache's KeyIndex class, mapped buffers, C-heap and page-cache helpers.
#include <napi.h>

#include "../codec.h"
#include "addon_data.h"
#include "file_cache.h"
#include "key_index_wrap.h"
#include "lz4_wrap.h"
#include "malloc_info.h"
#include "mapped_buffer.h"
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

}  // namespace

}  // namespace tmem

// Runs once per environment that loads the addon (the main thread and each worker).
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace tmem;
  AddonData* data = new AddonData();
  env.SetInstanceData(data);  // deleted with the environment
  exports.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(kPageSize)));
  exports.Set("versions", Napi::Function::New<Versions>(env, "versions"));
  exports.Set("Pool", PoolWrap::Define(env, data));
  exports.Set("KeyIndex", KeyIndexWrap::Define(env));
  DefineMappedBuffer(env, exports);
  DefineMallocInfo(env, exports);
  DefineFileCache(env, exports);
  exports.Set("lz4", DefineLz4(env));
  return exports;
}

NODE_API_MODULE(tmem, Init)
