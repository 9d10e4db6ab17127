// The options object of `new Pool(options)`: each known option checked (TypeError for the wrong
// type, RangeError ERR_OUT_OF_RANGE for a bad value) and copied into PoolOptions. The TypeScript
// layer validates first; these checks keep a direct caller of the addon from passing nonsense.
#ifndef TMEM_NAPI_POOL_OPTIONS_H
#define TMEM_NAPI_POOL_OPTIONS_H

#include <napi.h>

#include "../pool.h"

namespace tmem {

// Fills *opts from info[0] (undefined or null: the defaults). False after throwing.
bool ParseOptions(const Napi::CallbackInfo& info, PoolOptions* opts);

}  // namespace tmem

#endif
