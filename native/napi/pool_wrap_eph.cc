// The cleancache (ephemeral pool) methods of the JS Pool class: argument checks and the calls
// into Pool::eph_*. Apart from pool_wrap.cc because they share only Open()/Check() with the
// frontswap methods, and have their own argument (the six-word file key).
#include <string>

#include "args.h"
#include "pool_wrap.h"

namespace tmem {

namespace {

// A cleancache file key: a Uint32Array of exactly six words (read in place, copied when kept).
bool ArgKey(const Napi::CallbackInfo& info, size_t i, const uint32_t** key) {
  void* data;
  if (!ArgFixedArray(info, i, "key", napi_uint32_array, EphIndex::kKeyWords, &data)) return false;
  *key = static_cast<const uint32_t*>(data);
  return true;
}

}  // namespace

Napi::Value PoolWrap::EphInitFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), pool->eph_init_fs());
}

Napi::Value PoolWrap::EphInitSharedFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  if (!info[0].IsString()) {
    ThrowTypeError(info.Env(), "The \"uuid\" argument must be a string");
    return Napi::Value();
  }
  std::string uuid = info[0].As<Napi::String>().Utf8Value();
  if (uuid.empty()) {
    ThrowTypeError(info.Env(), "The \"uuid\" argument must be a non-empty string");
    return Napi::Value();
  }
  return Napi::Number::New(info.Env(), pool->eph_init_shared_fs(uuid));
}

Napi::Value PoolWrap::EphGet(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  void* into;
  bool exclusive;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index) ||
      !ArgFixedArray(info, 3, "into", napi_uint8_array, kPageSize, &into) ||
      !ArgBool(info, 4, "exclusive", &exclusive)) {
    return Napi::Value();
  }
  bool hit = false;
  if (!Check(info.Env(), pool->eph_get(id, key, index, static_cast<uint8_t*>(into), exclusive, &hit))) {
    return Napi::Value();
  }
  return Napi::Boolean::New(info.Env(), hit);
}

Napi::Value PoolWrap::EphPut(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  void* page;
  bool was_active;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index) ||
      !ArgFixedArray(info, 3, "page", napi_uint8_array, kPageSize, &page) ||
      !ArgBool(info, 4, "wasActive", &was_active)) {
    return Napi::Value();
  }
  Check(info.Env(), pool->eph_put(id, key, index, static_cast<uint8_t*>(page), was_active));
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidatePage(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index)) {
    return Napi::Value();
  }
  pool->eph_invalidate_page(id, key, index);
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidateInode(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id;
  const uint32_t* key;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key)) return Napi::Value();
  pool->eph_invalidate_inode(id, key);
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidateFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id)) return Napi::Value();
  pool->eph_invalidate_fs(id);
  return Napi::Value();
}

}  // namespace tmem
