// ArrayBuffers over anonymous mmap'd memory, for SwapCache's resident tier.
//
//   mapBuffer(bytes) -> ArrayBuffer      MAP_NORESERVE: pages are committed as they are touched
//   discardBuffer(buffer, offset, len)   the whole pages inside the range go back to the OS now
//                                        (they read as zeros afterwards)
//   releaseBuffer(buffer)                all pages go back now and the buffer is detached, so
//                                        JS cannot touch it again; the mapping itself goes when
//                                        V8 drops the backing store (at detach or collection)
//
// A buffer from `new ArrayBuffer` only leaves the process when the garbage collector gets to it
// and the malloc heap lets go of it; these give SwapCache's budget back the moment it says so.
// Transparent huge pages are off for them, so RSS follows the bytes in use 4 KiB at a time.
#include "mapped_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include "args.h"

namespace tmem {

namespace {

size_t PageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void Unmap(napi_env, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); }

bool ArgArrayBuffer(const Napi::CallbackInfo& info, size_t i, void** data, size_t* length) {
  bool is_ab = false;
  if (napi_is_arraybuffer(info.Env(), info[i], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(info.Env(), info[i], data, length) != napi_ok) {
    ThrowTypeError(info.Env(), "The \"buffer\" argument must be an ArrayBuffer from mapBuffer()");
    return false;
  }
  return true;
}

// madvise(MADV_DONTNEED) of the whole pages inside [offset, offset + len).
void Discard(void* data, size_t length, size_t offset, size_t len) {
  if (data == nullptr || offset >= length) return;
  if (len > length - offset) len = length - offset;
  size_t page = PageSize();
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + offset + page - 1) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + offset + len) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Napi::Value MapBuffer(const Napi::CallbackInfo& info) {
  double bytes;
  if (!ArgInteger(info, 0, "bytes", 1, 1ull << 46, &bytes)) return Napi::Value();
  size_t len = (static_cast<size_t>(bytes) + PageSize() - 1) & ~(PageSize() - 1);
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    napi_throw_error(info.Env(), "ERR_TMEM_NO_MEMORY", "tmem: could not map memory for the resident tier");
    return Napi::Value();
  }
#ifdef MADV_NOHUGEPAGE
  madvise(p, len, MADV_NOHUGEPAGE);
#endif
  napi_value ab;
  if (napi_create_external_arraybuffer(info.Env(), p, static_cast<size_t>(bytes), Unmap,
                                       reinterpret_cast<void*>(len), &ab) != napi_ok) {
    munmap(p, len);
    napi_throw_error(info.Env(), "ERR_TMEM_NO_MEMORY", "tmem: could not wrap mapped memory in an ArrayBuffer");
    return Napi::Value();
  }
  return Napi::Value(info.Env(), ab);
}

Napi::Value DiscardBuffer(const Napi::CallbackInfo& info) {
  void* data;
  size_t length;
  double offset, len;
  if (!ArgArrayBuffer(info, 0, &data, &length) || !ArgInteger(info, 1, "offset", 0, 1ull << 53, &offset) ||
      !ArgInteger(info, 2, "length", 0, 1ull << 53, &len)) {
    return Napi::Value();
  }
  Discard(data, length, static_cast<size_t>(offset), static_cast<size_t>(len));
  return Napi::Value();
}

Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info) {
  void* data;
  size_t length;
  if (!ArgArrayBuffer(info, 0, &data, &length)) return Napi::Value();
  bool detached = false;
  if (napi_is_detached_arraybuffer(info.Env(), info[0], &detached) == napi_ok && detached) return Napi::Value();
  Discard(data, length, 0, length);
  if (napi_detach_arraybuffer(info.Env(), info[0]) != napi_ok) {
    napi_throw_error(info.Env(), nullptr, "tmem: could not detach the buffer");
  }
  return Napi::Value();
}

}  // namespace

void DefineMappedBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("mapBuffer", Napi::Function::New<MapBuffer>(env, "mapBuffer"));
  exports.Set("discardBuffer", Napi::Function::New<DiscardBuffer>(env, "discardBuffer"));
  exports.Set("releaseBuffer", Napi::Function::New<ReleaseBuffer>(env, "releaseBuffer"));
}

}  // namespace tmem
