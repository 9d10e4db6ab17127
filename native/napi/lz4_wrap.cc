// liblz4's raw block functions as the addon links them, for tests and the benchmark only (the
// pool calls the codec in native/codec.cc): the pure-JS codec in lib/lz4 is checked against the
// real liblz4 through these, not against a second implementation.
//
//   compress(src, dst)    LZ4_compress_default(src, dst, src.length, dst.length)
//   decompress(src, dst)  LZ4_decompress_safe(src, dst, src.length, dst.length)
//   compressBound(n)      LZ4_compressBound(n)
//
// src and dst are Uint8Arrays (views: their byteOffset is honoured), the capacity is dst.length,
// and liblz4's result comes back unchanged: compress returns the block length (0 when dst is too
// small), decompress the bytes written or liblz4's negative error. Stateless, so no per-
// environment data.
#include "lz4_wrap.h"

#include <lz4.h>

#include <climits>

#include "args.h"

namespace tmem {

namespace {

// A detached or empty array may report a null pointer; liblz4 gets a valid one with length 0.
uint8_t g_empty;

bool Lz4Buffers(const Napi::CallbackInfo& info, char** src, int* src_len, char** dst, int* dst_len) {
  void* data[2];
  size_t len[2];
  const char* names[2] = {"src", "dst"};
  for (size_t i = 0; i < 2; i++) {
    if (!ArgTypedArray(info, i, names[i], napi_uint8_array, &data[i], &len[i])) return false;
    if (len[i] > static_cast<size_t>(INT_MAX)) {
      ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "liblz4 takes at most INT_MAX bytes");
      return false;
    }
    if (data[i] == nullptr || len[i] == 0) data[i] = &g_empty;
  }
  *src = static_cast<char*>(data[0]);
  *src_len = static_cast<int>(len[0]);
  *dst = static_cast<char*>(data[1]);
  *dst_len = static_cast<int>(len[1]);
  return true;
}

Napi::Value Compress(const Napi::CallbackInfo& info) {
  char *src, *dst;
  int src_len, dst_len;
  if (!Lz4Buffers(info, &src, &src_len, &dst, &dst_len)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), LZ4_compress_default(src, dst, src_len, dst_len));
}

Napi::Value Decompress(const Napi::CallbackInfo& info) {
  char *src, *dst;
  int src_len, dst_len;
  if (!Lz4Buffers(info, &src, &src_len, &dst, &dst_len)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), LZ4_decompress_safe(src, dst, src_len, dst_len));
}

Napi::Value CompressBound(const Napi::CallbackInfo& info) {
  uint32_t n;
  if (!ArgU32(info, 0, "n", INT_MAX, &n)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), LZ4_compressBound(static_cast<int>(n)));
}

}  // namespace

Napi::Object DefineLz4(Napi::Env env) {
  Napi::Object lz4 = Napi::Object::New(env);
  lz4.Set("compress", Napi::Function::New<Compress>(env, "compress"));
  lz4.Set("decompress", Napi::Function::New<Decompress>(env, "decompress"));
  lz4.Set("compressBound", Napi::Function::New<CompressBound>(env, "compressBound"));
  lz4.Freeze();
  return lz4;
}

}  // namespace tmem
