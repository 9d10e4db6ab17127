// Module entry point: PAGE_SIZE, versions(), the Pool class, and SwapCache's KeyIndex class,
// mapped buffers, C-heap and page-cache helpers.
#include <napi.h>

#include "../codec.h"
#include "addon_data.h"
#include "file_cache.h"
#include "key_index_wrap.h"
#include "malloc_info.h"
#include "mapped_buffer.h"
#include "pool_wrap.h"

#ifndef TMEM_LZ4_SOURCE
#error "the build must define TMEM_LZ4_SOURCE as system or bundled"
#endif
#define TMEM_STRINGIFY2(x) #x
#define TMEM_STRINGIFY(x) TMEM_STRINGIFY2(x)

namespace tmem {

namespace {

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object v = Napi::Object::New(env);
  v.Set("lz4", Codec::lz4_version());
  // Which liblz4 was linked in, decided at build time by native/build/lz4.js.
  v.Set("lz4Source", TMEM_STRINGIFY(TMEM_LZ4_SOURCE));
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
  return exports;
}

NODE_API_MODULE(tmem, Init)
