// mallocInfo / trimMalloc: the C heap's size and giving its free pages back (malloc_info.cc).
#ifndef TMEM_NAPI_MALLOC_INFO_H
#define TMEM_NAPI_MALLOC_INFO_H

#include <napi.h>

namespace tmem {

void DefineMallocInfo(Napi::Env env, Napi::Object exports);

}  // namespace tmem

#endif
