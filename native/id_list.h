// Doubly linked lists of u32 ids whose links live wherever the ids' owner keeps them: frame
// headers (zbud, z3fold), zspage descriptors (zsmalloc's fullness groups), object headers in the
// arena (the pool's entry LRUs). Ids instead of pointers halve the links, and the objects they
// name may move (an object's header moves with it, its handle does not).
//
// `links` is any object with
//   uint32_t get(uint32_t id, int which) const;      which: kPrev or kNext
//   void set(uint32_t id, int which, uint32_t value);
// Lists run from head to tail along kNext. An IdList knows its tail and length; an IdStack only
// its head (4 bytes instead of 12, for the many lists that are only pushed at and taken from the
// head: zsmalloc's fullness groups).
#ifndef TMEM_ID_LIST_H
#define TMEM_ID_LIST_H

#include <cstdint>

namespace tmem {

struct IdLinks {
  static constexpr uint32_t kNil = UINT32_MAX;
  enum : int { kPrev = 0, kNext = 1 };
};

template <bool kWithTail>
struct BasicIdList;

template <>
struct BasicIdList<false> : IdLinks {
  uint32_t head = kNil;
  void set_tail(uint32_t) {}
  void add(int) {}
};

template <>
struct BasicIdList<true> : IdLinks {
  uint32_t head = kNil;
  uint32_t tail = kNil;
  uint32_t count = 0;
  void set_tail(uint32_t id) { tail = id; }
  void add(int n) { count += n; }
};

template <bool kWithTail>
struct IdListOps : BasicIdList<kWithTail> {
  using IdLinks::kNext;
  using IdLinks::kNil;
  using IdLinks::kPrev;

  template <typename Links>
  void push_head(uint32_t id, Links&& links) {
    links.set(id, kPrev, kNil);
    links.set(id, kNext, this->head);
    if (this->head != kNil) {
      links.set(this->head, kPrev, id);
    } else {
      this->set_tail(id);
    }
    this->head = id;
    this->add(1);
  }

  template <typename Links>
  void unlink(uint32_t id, Links&& links) {
    const uint32_t prev = links.get(id, kPrev);
    const uint32_t next = links.get(id, kNext);
    if (prev != kNil) {
      links.set(prev, kNext, next);
    } else {
      this->head = next;
    }
    if (next != kNil) {
      links.set(next, kPrev, prev);
    } else {
      this->set_tail(prev);
    }
    this->add(-1);
  }
};

using IdStack = IdListOps<false>;

struct IdList : IdListOps<true> {
  template <typename Links>
  void push_tail(uint32_t id, Links&& links) {
    links.set(id, kNext, kNil);
    links.set(id, kPrev, tail);
    if (tail != kNil) {
      links.set(tail, kNext, id);
    } else {
      head = id;
    }
    tail = id;
    count++;
  }
};

// Links kept as `uint32_t link[2]` in records of a dense array (`Record* base`, indexed by id).
template <typename Record>
struct ArrayLinks {
  Record* base;
  uint32_t get(uint32_t id, int which) const { return base[id].link[which]; }
  void set(uint32_t id, int which, uint32_t value) { base[id].link[which] = value; }
};

}  // namespace tmem

#endif
