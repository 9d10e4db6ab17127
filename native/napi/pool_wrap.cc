// The JS Pool class (pool_wrap.h): construction and lifetime, error mapping, and the
// frontswap-side methods (areas, store/load/invalidate and their batches, stats, writeback,
// compaction). Its options are read in pool_options.cc.
// The cleancache methods are in pool_wrap_eph.cc, the async writeback batch in writeback_worker.cc.
#include "pool_wrap.h"

#include <new>
#include <string>

#include "args.h"
#include "seal_args.h"
#include "pool_options.h"
#include "writeback_worker.h"

namespace tmem {

Napi::Function PoolWrap::Define(Napi::Env env, AddonData* data) {
  Napi::Array names = Napi::Array::New(env, kStatCount);
  for (uint32_t i = 0; i < kStatCount; i++) names.Set(i, Napi::String::New(env, kStatNames[i]));
  napi_object_freeze(env, names);
  data->stat_names = Napi::Persistent(names.As<Napi::Object>());

  Napi::Function ctor = DefineClass(
      env, "Pool",
      {
          InstanceMethod<&PoolWrap::InitArea>("initArea"),
          InstanceMethod<&PoolWrap::Store>("store"),
          InstanceMethod<&PoolWrap::Load>("load"),
          InstanceMethod<&PoolWrap::InvalidatePage>("invalidatePage"),
          InstanceMethod<&PoolWrap::InvalidateArea>("invalidateArea"),
          InstanceMethod<&PoolWrap::StoreBatch>("storeBatch"),
          InstanceMethod<&PoolWrap::LoadBatch>("loadBatch"),
          InstanceMethod<&PoolWrap::InvalidateBatch>("invalidateBatch"),
          InstanceMethod<&PoolWrap::EphInitFs>("ephInitFs"),
          InstanceMethod<&PoolWrap::EphInitSharedFs>("ephInitSharedFs"),
          InstanceMethod<&PoolWrap::EphGet>("ephGet"),
          InstanceMethod<&PoolWrap::EphPut>("ephPut"),
          InstanceMethod<&PoolWrap::EphInvalidatePage>("ephInvalidatePage"),
          InstanceMethod<&PoolWrap::EphInvalidateInode>("ephInvalidateInode"),
          InstanceMethod<&PoolWrap::EphInvalidateFs>("ephInvalidateFs"),
          InstanceMethod<&PoolWrap::Stats>("stats"),
          InstanceMethod<&PoolWrap::AreaStats>("areaStats"),
          InstanceMethod<&PoolWrap::Writeback>("writeback"),
          InstanceMethod<&PoolWrap::WritebackSync>("writebackSync"),
          InstanceMethod<&PoolWrap::PoolBytes>("poolBytes"),
          InstanceMethod<&PoolWrap::Compact>("compact"),
          InstanceMethod<&PoolWrap::RemotePick>("remotePick"),
          InstanceMethod<&PoolWrap::RemoteFinish>("remoteFinish"),
          InstanceMethod<&PoolWrap::Decompress>("decompress"),
          InstanceMethod<&PoolWrap::Close>("close"),
          InstanceAccessor<&PoolWrap::StatNames>("statNames"),
          InstanceAccessor<&PoolWrap::Allocator>("allocator"),
          StaticValue("statNames", names, napi_enumerable),
      });
  data->pool_ctor = Napi::Persistent(ctor);
  return ctor;
}

PoolWrap::PoolWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PoolWrap>(info), env_(info.Env()) {
  PoolOptions opts;
  if (!ParseOptions(info, &opts)) return;
  std::shared_ptr<Pool> pool(new (std::nothrow) Pool(opts));
  if (pool == nullptr || !pool->init()) {
    // Only address space is reserved up front, so this means a tight RLIMIT_AS (ulimit -v).
    std::string msg = "tmem: could not reserve " + std::to_string(opts.max_pool_bytes) +
                      " bytes of address space for the pool (lower maxPoolBytes or raise ulimit -v)";
    napi_throw_error(env_, "ERR_TMEM_NO_MEMORY", msg.c_str());
    return;
  }
  if (napi_add_env_cleanup_hook(env_, CleanupHook, this) != napi_ok) {
    napi_throw_error(env_, nullptr, "tmem: could not register the pool's cleanup hook");
    return;
  }
  // The counter names of this pool: the common ones, then its allocator's. One frozen array per
  // allocator and environment, shared by its pools.
  Napi::ObjectReference& names = info.Env().GetInstanceData<AddonData>()->allocator_stat_names[static_cast<int>(opts.allocator)];
  if (names.IsEmpty()) {
    const std::vector<std::string>& all = pool->stat_names();
    Napi::Array array = Napi::Array::New(env_, all.size());
    for (uint32_t i = 0; i < all.size(); i++) array.Set(i, Napi::String::New(env_, all[i]));
    napi_object_freeze(env_, array);
    names = Napi::Persistent(array.As<Napi::Object>());
  }
  allocator_ = static_cast<int>(opts.allocator);
  stat_count_ = pool->stat_names().size();
  allocator_name_ = pool->allocator_name();
  pool_ = std::move(pool);
}

PoolWrap::~PoolWrap() { Release(false); }

void PoolWrap::CleanupHook(void* arg) { static_cast<PoolWrap*>(arg)->Release(true); }

void PoolWrap::Release(bool from_hook) {
  if (pool_ == nullptr) return;
  if (!from_hook) napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  // Running writeback batches finish first; queued ones will find the pool shut down. The memory
  // goes with the last reference (ours, or a queued batch's).
  pool_->shutdown();
  pool_.reset();
}

Pool* PoolWrap::Open(const Napi::CallbackInfo& info) {
  if (pool_ == nullptr) napi_throw_error(info.Env(), "ERR_TMEM_CLOSED", "tmem: the pool is closed");
  return pool_.get();
}

bool PoolWrap::Check(napi_env env, PoolError err) {
  switch (err) {
    case PoolError::kOk:
      return true;
    case PoolError::kBadType:
      ThrowRangeError(env, "ERR_OUT_OF_RANGE", "The \"type\" argument must be an integer in [0, 31]");
      return false;
    case PoolError::kNoArea:
      ThrowRangeError(env, "ERR_TMEM_NO_AREA", "tmem: the area is not initialised");
      return false;
    case PoolError::kBadOffset:
      ThrowRangeError(env, "ERR_OUT_OF_RANGE", "tmem: offset is beyond the end of the area");
      return false;
    case PoolError::kBadPages:
      ThrowRangeError(env, "ERR_OUT_OF_RANGE", "The \"pages\" argument must be at least 1");
      return false;
    case PoolError::kAreaExists:
      napi_throw_error(env, "ERR_TMEM_AREA_EXISTS", "tmem: the area is already initialised");
      return false;
    case PoolError::kNoMemory:
      napi_throw_error(env, "ERR_TMEM_NO_MEMORY", "tmem: out of memory for the area index");
      return false;
    case PoolError::kNoEphPool:
      ThrowRangeError(env, "ERR_TMEM_UNKNOWN_POOL", "tmem: no such cleancache pool");
      return false;
  }
  return false;
}

Napi::Value PoolWrap::InitArea(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type, pages;
  double fd;
  SealTable seals;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "pages", UINT32_MAX, &pages) || !ArgInteger(info, 2, "fd", -1, INT32_MAX, &fd) ||
      !ArgSealTable(info, 3, pages, &seals)) {
    return Napi::Value();
  }
  const bool ok = Check(info.Env(), pool->init_area(type, pages, static_cast<int>(fd), seals));
  seals.clear();
  // The pool writes into the seals' arrays until the area is invalidated: keep them alive.
  if (ok) seal_refs_[type] = Napi::Persistent(info[3].As<Napi::Object>());
  return Napi::Value();
}

Napi::Value PoolWrap::Store(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type, offset;
  void* page;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "offset", UINT32_MAX, &offset) ||
      !ArgFixedArray(info, 2, "page", napi_uint8_array, kPageSize, &page)) {
    return Napi::Value();
  }
  int status = 0;
  if (!Check(info.Env(), pool->store(type, offset, static_cast<uint8_t*>(page), &status))) return Napi::Value();
  return Napi::Number::New(info.Env(), status);
}

Napi::Value PoolWrap::Load(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type, offset;
  void* into;
  bool exclusive;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "offset", UINT32_MAX, &offset) ||
      !ArgFixedArray(info, 2, "into", napi_uint8_array, kPageSize, &into) ||
      !ArgBool(info, 3, "exclusive", &exclusive)) {
    return Napi::Value();
  }
  bool hit = false;
  if (!Check(info.Env(), pool->load(type, offset, static_cast<uint8_t*>(into), exclusive, &hit))) {
    return Napi::Value();
  }
  return Napi::Boolean::New(info.Env(), hit);
}

Napi::Value PoolWrap::InvalidatePage(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type, offset;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "offset", UINT32_MAX, &offset)) {
    return Napi::Value();
  }
  Check(info.Env(), pool->invalidate_page(type, offset));
  return Napi::Value();
}

Napi::Value PoolWrap::InvalidateArea(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type)) return Napi::Value();
  if (Check(info.Env(), pool->invalidate_area(type))) seal_refs_[type].Reset();
  return Napi::Value();
}

Napi::Value PoolWrap::StoreBatch(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type;
  void *offsets, *pages, *results;
  size_t n, pages_len, results_len;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgTypedArray(info, 1, "offsets", napi_uint32_array, &offsets, &n) ||
      !ArgTypedArray(info, 2, "pages", napi_uint8_array, &pages, &pages_len) ||
      !ArgTypedArray(info, 3, "results", napi_int8_array, &results, &results_len) ||
      !ExpectPages(info.Env(), "pages", pages_len, n) ||
      !ExpectLength(info.Env(), "results", results_len, n)) {
    return Napi::Value();
  }
  uint32_t stored = 0;
  if (!Check(info.Env(), pool->store_batch(type, static_cast<uint32_t*>(offsets), n, static_cast<uint8_t*>(pages),
                                           static_cast<int8_t*>(results), &stored))) {
    return Napi::Value();
  }
  return Napi::Number::New(info.Env(), stored);
}

Napi::Value PoolWrap::LoadBatch(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type;
  void *offsets, *into, *hits;
  size_t n, into_len, hits_len;
  bool exclusive;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgTypedArray(info, 1, "offsets", napi_uint32_array, &offsets, &n) ||
      !ArgTypedArray(info, 2, "into", napi_uint8_array, &into, &into_len) ||
      !ArgTypedArray(info, 3, "hits", napi_uint8_array, &hits, &hits_len) ||
      !ArgBool(info, 4, "exclusive", &exclusive) || !ExpectPages(info.Env(), "into", into_len, n) ||
      !ExpectLength(info.Env(), "hits", hits_len, n)) {
    return Napi::Value();
  }
  uint32_t count = 0;
  if (!Check(info.Env(), pool->load_batch(type, static_cast<uint32_t*>(offsets), n, static_cast<uint8_t*>(into),
                                          static_cast<uint8_t*>(hits), exclusive, &count))) {
    return Napi::Value();
  }
  return Napi::Number::New(info.Env(), count);
}

Napi::Value PoolWrap::InvalidateBatch(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type;
  void* offsets;
  size_t n;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgTypedArray(info, 1, "offsets", napi_uint32_array, &offsets, &n)) {
    return Napi::Value();
  }
  Check(info.Env(), pool->invalidate_batch(type, static_cast<uint32_t*>(offsets), n));
  return Napi::Value();
}

Napi::Value PoolWrap::Stats(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  void* out;
  size_t len;
  if (pool == nullptr || !ArgTypedArray(info, 0, "out", napi_float64_array, &out, &len)) return Napi::Value();
  if (len < stat_count_) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE",
                    ("The \"out\" argument must have length >= " + std::to_string(stat_count_)).c_str());
    return Napi::Value();
  }
  pool->stats(static_cast<double*>(out));
  return Napi::Value();
}

Napi::Value PoolWrap::AreaStats(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type;
  void* out;
  size_t len;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgTypedArray(info, 1, "out", napi_float64_array, &out, &len)) {
    return Napi::Value();
  }
  if (len < 2) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "The \"out\" argument must have length >= 2");
    return Napi::Value();
  }
  uint64_t pages = 0, bytes = 0;
  if (!Check(info.Env(), pool->area_stats(type, &pages, &bytes))) return Napi::Value();
  double* o = static_cast<double*>(out);
  o[0] = static_cast<double>(pages);
  o[1] = static_cast<double>(bytes);
  return Napi::Value();
}

Napi::Value PoolWrap::Writeback(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t max_pages;
  if (pool == nullptr || !ArgU32(info, 0, "maxPages", 1u << 20, &max_pages)) return Napi::Value();
  if (!info[1].IsFunction()) {
    ThrowTypeError(info.Env(), "The \"callback\" argument must be a function");
    return Napi::Value();
  }
  auto* worker = new WritebackWorker(info[1].As<Napi::Function>(), pool_, max_pages);
  worker->Queue();
  return info.Env().Undefined();
}

Napi::Value PoolWrap::WritebackSync(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t max_pages;
  if (pool == nullptr || !ArgU32(info, 0, "maxPages", 1u << 20, &max_pages)) return Napi::Value();
  return Napi::Number::New(info.Env(), pool->writeback(max_pages));
}

Napi::Value PoolWrap::PoolBytes(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(pool->pool_bytes()));
}

Napi::Value PoolWrap::Close(const Napi::CallbackInfo& info) {
  // Idempotent, like stream.destroy(): closing twice is not an error.
  Release(false);
  return info.Env().Undefined();
}

Napi::Value PoolWrap::Compact(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), pool->compact());
}

Napi::Value PoolWrap::StatNames(const Napi::CallbackInfo& info) {
  // Still readable after close(): the names describe the pool, not its memory.
  if (allocator_ < 0) return info.Env().Undefined();
  return info.Env().GetInstanceData<AddonData>()->allocator_stat_names[allocator_].Value();
}

Napi::Value PoolWrap::Allocator(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), allocator_name_);
}

}  // namespace tmem
