// The interface between the pool and its object allocators, like the kernel's zpool API:
// zsmalloc (size classes, zspages, compaction; the default), z3fold (three objects per frame) and
// zbud (two). The pool drives whichever one it was created with through this interface only.
//
// An allocator places variable-size objects (compressed pages, at most one page each) into arena
// frames and names each by a 32-bit handle that the pool keeps in its index. A handle stays valid
// until the object is freed, even if the allocator moves the object (zsmalloc's compaction,
// z3fold's in-frame compaction). Objects are tagged with a class: persistent (frontswap) and
// ephemeral (cleancache) pages never share a frame, so each class can be accounted and reclaimed
// on its own (ephemeral units are simply dropped, persistent entries written back).
//
// Object headers. Every object carries kHeaderBytes that belong to the pool (its entry LRU links
// and the object's owner, entry_lru.h). An allocator keeps them contiguous and 4-byte aligned:
// in front of the data for objects packed into frames (packed slots start at multiples of 16
// bytes, so a header never straddles two frames) and out of band for objects that take a whole
// frame. Byte kHeaderMarkByte of a free packed slot holds kFreeMark, which the pool never writes
// there: allocators that walk their slots (compaction, unit eviction) tell used slots from free
// ones by it, and keep no per-object bookkeeping of their own.
//
// Objects may straddle frame boundaries (zsmalloc): write() and map() hide that, map() by copying
// a split object into the caller's bounce buffer.
//
// Not thread-safe: the pool's mutex guards every call.
#ifndef TMEM_ALLOCATOR_H
#define TMEM_ALLOCATOR_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tmem {

class Arena;

using Handle = uint32_t;
constexpr Handle kNoHandle = UINT32_MAX;

enum class AllocClass : uint8_t { kPersistent = 0, kEphemeral = 1 };
constexpr int kNumAllocClasses = 2;

enum class AllocatorKind : uint8_t { kZsmalloc = 0, kZ3fold = 1, kZbud = 2 };

constexpr size_t kHeaderBytes = 13;
constexpr size_t kHeaderMarkByte = 12;
constexpr uint8_t kFreeMark = 0xfe;

enum class AllocStatus {
  kOk,
  kTooBig,    // size is 0 or larger than a page frame
  kNoMemory,  // no frame (or no bookkeeping memory) available: the arena is at its limit
};

// How hard compact() tries.
enum class CompactMode {
  kAuto,  // only size classes whose fragmentation passed the allocator's threshold
  kAll,   // every class that can give back at least one frame
};

// What compaction asks the pool: the handle of the object whose header is `header`. The allocator
// keeps no back-pointers from objects to handles; the owner recorded in the header leads there.
class HandleResolver {
 public:
  virtual Handle handle_of(AllocClass cls, const uint8_t* header) = 0;

 protected:
  ~HandleResolver() = default;
};

struct AllocatorStats {
  uint64_t class_frames[kNumAllocClasses];        // frames held per class
  uint64_t class_object_bytes[kNumAllocClasses];  // bytes of frame space taken by objects (headers and rounding included)
  uint64_t metadata_bytes;                        // native bookkeeping memory outside the arena
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  // Reserves bookkeeping space for every frame the arena can hand out. False if it cannot.
  virtual bool init() = 0;
  // The debugfs directory of the allocator's own counters.
  virtual const char* name() const = 0;

  // `size` bytes of data, 1..kPageSize; the header comes on top.
  virtual AllocStatus alloc(size_t size, AllocClass cls, Handle* out) = 0;
  virtual void free(Handle handle) = 0;
  // The object's kHeaderBytes header, contiguous; valid until the next call that may move objects.
  virtual uint8_t* header(Handle handle) = 0;
  // Copies `len` bytes of data into the object.
  virtual void write(Handle handle, const uint8_t* src, size_t len) = 0;
  // The object's first `len` data bytes: a pointer into the arena, or `bounce` (kPageSize bytes)
  // holding a copy when the object straddles frames. Valid until the next call on the allocator.
  virtual const uint8_t* map(Handle handle, size_t len, uint8_t* bounce) = 0;

  // Copies the headers of every object that shares the unit (frame or zspage) of `handle`,
  // `handle`'s own included, into out[kHeaderBytes * i]; returns how many. Freeing all of them
  // returns the unit's frames to the arena. At most kMaxUnitObjects.
  static constexpr uint32_t kMaxUnitObjects = 256;
  virtual uint32_t unit_headers(Handle handle, uint8_t* out) = 0;

  // True when compact(kAuto) has work: a free pushed some class over the fragmentation threshold.
  virtual bool wants_compaction() const = 0;
  // Moves objects so that frames can be given back; returns the frames released. Handles stay
  // valid. Allocators that cannot move objects between frames return 0.
  virtual uint32_t compact(CompactMode mode, HandleResolver& resolver) = 0;

  virtual void stats(AllocatorStats* out) const = 0;
  // The allocator's own counters, as "<name()>/..." debugfs paths; values in the same order.
  virtual std::vector<std::string> stat_names() const = 0;
  virtual void stat_values(double* out) const = 0;
};

// The allocator of `kind` over `arena` (not yet initialised).
std::unique_ptr<Allocator> make_allocator(AllocatorKind kind, Arena* arena);

}  // namespace tmem

#endif
