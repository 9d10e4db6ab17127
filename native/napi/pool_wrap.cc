#include "pool_wrap.h"

#include <cmath>
#include <new>
#include <string>

#include "args.h"

namespace tmem {

namespace {

// Reads an optional integer option in [0, max]; leaves *out alone when absent.
bool OptionInteger(Napi::Object options, const char* name, double max, double* out) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return true;
  std::string what = std::string("options.") + name;
  if (!v.IsNumber()) {
    ThrowTypeError(options.Env(), (what + " must be a number").c_str());
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max && std::trunc(d) == d)) {
    ThrowRangeError(options.Env(), "ERR_OUT_OF_RANGE",
                    (what + " must be an integer in [0, " + std::to_string(static_cast<uint64_t>(max)) + "]").c_str());
    return false;
  }
  *out = d;
  return true;
}

// Reads an optional boolean option; leaves *out alone when absent.
bool OptionBool(Napi::Object options, const char* name, bool* out) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) {
    ThrowTypeError(options.Env(), (std::string("options.") + name + " must be a boolean").c_str());
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool ParseOptions(const Napi::CallbackInfo& info, PoolOptions* opts) {
  Napi::Value arg = info[0];
  if (arg.IsUndefined() || arg.IsNull()) return true;
  if (!arg.IsObject()) {
    ThrowTypeError(info.Env(), "The \"options\" argument must be an object");
    return false;
  }
  Napi::Object options = arg.As<Napi::Object>();
  double max_bytes = static_cast<double>(opts->max_pool_bytes);
  double max_c = opts->max_compressed_bytes;
  double max_mean = opts->max_mean_compressed_bytes;
  double accept = opts->accept_threshold_percent;
  if (!OptionInteger(options, "maxPoolBytes", static_cast<double>(uint64_t{Arena::kMaxFrames} * kPageSize),
                     &max_bytes) ||
      !OptionInteger(options, "maxCompressedBytes", kPageSize, &max_c) ||
      !OptionInteger(options, "maxMeanCompressedBytes", kPageSize, &max_mean) ||
      !OptionInteger(options, "acceptThresholdPercent", 100, &accept)) {
    return false;
  }
  if (!OptionBool(options, "storeIncompressible", &opts->store_incompressible) ||
      !OptionBool(options, "ignoreNonactivePuts", &opts->ignore_nonactive_puts)) {
    return false;
  }
  opts->max_pool_bytes = static_cast<uint64_t>(max_bytes);
  opts->max_compressed_bytes = static_cast<uint32_t>(max_c);
  opts->max_mean_compressed_bytes = static_cast<uint32_t>(max_mean);
  opts->accept_threshold_percent = static_cast<uint32_t>(accept);
  return true;
}

// One background writeback batch on the libuv thread pool.
class WritebackWorker final : public Napi::AsyncWorker {
 public:
  WritebackWorker(Napi::Function callback, std::shared_ptr<Pool> pool, uint32_t max_pages)
      : Napi::AsyncWorker(callback, "tmem:writeback"), pool_(std::move(pool)), max_pages_(max_pages) {}

  void Execute() override { written_ = pool_->writeback(max_pages_); }
  // Plain N-API calls whose failures are ignored: while the environment is being torn down (a
  // worker exiting with batches queued) JS cannot run, and node-addon-api's wrappers would turn
  // the failed call into a fatal error. An exception thrown by the callback stays pending and
  // surfaces as an uncaught exception, as for any other callback.
  void OnOK() override {
    napi_env env = Env();
    napi_value fn, recv, argv[2];
    if (napi_get_reference_value(env, Callback(), &fn) != napi_ok || fn == nullptr ||
        napi_get_undefined(env, &recv) != napi_ok || napi_get_null(env, &argv[0]) != napi_ok ||
        napi_create_uint32(env, written_, &argv[1]) != napi_ok) {
      return;
    }
    napi_call_function(env, recv, fn, 2, argv, nullptr);
  }

 private:
  std::shared_ptr<Pool> pool_;
  const uint32_t max_pages_;
  uint32_t written_ = 0;
};

bool ExpectLength(napi_env env, const char* name, size_t actual, size_t expected) {
  if (actual == expected) return true;
  std::string msg = std::string("The \"") + name + "\" argument must have length " + std::to_string(expected) +
                    ", got " + std::to_string(actual);
  ThrowRangeError(env, "ERR_OUT_OF_RANGE", msg.c_str());
  return false;
}

// A cleancache file key: a Uint32Array of exactly six words (read in place, copied when kept).
bool ArgKey(const Napi::CallbackInfo& info, size_t i, const uint32_t** key) {
  void* data;
  size_t len;
  if (!ArgTypedArray(info, i, "key", napi_uint32_array, &data, &len) ||
      !ExpectLength(info.Env(), "key", len, EphIndex::kKeyWords)) {
    return false;
  }
  *key = static_cast<const uint32_t*>(data);
  return true;
}

}  // namespace

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
          InstanceMethod<&PoolWrap::Writeback>("writeback"),
          InstanceMethod<&PoolWrap::WritebackSync>("writebackSync"),
          InstanceMethod<&PoolWrap::PoolBytes>("poolBytes"),
          InstanceMethod<&PoolWrap::Close>("close"),
          InstanceAccessor<&PoolWrap::StatNames>("statNames"),
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
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "pages", UINT32_MAX, &pages) || !ArgInteger(info, 2, "fd", -1, INT32_MAX, &fd)) {
    return Napi::Value();
  }
  Check(info.Env(), pool->init_area(type, pages, static_cast<int>(fd)));
  return Napi::Value();
}

Napi::Value PoolWrap::Store(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t type, offset;
  void* page;
  size_t len;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "offset", UINT32_MAX, &offset) ||
      !ArgTypedArray(info, 2, "page", napi_uint8_array, &page, &len) ||
      !ExpectLength(info.Env(), "page", len, kPageSize)) {
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
  size_t len;
  bool exclusive;
  if (pool == nullptr || !ArgU32(info, 0, "type", UINT32_MAX, &type) ||
      !ArgU32(info, 1, "offset", UINT32_MAX, &offset) ||
      !ArgTypedArray(info, 2, "into", napi_uint8_array, &into, &len) ||
      !ExpectLength(info.Env(), "into", len, kPageSize) || !ArgBool(info, 3, "exclusive", &exclusive)) {
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
  Check(info.Env(), pool->invalidate_area(type));
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
      !ExpectLength(info.Env(), "pages", pages_len, n * kPageSize) ||
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
      !ArgBool(info, 4, "exclusive", &exclusive) || !ExpectLength(info.Env(), "into", into_len, n * kPageSize) ||
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

Napi::Value PoolWrap::EphInitFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), pool->eph_init_fs());
}

Napi::Value PoolWrap::EphInitSharedFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  if (pool == nullptr) return Napi::Value();
  if (!info[0].IsString()) {
    ThrowTypeError(info.Env(), "The \"uuid\" argument must be a string");
    return Napi::Value();
  }
  std::string uuid = info[0].As<Napi::String>().Utf8Value();
  if (uuid.empty()) {
    ThrowTypeError(info.Env(), "The \"uuid\" argument must be a non-empty string");
    return Napi::Value();
  }
  return Napi::Number::New(info.Env(), pool->eph_init_shared_fs(uuid));
}

Napi::Value PoolWrap::EphGet(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  void* into;
  size_t len;
  bool exclusive;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index) ||
      !ArgTypedArray(info, 3, "into", napi_uint8_array, &into, &len) ||
      !ExpectLength(info.Env(), "into", len, kPageSize) || !ArgBool(info, 4, "exclusive", &exclusive)) {
    return Napi::Value();
  }
  bool hit = false;
  if (!Check(info.Env(), pool->eph_get(id, key, index, static_cast<uint8_t*>(into), exclusive, &hit))) {
    return Napi::Value();
  }
  return Napi::Boolean::New(info.Env(), hit);
}

Napi::Value PoolWrap::EphPut(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  void* page;
  size_t len;
  bool was_active;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index) ||
      !ArgTypedArray(info, 3, "page", napi_uint8_array, &page, &len) ||
      !ExpectLength(info.Env(), "page", len, kPageSize) || !ArgBool(info, 4, "wasActive", &was_active)) {
    return Napi::Value();
  }
  Check(info.Env(), pool->eph_put(id, key, index, static_cast<uint8_t*>(page), was_active));
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidatePage(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id, index;
  const uint32_t* key;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key) ||
      !ArgU32(info, 2, "index", UINT32_MAX, &index)) {
    return Napi::Value();
  }
  pool->eph_invalidate_page(id, key, index);
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidateInode(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id;
  const uint32_t* key;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id) || !ArgKey(info, 1, &key)) return Napi::Value();
  pool->eph_invalidate_inode(id, key);
  return Napi::Value();
}

Napi::Value PoolWrap::EphInvalidateFs(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  uint32_t id;
  if (pool == nullptr || !ArgU32(info, 0, "pool", UINT32_MAX, &id)) return Napi::Value();
  pool->eph_invalidate_fs(id);
  return Napi::Value();
}

Napi::Value PoolWrap::Stats(const Napi::CallbackInfo& info) {
  Pool* pool = Open(info);
  void* out;
  size_t len;
  if (pool == nullptr || !ArgTypedArray(info, 0, "out", napi_float64_array, &out, &len)) return Napi::Value();
  if (len < kStatCount) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE",
                    ("The \"out\" argument must have length >= " + std::to_string(kStatCount)).c_str());
    return Napi::Value();
  }
  pool->stats(static_cast<double*>(out));
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

Napi::Value PoolWrap::StatNames(const Napi::CallbackInfo& info) {
  return info.Env().GetInstanceData<AddonData>()->stat_names.Value();
}

}  // namespace tmem
