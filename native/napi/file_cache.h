// dropFileCache: posix_fadvise(DONTNEED) of a whole file (file_cache.cc).
#ifndef TMEM_NAPI_FILE_CACHE_H
#define TMEM_NAPI_FILE_CACHE_H

#include <napi.h>

namespace tmem {

void DefineFileCache(Napi::Env env, Napi::Object exports);

}  // namespace tmem

#endif
