// Per-environment state of the addon. Each Node environment (the main thread and every worker)
// loads its own instance, so JS handles live here, set with env.SetInstanceData, never in
// statics shared across threads.
#ifndef TMEM_NAPI_ADDON_DATA_H
#define TMEM_NAPI_ADDON_DATA_H

#include <napi.h>

namespace tmem {

struct AddonData {
  Napi::FunctionReference pool_ctor;
  // The frozen Pool.statNames array (the counters every pool has).
  Napi::ObjectReference stat_names;
  // Each allocator's pools' statNames: those, then the allocator's own (one array per allocator).
  Napi::ObjectReference allocator_stat_names[3];
};

}  // namespace tmem

#endif
