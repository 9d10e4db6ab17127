// Per-environment state of the addon. Each Node environment (the main thread and every worker)
// loads its own instance, so JS handles live here, set with env.SetInstanceData, never in
// statics shared across threads.
#ifndef TMEM_NAPI_ADDON_DATA_H
#define TMEM_NAPI_ADDON_DATA_H

#include <napi.h>

namespace tmem {

struct AddonData {
  Napi::FunctionReference pool_ctor;
  // The frozen statNames array, shared by every pool of the environment.
  Napi::ObjectReference stat_names;
};

}  // namespace tmem

#endif
