// liblz4's raw block functions, exported as `binding.lz4` for tests and the benchmark.
#ifndef TMEM_NAPI_LZ4_WRAP_H
#define TMEM_NAPI_LZ4_WRAP_H

#include <napi.h>

namespace tmem {

// { compress, decompress, compressBound } over the liblz4 the addon links.
Napi::Object DefineLz4(Napi::Env env);

}  // namespace tmem

#endif
