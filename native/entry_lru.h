// The pool's LRU of stored entries, after zswap since 6.x: writeback picks entries (not frames)
// from the cold end, with a second chance for entries loaded since the last look (the referenced
// bit lives in the index entry, area_index.h). A frame-shaped LRU no longer fits: a zspage holds
// objects of many ages.
//
// The links cost no native memory: they are 32-bit handles kept in the header of each object
// (allocator.h), next to the object's owner, so they are paid for in pool bytes (13 of the ~1300
// bytes of a typical heap page's object). Header layout (kHeaderBytes = 13, 4-byte aligned):
//   [0, 4)   prev   handle of the next more recently used object (kNoHandle at the head)
//   [4, 8)   next   handle of the next less recently used object (kNoHandle at the tail)
//   [8, 12)  owner  swap offset of a persistent page; EphIndex entry id of an ephemeral one
//   [12]     type   swap area of a persistent page; kEphemeralOwner for an ephemeral one
// The type byte is the allocator's kHeaderMarkByte: it is never kFreeMark on a live object.
// Objects move (compaction) with their headers; handles, and so the links, stay.
//
// One list per allocation class: persistent entries (writeback walks it) and ephemeral entries
// (eviction walks it). Entries being written back are off the list until their batch ends.
#ifndef TMEM_ENTRY_LRU_H
#define TMEM_ENTRY_LRU_H

#include <cstdint>
#include <cstring>

#include "allocator.h"
#include "id_list.h"

namespace tmem {

constexpr uint8_t kEphemeralOwner = 0xff;
static_assert(kEphemeralOwner != kFreeMark, "an owner type must never read as a free slot");
static_assert(IdList::kNil == kNoHandle, "LRU links are handles");

struct Owner {
  uint8_t type;
  uint32_t offset;
};

namespace header {

inline uint32_t get32(const uint8_t* h, size_t at) {
  uint32_t v;
  std::memcpy(&v, h + at, sizeof(v));
  return v;
}
inline void set32(uint8_t* h, size_t at, uint32_t v) { std::memcpy(h + at, &v, sizeof(v)); }

inline Owner owner(const uint8_t* h) { return Owner{h[12], get32(h, 8)}; }
inline void set_owner(uint8_t* h, Owner o) {
  set32(h, 8, o.offset);
  h[12] = o.type;
}

}  // namespace header

class EntryLru {
 public:
  void push_head(Allocator& a, Handle h) { list_.push_head(h, Links{&a}); }
  void push_tail(Allocator& a, Handle h) { list_.push_tail(h, Links{&a}); }
  void unlink(Allocator& a, Handle h) { list_.unlink(h, Links{&a}); }
  void move_to_head(Allocator& a, Handle h) {
    unlink(a, h);
    push_head(a, h);
  }

  Handle head() const { return list_.head; }
  Handle tail() const { return list_.tail; }
  uint32_t count() const { return list_.count; }
  // Towards the head (more recently used).
  static Handle prev(Allocator& a, Handle h) { return header::get32(a.header(h), 0); }

 private:
  struct Links {
    Allocator* a;
    uint32_t get(uint32_t id, int which) const { return header::get32(a->header(id), which * 4); }
    void set(uint32_t id, int which, uint32_t value) { header::set32(a->header(id), which * 4, value); }
  };

  IdList list_;
};

}  // namespace tmem

#endif
