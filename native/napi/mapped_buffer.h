// mapBuffer / discardBuffer / releaseBuffer: ArrayBuffers over mmap'd memory (mapped_buffer.cc).
#ifndef TMEM_NAPI_MAPPED_BUFFER_H
#define TMEM_NAPI_MAPPED_BUFFER_H

#include <napi.h>

namespace tmem {

void DefineMappedBuffer(Napi::Env env, Napi::Object exports);

}  // namespace tmem

#endif
