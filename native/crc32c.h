// CRC32C (Castagnoli) of a buffer: SSE4.2 crc32 on x86-64 or the ARMv8 CRC32 instructions when the
// CPU has them (checked once at run time), else a table-driven loop. The same values as
// lib/util/crc32c.ts, so a page the native writeback seals is checked by the TypeScript reader.
#ifndef TMEM_CRC32C_H
#define TMEM_CRC32C_H

#include <cstddef>
#include <cstdint>

namespace tmem {

uint32_t crc32c(const uint8_t* data, size_t len);
// Which implementation crc32c() uses here: "sse4.2", "armv8" or "table".
const char* crc32c_impl();

}  // namespace tmem

#endif
