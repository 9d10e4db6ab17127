// The JS Pool class: a thin N-API shell over tmem::Pool.
//
// Native memory (arena, indexes) is freed by close(), or, if the user never calls it, by an env
// cleanup hook when the environment (thread) exits, or by the finalizer when the object is
// collected, whichever comes first. Waiting for GC alone would hold up to the pool's whole
// arena long after the last use, and finalizers are not guaranteed to run at exit.
//
// writeback(maxPages, callback) runs Pool::writeback on the libuv thread pool. Each queued
// batch holds a shared_ptr to the pool, so the memory it uses outlives close(); close() (and the
// cleanup hook) call Pool::shutdown() first, which waits for running batches (their pwrites must
// not reach a swap file closed after close()) and makes batches that have not started yet do
// nothing and report 0.
#ifndef TMEM_NAPI_POOL_WRAP_H
#define TMEM_NAPI_POOL_WRAP_H

#include <napi.h>

#include <memory>

#include "../pool.h"
#include "addon_data.h"

namespace tmem {

class PoolWrap : public Napi::ObjectWrap<PoolWrap> {
 public:
  static Napi::Function Define(Napi::Env env, AddonData* data);

  explicit PoolWrap(const Napi::CallbackInfo& info);
  ~PoolWrap() override;

 private:
  static void CleanupHook(void* arg);
  // Frees the native pool once; `from_hook` when called by the cleanup hook itself, which is then
  // already unregistered.
  void Release(bool from_hook);
  // Throws ERR_TMEM_CLOSED and returns null after close().
  Pool* Open(const Napi::CallbackInfo& info);
  // Throws the JS error for a PoolError; false if it threw.
  bool Check(napi_env env, PoolError err);

  Napi::Value InitArea(const Napi::CallbackInfo& info);
  Napi::Value Store(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value InvalidatePage(const Napi::CallbackInfo& info);
  Napi::Value InvalidateArea(const Napi::CallbackInfo& info);
  Napi::Value StoreBatch(const Napi::CallbackInfo& info);
  Napi::Value LoadBatch(const Napi::CallbackInfo& info);
  Napi::Value InvalidateBatch(const Napi::CallbackInfo& info);
  Napi::Value EphInitFs(const Napi::CallbackInfo& info);
  Napi::Value EphInitSharedFs(const Napi::CallbackInfo& info);
  Napi::Value EphGet(const Napi::CallbackInfo& info);
  Napi::Value EphPut(const Napi::CallbackInfo& info);
  Napi::Value EphInvalidatePage(const Napi::CallbackInfo& info);
  Napi::Value EphInvalidateInode(const Napi::CallbackInfo& info);
  Napi::Value EphInvalidateFs(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value AreaStats(const Napi::CallbackInfo& info);
  Napi::Value Writeback(const Napi::CallbackInfo& info);
  Napi::Value WritebackSync(const Napi::CallbackInfo& info);
  Napi::Value PoolBytes(const Napi::CallbackInfo& info);
  Napi::Value Compact(const Napi::CallbackInfo& info);
  Napi::Value Allocator(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value StatNames(const Napi::CallbackInfo& info);
  Napi::Value RemotePick(const Napi::CallbackInfo& info);
  Napi::Value RemoteFinish(const Napi::CallbackInfo& info);
  Napi::Value Decompress(const Napi::CallbackInfo& info);

  napi_env env_;
  std::shared_ptr<Pool> pool_;
  // Each initialised area's PageSeals, whose arrays the pool's writeback writes (page_seal.h).
  Napi::ObjectReference seal_refs_[Pool::kMaxAreas];
  int allocator_ = -1;  // AllocatorKind, once constructed
  size_t stat_count_ = 0;
  const char* allocator_name_ = "";
};

}  // namespace tmem

#endif
