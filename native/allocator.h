// The interface between the pool and its object allocators (zbud now; z3fold and zsmalloc can
// join later, like the kernel's zpool API).
//
// An allocator places variable-size objects (compressed pages, at most one page each) into
// arena frames and names each by a 32-bit handle that the pool keeps in its index. Objects are
// tagged with a class: persistent (frontswap) and ephemeral (cleancache) pages are kept in
// separate frames and lists so that each class can be accounted, limited and reclaimed on its
// own (ephemeral frames are simply dropped, persistent ones written back).
#ifndef TMEM_ALLOCATOR_H
#define TMEM_ALLOCATOR_H

#include <cstddef>
#include <cstdint>

namespace tmem {

using Handle = uint32_t;

enum class AllocClass : uint8_t { kPersistent = 0, kEphemeral = 1 };
constexpr int kNumAllocClasses = 2;

// Who owns an object, recorded next to it so that reclaim can go from a victim frame back to the
// index entries pointing into it (the kernel keeps the swap entry in the zswap object for this).
struct OwnerRef {
  uint8_t area_type;
  uint32_t offset;
};

enum class AllocStatus {
  kOk,
  kTooBig,    // size is 0 or larger than a page frame
  kNoMemory,  // no frame available: the arena is at its limit
};

struct AllocatorStats {
  uint64_t frames;                                // frames held, all classes
  uint64_t class_frames[kNumAllocClasses];        // frames held per class
  uint64_t buddied;                               // frames holding two objects
  uint64_t unbuddied;                             // frames holding one object
  uint64_t object_bytes;                          // bytes of space taken by objects (rounded)
  uint64_t class_object_bytes[kNumAllocClasses];  // the same per class
  uint64_t metadata_bytes;                        // native bookkeeping memory
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  virtual AllocStatus alloc(size_t size, AllocClass cls, OwnerRef owner, Handle* out) = 0;
  virtual void free(Handle handle) = 0;
  // The object's bytes, valid until the object is freed.
  virtual uint8_t* map(Handle handle) = 0;
  // Records a use of the object (a load), for reclaim's second-chance decision.
  virtual void touch(Handle handle) = 0;
  // Bytes of arena frames this allocator holds, i.e. its size in the pool.
  virtual uint64_t pool_bytes() const = 0;
  virtual void stats(AllocatorStats* out) const = 0;
};

}  // namespace tmem

#endif
