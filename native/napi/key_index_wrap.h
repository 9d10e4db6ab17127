// The JS KeyIndex class: SwapCache's key index (../key_index.h) behind N-API.
//
// Calls take a key as a JS string (converted to UTF-8 into a scratch buffer sized for the
// longest key the cache accepts) or an id, and return an id or -1. The fields of the record a
// call looked at come back through `meta`, a Uint32Array the constructor is given and keeps, so
// no call allocates a JS object:
//   meta[0] run, [1] start, [2] length, [3] flags, [4] expires, [5] ttl, [6] 1 if put() found
//   the key already there.
// Ids are checked (RangeError for an id that is not live), so a wrong call cannot touch memory
// outside the index. Native memory goes at close(), at environment teardown (cleanup hook) or
// when the object is collected, whichever is first.
#ifndef TMEM_NAPI_KEY_INDEX_WRAP_H
#define TMEM_NAPI_KEY_INDEX_WRAP_H

#include <napi.h>

#include <memory>
#include <vector>

#include "../key_index.h"

namespace tmem {

class KeyIndexWrap : public Napi::ObjectWrap<KeyIndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit KeyIndexWrap(const Napi::CallbackInfo& info);
  ~KeyIndexWrap() override;

 private:
  static void CleanupHook(void* arg);
  void Release(bool from_hook);
  // The index, or null after throwing ERR_TMEM_CLOSED.
  KeyIndex* Open(const Napi::CallbackInfo& info);
  // Converts argument i to UTF-8 in scratch_; false after throwing.
  bool Key(const Napi::CallbackInfo& info, size_t i, size_t* len);
  // A live id from argument i; false after throwing.
  bool Id(const Napi::CallbackInfo& info, size_t i, uint32_t* id);
  void Report(const KeyRecord& r, uint32_t existed);
  bool ReadFields(const Napi::CallbackInfo& info, size_t first, KeyRecord* r);

  Napi::Value Find(const Napi::CallbackInfo& info);
  Napi::Value FindId(const Napi::CallbackInfo& info);
  Napi::Value Put(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Relocate(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value RemoveKey(const Napi::CallbackInfo& info);
  Napi::Value RemoveIfRun(const Napi::CallbackInfo& info);
  Napi::Value KeyOf(const Napi::CallbackInfo& info);
  Napi::Value Next(const Napi::CallbackInfo& info);
  Napi::Value Clear(const Napi::CallbackInfo& info);
  Napi::Value RebaseExpiry(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  napi_env env_;
  std::unique_ptr<KeyIndex> index_;
  Napi::Reference<Napi::Uint32Array> meta_ref_;
  uint32_t* meta_ = nullptr;
  std::vector<char> scratch_;
};

}  // namespace tmem

#endif
