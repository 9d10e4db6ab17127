// The seals argument of initArea: a PageSeals object (lib/swap/page-seals.ts) whose typed arrays
// the pool's writeback fills (native/page_seal.h). Checked once here: each array's kind and length
// against the area's pages; the caller keeps a reference to the object for as long as the pool
// may use its memory.
#ifndef TMEM_NAPI_SEAL_ARGS_H
#define TMEM_NAPI_SEAL_ARGS_H

#include <napi.h>

#include <cstdint>

#include "../page_seal.h"

namespace tmem {

// Fills *out from info[i]; false after throwing TypeError/RangeError.
bool ArgSealTable(const Napi::CallbackInfo& info, size_t i, uint32_t pages, SealTable* out);

}  // namespace tmem

#endif
