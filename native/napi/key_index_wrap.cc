// The JS KeyIndex class (key_index_wrap.h).
#include "key_index_wrap.h"

#include <new>
#include <string>

#include "args.h"

namespace tmem {

namespace {

constexpr size_t kMetaLength = 8;
// relocate() entries: id, start, length, expires, ttl.
constexpr size_t kRelocateFields = 5;

}  // namespace

Napi::Function KeyIndexWrap::Define(Napi::Env env) {
  return DefineClass(env, "KeyIndex",
                     {
                         InstanceMethod<&KeyIndexWrap::Find>("find"),
                         InstanceMethod<&KeyIndexWrap::FindId>("findId"),
                         InstanceMethod<&KeyIndexWrap::Put>("put"),
                         InstanceMethod<&KeyIndexWrap::Update>("update"),
                         InstanceMethod<&KeyIndexWrap::Relocate>("relocate"),
                         InstanceMethod<&KeyIndexWrap::Remove>("remove"),
                         InstanceMethod<&KeyIndexWrap::RemoveKey>("removeKey"),
                         InstanceMethod<&KeyIndexWrap::RemoveIfRun>("removeIfRun"),
                         InstanceMethod<&KeyIndexWrap::KeyOf>("keyOf"),
                         InstanceMethod<&KeyIndexWrap::Next>("next"),
                         InstanceMethod<&KeyIndexWrap::Clear>("clear"),
                         InstanceMethod<&KeyIndexWrap::RebaseExpiry>("rebaseExpiry"),
                         InstanceMethod<&KeyIndexWrap::MemoryBytes>("memoryBytes"),
                         InstanceMethod<&KeyIndexWrap::Close>("close"),
                         InstanceAccessor<&KeyIndexWrap::Size>("size"),
                     });
}

// new KeyIndex(meta: Uint32Array(8), maxKeyBytes)
KeyIndexWrap::KeyIndexWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<KeyIndexWrap>(info), env_(info.Env()) {
  void* meta;
  uint32_t max_key_bytes;
  if (!ArgFixedArray(info, 0, "meta", napi_uint32_array, kMetaLength, &meta) ||
      !ArgU32(info, 1, "maxKeyBytes", KeyIndex::kMaxKeyBytes, &max_key_bytes)) {
    return;
  }
  index_.reset(new (std::nothrow) KeyIndex());
  if (index_ == nullptr) {
    napi_throw_error(env_, "ERR_TMEM_NO_MEMORY", "tmem: out of memory for the key index");
    return;
  }
  // One byte more than the longest key, so a longer string shows up as a full buffer.
  scratch_.resize(size_t{max_key_bytes} + 2);
  meta_ref_ = Napi::Persistent(info[0].As<Napi::Uint32Array>());
  meta_ = static_cast<uint32_t*>(meta);
  if (napi_add_env_cleanup_hook(env_, CleanupHook, this) != napi_ok) {
    index_.reset();
    napi_throw_error(env_, nullptr, "tmem: could not register the key index's cleanup hook");
  }
}

KeyIndexWrap::~KeyIndexWrap() { Release(false); }

void KeyIndexWrap::CleanupHook(void* arg) { static_cast<KeyIndexWrap*>(arg)->Release(true); }

void KeyIndexWrap::Release(bool from_hook) {
  if (index_ == nullptr) return;
  if (!from_hook) napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  index_.reset();
}

KeyIndex* KeyIndexWrap::Open(const Napi::CallbackInfo& info) {
  if (index_ == nullptr) napi_throw_error(info.Env(), "ERR_TMEM_CLOSED", "tmem: the key index is closed");
  return index_.get();
}

bool KeyIndexWrap::Key(const Napi::CallbackInfo& info, size_t i, size_t* len) {
  napi_env env = info.Env();
  if (napi_get_value_string_utf8(env, info[i], scratch_.data(), scratch_.size(), len) != napi_ok) {
    ThrowTypeError(env, "The \"key\" argument must be a string");
    return false;
  }
  if (*len >= scratch_.size() - 1) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "The \"key\" argument is longer than maxKeyBytes");
    return false;
  }
  return true;
}

bool KeyIndexWrap::Id(const Napi::CallbackInfo& info, size_t i, uint32_t* id) {
  if (!ArgU32(info, i, "id", UINT32_MAX, id)) return false;
  if (!index_->live(*id)) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "tmem: the id is not a live key");
    return false;
  }
  return true;
}

void KeyIndexWrap::Report(const KeyRecord& r, uint32_t existed) {
  meta_[0] = r.run_id();
  meta_[1] = r.start();
  meta_[2] = r.length();
  meta_[3] = r.resident() ? 1 : 0;
  meta_[4] = r.expires;
  meta_[5] = r.ttl;
  meta_[6] = existed;
}

// Arguments first..first+5: run, start, length, flags (1: resident), expires, ttl, packed into
// *r (its key field untouched).
bool KeyIndexWrap::ReadFields(const Napi::CallbackInfo& info, size_t first, KeyRecord* r) {
  uint32_t run, start, length, flags;
  if (!ArgU32(info, first, "run", KeyRecord::kRunMask, &run) || !ArgU32(info, first + 1, "start", 0xffff, &start) ||
      !ArgU32(info, first + 2, "length", UINT32_MAX, &length) || !ArgU32(info, first + 3, "flags", 1, &flags) ||
      !ArgU32(info, first + 4, "expires", UINT32_MAX, &r->expires) ||
      !ArgU32(info, first + 5, "ttl", UINT32_MAX, &r->ttl)) {
    return false;
  }
  if (!r->set_place(run, flags != 0, start, length)) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "tmem: a value of 64 KiB or more must start at 0");
    return false;
  }
  return true;
}

// find(key) -> id | -1
Napi::Value KeyIndexWrap::Find(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  size_t len;
  if (index == nullptr || !Key(info, 0, &len)) return Napi::Value();
  int64_t id = index->find(reinterpret_cast<const uint8_t*>(scratch_.data()), len);
  if (id >= 0) Report(index->record(static_cast<uint32_t>(id)), 1);
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

// findId(id) -> whether the id is live (meta filled when it is)
Napi::Value KeyIndexWrap::FindId(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t id;
  if (index == nullptr || !ArgU32(info, 0, "id", UINT32_MAX, &id)) return Napi::Value();
  bool live = index->live(id);
  if (live) Report(index->record(id), 1);
  return Napi::Boolean::New(info.Env(), live);
}

// put(key, run, start, length, flags, expires, ttl) -> id; meta holds the old record and
// meta[6] = 1 when the key was there already.
Napi::Value KeyIndexWrap::Put(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  KeyRecord fields;
  size_t len;
  if (index == nullptr || !ReadFields(info, 1, &fields) || !Key(info, 0, &len)) return Napi::Value();
  bool created;
  int64_t id = index->insert(reinterpret_cast<const uint8_t*>(scratch_.data()), len, &created);
  if (id < 0) {
    napi_throw_error(info.Env(), "ERR_TMEM_NO_MEMORY", "tmem: out of memory for the key index");
    return Napi::Value();
  }
  KeyRecord& r = index->record(static_cast<uint32_t>(id));
  Report(r, created ? 0 : 1);
  fields.key = r.key;
  r = fields;
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

// update(id, run, start, length, flags, expires, ttl)
Napi::Value KeyIndexWrap::Update(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t id;
  KeyRecord fields;
  if (index == nullptr || !Id(info, 0, &id) || !ReadFields(info, 1, &fields)) return Napi::Value();
  KeyRecord& r = index->record(id);
  fields.key = r.key;
  r = fields;
  return Napi::Value();
}

// relocate(entries: Uint32Array, n, run): entries holds n x [id, start, length, expires, ttl];
// each record becomes a non-resident value at `start` of `run`. All entries are checked first.
Napi::Value KeyIndexWrap::Relocate(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  void* data;
  size_t length;
  uint32_t n, run;
  if (index == nullptr || !ArgTypedArray(info, 0, "entries", napi_uint32_array, &data, &length) ||
      !ArgU32(info, 1, "n", static_cast<uint32_t>(length / kRelocateFields), &n) ||
      !ArgU32(info, 2, "run", KeyRecord::kRunMask, &run)) {
    return Napi::Value();
  }
  const uint32_t* e = static_cast<const uint32_t*>(data);
  KeyRecord probe;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t* f = e + i * kRelocateFields;
    if (!index->live(f[0]) || !probe.set_place(run, false, f[1], f[2])) {
      ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "tmem: relocate entry with a dead id or a place that does not fit");
      return Napi::Value();
    }
  }
  for (uint32_t i = 0; i < n; i++, e += kRelocateFields) {
    KeyRecord& r = index->record(e[0]);
    r.set_place(run, false, e[1], e[2]);
    r.expires = e[3];
    r.ttl = e[4];
  }
  return Napi::Value();
}

// remove(id)
Napi::Value KeyIndexWrap::Remove(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t id;
  if (index == nullptr || !Id(info, 0, &id)) return Napi::Value();
  index->remove(id);
  return Napi::Value();
}

// removeKey(key) -> id | -1; meta holds the removed record.
Napi::Value KeyIndexWrap::RemoveKey(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  size_t len;
  if (index == nullptr || !Key(info, 0, &len)) return Napi::Value();
  int64_t id = index->find(reinterpret_cast<const uint8_t*>(scratch_.data()), len);
  if (id >= 0) {
    Report(index->record(static_cast<uint32_t>(id)), 1);
    index->remove(static_cast<uint32_t>(id));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

// removeIfRun(ids: Uint32Array, n, run, lengths: Uint32Array) -> removed: removes each id that
// is a live, non-resident value of `run` (ids of other keys, or of values that moved, are left
// alone). The removed ids are packed to the front of `ids`, their lengths into `lengths`.
Napi::Value KeyIndexWrap::RemoveIfRun(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  void* ids_data;
  void* lengths_data;
  size_t ids_len, lengths_len;
  uint32_t n, run;
  if (index == nullptr || !ArgTypedArray(info, 0, "ids", napi_uint32_array, &ids_data, &ids_len) ||
      !ArgU32(info, 1, "n", static_cast<uint32_t>(ids_len), &n) || !ArgU32(info, 2, "run", UINT32_MAX, &run) ||
      !ArgTypedArray(info, 3, "lengths", napi_uint32_array, &lengths_data, &lengths_len) ||
      !ExpectLength(info.Env(), "lengths", lengths_len < n ? lengths_len : n, n)) {
    return Napi::Value();
  }
  uint32_t* ids = static_cast<uint32_t*>(ids_data);
  uint32_t* lengths = static_cast<uint32_t*>(lengths_data);
  uint32_t removed = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t id = ids[i];
    if (!index->live(id)) continue;
    const KeyRecord& r = index->record(id);
    if (r.resident() || r.run_id() != run) continue;
    lengths[removed] = r.length();
    ids[removed++] = id;
    index->remove(id);
  }
  return Napi::Number::New(info.Env(), removed);
}

// keyOf(id) -> string
Napi::Value KeyIndexWrap::KeyOf(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t id;
  if (index == nullptr || !Id(info, 0, &id)) return Napi::Value();
  size_t len;
  const uint8_t* key = index->key_of(id, &len);
  return Napi::String::New(info.Env(), reinterpret_cast<const char*>(key), len);
}

// next(from) -> the lowest live id >= from, or -1; meta filled for it.
Napi::Value KeyIndexWrap::Next(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t from;
  if (index == nullptr || !ArgU32(info, 0, "from", UINT32_MAX, &from)) return Napi::Value();
  int64_t id = index->next_live(from);
  if (id >= 0) Report(index->record(static_cast<uint32_t>(id)), 1);
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

Napi::Value KeyIndexWrap::Clear(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  if (index != nullptr) index->clear();
  return Napi::Value();
}

// rebaseExpiry(delta): the cache's clock moves back by delta; expiry times follow (a time that
// would pass zero becomes 1, already expired).
Napi::Value KeyIndexWrap::RebaseExpiry(const Napi::CallbackInfo& info) {
  KeyIndex* index = Open(info);
  uint32_t delta;
  if (index == nullptr || !ArgU32(info, 0, "delta", UINT32_MAX, &delta)) return Napi::Value();
  for (int64_t id = index->next_live(0); id >= 0; id = index->next_live(static_cast<uint32_t>(id) + 1)) {
    KeyRecord& r = index->record(static_cast<uint32_t>(id));
    if (r.expires != 0) r.expires = r.expires > delta ? r.expires - delta : 1;
  }
  return Napi::Value();
}

Napi::Value KeyIndexWrap::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), index_ == nullptr ? 0 : index_->size());
}

Napi::Value KeyIndexWrap::MemoryBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), index_ == nullptr ? 0 : static_cast<double>(index_->memory_bytes()));
}

Napi::Value KeyIndexWrap::Close(const Napi::CallbackInfo& info) {
  Release(false);
  meta_ref_.Reset();
  meta_ = nullptr;
  return info.Env().Undefined();
}

}  // namespace tmem
