// dropFileCache(fd): asks the kernel to drop the page cache of a file (posix_fadvise DONTNEED).
//
// A swap file's pages are already cached where they are useful (SwapCache's resident tier and
// the compressed pool); copies in the page cache only add to the process's memory-cgroup charge,
// which counts page cache. DONTNEED starts writeback of dirty pages and drops the clean ones, so
// calling it from time to time keeps the file's page cache small. Returns false where there is
// no posix_fadvise or it fails (the cache then stays until the kernel reclaims it).
#include "file_cache.h"

#include <fcntl.h>

#include "args.h"

namespace tmem {

namespace {

Napi::Value DropFileCache(const Napi::CallbackInfo& info) {
  double fd;
  if (!ArgInteger(info, 0, "fd", 0, INT32_MAX, &fd)) return Napi::Value();
#if defined(POSIX_FADV_DONTNEED)
  return Napi::Boolean::New(info.Env(), posix_fadvise(static_cast<int>(fd), 0, 0, POSIX_FADV_DONTNEED) == 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void DefineFileCache(Napi::Env env, Napi::Object exports) {
  exports.Set("dropFileCache", Napi::Function::New<DropFileCache>(env, "dropFileCache"));
}

}  // namespace tmem
