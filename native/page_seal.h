// The seal of a page the native writeback puts in a swap file: its CRC32C and, for an encrypted
// area, AES-256-GCM encryption with the tag kept per slot (lib/swap/page-seals.ts explains the
// layout and the nonce; this is the same, slot for slot, on the same memory).
//
// Memory: the per-slot arrays belong to the JavaScript PageSeals of the swap area (ArrayBuffers),
// handed to the pool at initArea; the N-API layer holds references to them until the area is
// invalidated, and invalidate_area first waits for every batch with a page of the area in flight,
// so the pointers below stay valid for as long as a batch can use them. JS owning the memory means
// the TypeScript reader checks a slot with a plain array read, and no JS view can outlive it (the
// other way round, native memory exposed as an external ArrayBuffer, a view kept after swapoff
// would point at freed memory). The key is copied here (and wiped when the area goes).
//
// Races: a batch seals slot s (writes crcs[s], tags[s], counters[s]) without the pool's mutex, in
// step 2 of writeback, while s is under writeback. Every JS write of s (a refused store over it, a
// free) first waits for the batch (pool.h), and JS reads of s while it is under writeback hit the
// pool copy, so the slot has one writer at a time; the mutex taken in step 3 and by the next JS
// call on the pool orders the batch's writes before the reader's loads. A batch that fails to
// write leaves its new seal on a slot whose page is still in the pool: the file copy is then not
// the sealed one, and a read of it (only possible if the pool lost the page) fails its check.
#ifndef TMEM_PAGE_SEAL_H
#define TMEM_PAGE_SEAL_H

#include <cstdint>

namespace tmem {

struct SealTable {
  uint32_t* crcs = nullptr;      // one per slot: CRC32C of the bytes written XOR ~CRC32C(zero page)
  uint8_t* tags = nullptr;       // 16 per slot, or null: not encrypted
  uint32_t* counters = nullptr;  // two per slot (low, high), or null
  uint8_t key[32] = {};

  bool encrypted() const { return tags != nullptr; }
  void clear();
};

// Seals the page bound for `slot` in place: encrypts it when the table says so, then records the
// CRC32C of the bytes to be written. False if the cipher failed (the page must not be written).
// A table without crcs (Pool::init_area's default, unit tests only) leaves the page as it is.
bool seal_page(SealTable& table, uint32_t slot, uint8_t* page);

}  // namespace tmem

#endif
