// The remote tier's methods of the JS Pool class (pool.h, "Remote tier"): remotePick copies a
// batch of cold objects' stored bytes out, remoteFinish drops the ones the cluster acknowledged,
// decompress turns a payload that came back from the cluster into a page. Apart from
// pool_wrap.cc because only the remote tier (lib/backends/remote/) calls them.
#include <cstring>

#include "args.h"
#include "pool_wrap.h"

namespace tmem {

// remotePick(payloads: Uint8Array(max * 4096), lengths: Uint32Array(max), types: Uint32Array(max),
// offsets: Uint32Array(max)) -> picked
Napi::Value PoolWrap::RemotePick(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  void *payloads, *lengths, *types, *offsets;
  size_t payloads_len, max, types_len, offsets_len;
  if (pool == nullptr || !ArgTypedArray(info, 0, "payloads", napi_uint8_array, &payloads, &payloads_len) ||
      !ArgTypedArray(info, 1, "lengths", napi_uint32_array, &lengths, &max) ||
      !ArgTypedArray(info, 2, "types", napi_uint32_array, &types, &types_len) ||
      !ArgTypedArray(info, 3, "offsets", napi_uint32_array, &offsets, &offsets_len) ||
      !ExpectLength(info.Env(), "payloads", payloads_len, max * kPageSize) ||
      !ExpectLength(info.Env(), "types", types_len, max) || !ExpectLength(info.Env(), "offsets", offsets_len, max)) {
    return Napi::Value();
  }
  const uint32_t n = pool->remote_pick(static_cast<uint32_t>(max), static_cast<uint8_t*>(payloads),
                                       static_cast<uint32_t*>(lengths), static_cast<uint32_t*>(types),
                                       static_cast<uint32_t*>(offsets));
  return Napi::Number::New(info.Env(), n);
}

// remoteFinish(ok: Uint8Array(n), committed: Uint8Array(n)) -> committed count
Napi::Value PoolWrap::RemoteFinish(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  void *ok, *committed;
  size_t n, committed_len;
  if (pool == nullptr || !ArgTypedArray(info, 0, "ok", napi_uint8_array, &ok, &n) ||
      !ArgTypedArray(info, 1, "committed", napi_uint8_array, &committed, &committed_len) ||
      !ExpectLength(info.Env(), "committed", committed_len, n)) {
    return Napi::Value();
  }
  const uint32_t done = pool->remote_finish(static_cast<uint32_t>(n), static_cast<const uint8_t*>(ok),
                                            static_cast<uint8_t*>(committed));
  return Napi::Number::New(info.Env(), done);
}

// decompress(payload: Uint8Array(1..4096), into: Uint8Array(4096)) -> ok. A 4096-byte payload is
// a raw page (the pool stores a page raw only when it does not compress below a page).
Napi::Value PoolWrap::Decompress(const Napi::CallbackInfo& info) {
  void *src, *into;
  size_t len;
  if (!ArgTypedArray(info, 0, "payload", napi_uint8_array, &src, &len) ||
      !ArgFixedArray(info, 1, "into", napi_uint8_array, kPageSize, &into)) {
    return Napi::Value();
  }
  if (len == 0 || len > kPageSize) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "The \"payload\" argument must hold 1 to 4096 bytes");
    return Napi::Value();
  }
  if (len == kPageSize) {
    std::memcpy(into, src, kPageSize);
    return Napi::Boolean::New(info.Env(), true);
  }
  const bool ok = Codec::decompress(static_cast<const uint8_t*>(src), static_cast<uint32_t>(len), static_cast<uint8_t*>(into));
  return Napi::Boolean::New(info.Env(), ok);
}

}  // namespace tmem
