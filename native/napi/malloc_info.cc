// mallocInfo() and trimMalloc(): what the C heap holds, and giving its free pages back.
//
// Freed malloc memory usually stays in the process: glibc returns only the top of its heap on
// its own, so a heap left fragmented by many buffers freed in any order keeps its peak size.
// SwapCache calls trimMalloc() after clear() and close(), so that memory it released (and the
// buffers its callers dropped) leaves the process; mallocInfo() lets tests and the demo tell the
// C heap apart from V8's. Both are no-ops (zeros) where the C library is not glibc.
#include "malloc_info.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tmem {

namespace {

// { heapBytes, inUseBytes, freeBytes, mmappedBytes }: arena size, bytes in use, free bytes
// held in the arena, bytes in separately mmap'd chunks (mallinfo2; glibc 2.33+, else mallinfo).
Napi::Value MallocInfo(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  double arena = 0, used = 0, free = 0, mapped = 0;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  arena = static_cast<double>(m.arena);
  used = static_cast<double>(m.uordblks);
  free = static_cast<double>(m.fordblks);
  mapped = static_cast<double>(m.hblkhd);
#endif
  out.Set("heapBytes", arena);
  out.Set("inUseBytes", used);
  out.Set("freeBytes", free);
  out.Set("mmappedBytes", mapped);
  return out;
}

Napi::Value TrimMalloc(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void DefineMallocInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("mallocInfo", Napi::Function::New<MallocInfo>(env, "mallocInfo"));
  exports.Set("trimMalloc", Napi::Function::New<TrimMalloc>(env, "trimMalloc"));
}

}  // namespace tmem
