// zsmalloc: size classes, zspages and compaction, after mm/zsmalloc.c. The densest allocator and
// the default. Split by concern: zs_classes.{h,cc} (class geometry), zsmalloc.cc (zspages, slots,
// handles, fullness groups), zs_compact.cc (compaction), zs_stats.cc (counters).
//
// Objects of one size class live in slots of the class's size, packed back to back in zspages:
// chains of 1..8 arena frames (any frames, not adjacent ones), so a slot may straddle two frames.
// header() never does (slots start at multiples of 16 bytes and a header is 13); write() and map()
// copy around the boundary. A zspage takes its frames lazily, as its slots are first used (the
// "bump" index), so the partly filled newest zspage of a class holds at most one frame it does not
// fully use: with ~120 classes that is what keeps a pool of a few thousand pages dense.
// Huge objects (zs_classes.h) take a one-frame zspage of their own, their header kept in the
// zspage's descriptor.
//
// Out of band, per zspage, a 48-byte descriptor (in a reserved array indexed by zspage id): its
// frames, its fullness-group links, the number of objects in use, the head of its free-slot list
// (threaded through the free slots' headers, which carry kFreeMark) and the bump index. Per object
// only the handle table: a handle is an index into an array of u32 locations (zspage id << 8 |
// slot), so an object can move and its handle stays. Free handles and free descriptors are chained
// through themselves.
//
// Fullness groups, as the kernel's since 6.3: a zspage sits on the list of its class for its
// share of slots in use (1-9%, 10-19%, ..., 90-99%, full). Allocation takes a slot from the fullest
// non-full zspage, compaction moves objects from the sparsest into the densest.
//
// Compaction (zs_compact.cc): per class, while the class holds at least one zspage's worth of
// frames more than its objects need, the densest and the sparsest non-full zspages are taken off
// their lists and objects move from the sparse one into the dense one; each move copies the slot
// (header included), points the object's handle at the new slot (found through the owner in the
// header: HandleResolver) and frees the old slot. An emptied zspage gives its frames back to the
// arena. Races: none inside the allocator; the pool calls it under its mutex, so a load or a store
// never sees an object half moved. A writeback batch holds no pointer into the arena across the
// mutex (it copies page data out while picking and frees by handle when it ends), so objects it
// has picked may move while its pwrite runs. compact(kAuto) runs on classes that a free pushed over
// the threshold: two zspages' worth of frames reclaimable and at least 1/16 of the class's frames,
// so the cost per freed object stays bounded while a class never keeps much free space for long.
#ifndef TMEM_ZSMALLOC_H
#define TMEM_ZSMALLOC_H

#include <cstdint>
#include <memory>

#include "allocator.h"
#include "arena.h"
#include "id_list.h"
#include "region.h"
#include "zs_classes.h"

namespace tmem {

class Zsmalloc final : public Allocator {
 public:
  static constexpr uint32_t kSlotBits = 8;
  static constexpr uint32_t kMaxZspages = 1u << (32 - kSlotBits);
  // Fullness groups: 1..10 for 1-9% .. 90-99% of slots in use, 11 full; 0 = on no list (new or
  // being compacted; empty zspages are freed at once).
  static constexpr uint32_t kGroups = 12;
  static constexpr uint32_t kFullGroup = kGroups - 1;

  explicit Zsmalloc(Arena* arena) : arena_(arena) {}

  bool init() override;
  const char* name() const override { return "zsmalloc"; }
  AllocStatus alloc(size_t size, AllocClass cls, Handle* out) override;
  void free(Handle handle) override;
  uint8_t* header(Handle handle) override;
  void write(Handle handle, const uint8_t* src, size_t len) override;
  const uint8_t* map(Handle handle, size_t len, uint8_t* bounce) override;
  uint32_t unit_headers(Handle handle, uint8_t* out) override;
  bool wants_compaction() const override { return pending_ > 0; }
  uint32_t compact(CompactMode mode, HandleResolver& resolver) override;
  void stats(AllocatorStats* out) const override;
  std::vector<std::string> stat_names() const override;
  void stat_values(double* out) const override;

  const SizeClasses& classes() const { return classes_; }

  // Per class and allocation class, for tests and counters.
  struct ClassStats {
    uint64_t zspages;
    uint64_t frames;
    uint64_t used;  // objects in use
  };
  ClassStats class_stats(AllocClass cls, uint32_t index) const {
    const ClassState* s = find_state(cls, index);
    return s == nullptr ? ClassStats{0, 0, 0} : ClassStats{s->zspages, s->frames, s->used};
  }
  // Zspages of the class on fullness group `group`'s list (walks it).
  uint32_t group_count(AllocClass cls, uint32_t index, uint32_t group) const;
  // Frames the class holds beyond what its objects need in whole zspages.
  uint64_t reclaimable_frames(AllocClass cls, uint32_t index) const;
  uint64_t compactions() const { return compactions_; }
  uint64_t frames_compacted() const { return frames_compacted_; }
  // Walks every class's fullness lists and checks them against the descriptors and counters
  // (each zspage on the list its use calls for, counts and frames adding up). For tests.
  bool consistent() const;

 private:
  static constexpr uint16_t kNoSlot = UINT16_MAX;
  static constexpr uint32_t kNoZspage = UINT32_MAX;
  static constexpr uint8_t kEphemeralBit = 0x10;
  static constexpr uint8_t kGroupMask = 0x0f;

  struct Zspage {
    uint32_t frame[SizeClasses::kMaxZspageFrames];  // huge: frame[1..5) hold the object's header
    uint32_t link[2];   // fullness-group list; free-descriptor chain when unused
    uint16_t inuse;     // objects allocated
    uint16_t free_slot; // first free slot below `bump`, chained through the slots' headers
    uint16_t bump;      // slots [bump, objs) were never used and have no frames yet
    uint8_t class_index;
    uint8_t state;      // fullness group (kGroupMask) | kEphemeralBit
  };
  static_assert(sizeof(Zspage) == 48, "a zspage descriptor must stay within 48 bytes");

  struct ClassState {
    IdStack groups[kGroups];
    uint32_t zspages = 0;  // at most kMaxZspages
    uint32_t frames = 0;   // at most Arena::kMaxFrames
    uint32_t used = 0;     // objects; each has a handle, and handles are u32
    bool pending = false;  // over the automatic compaction threshold
  };
  static_assert(sizeof(ClassState) == 64, "a class's state must stay within 64 bytes");

  static uint32_t zspage_of(uint32_t loc) { return loc >> kSlotBits; }
  static uint32_t slot_of(uint32_t loc) { return loc & ((1u << kSlotBits) - 1); }
  static uint32_t loc(uint32_t zspage, uint32_t slot) { return zspage << kSlotBits | slot; }

  Zspage& zs(uint32_t id) const { return reinterpret_cast<Zspage*>(zspages_.base())[id]; }
  uint32_t& handle_slot(Handle h) const { return reinterpret_cast<uint32_t*>(handles_.base())[h]; }
  static AllocClass cls_of(const Zspage& z) {
    return (z.state & kEphemeralBit) ? AllocClass::kEphemeral : AllocClass::kPersistent;
  }
  // A class's state exists once the class held an object (most classes of a pool never do).
  ClassState* find_state(AllocClass cls, uint32_t index) const { return states_[static_cast<int>(cls)][index].get(); }
  ClassState& state(AllocClass cls, uint32_t index) const { return *find_state(cls, index); }
  ClassState& state_of(const Zspage& z) { return state(cls_of(z), z.class_index); }
  ArrayLinks<Zspage> links() const { return ArrayLinks<Zspage>{reinterpret_cast<Zspage*>(zspages_.base())}; }

  // Frames backing slots [0, bump) of a zspage of class `c`.
  static uint32_t frames_for(const SizeClass& c, uint32_t bump) {
    return c.huge ? (bump > 0 ? 1 : 0) : static_cast<uint32_t>((uint64_t{bump} * c.size + kPageSize - 1) / kPageSize);
  }
  // Address of byte `at` of a zspage (its frame must exist).
  uint8_t* byte_at(const Zspage& z, uint32_t at) const {
    return arena_->frame(z.frame[at / kPageSize]) + at % kPageSize;
  }
  uint8_t* slot_header(const Zspage& z, uint32_t slot) const;
  void copy_out(const Zspage& z, uint32_t at, uint8_t* dst, size_t len) const;
  void copy_in(const Zspage& z, uint32_t at, const uint8_t* src, size_t len) const;

  static uint32_t group_of(const SizeClass& c, uint32_t inuse);
  // Puts a zspage on the list its use calls for (taking it off its current one).
  void regroup(uint32_t id);
  void unlist(uint32_t id);
  // The first zspage found on groups `from`..`to` (either direction), or kNoZspage.
  uint32_t first_in_groups(const ClassState& s, int from, int to) const;

  uint32_t new_zspage(uint32_t class_index, AllocClass cls);
  // Frees an empty (or emptied) zspage's frames and descriptor; it must be on no list.
  void release_zspage(uint32_t id);
  // A slot of the zspage for a new object (free list first, then bump, taking frames as needed);
  // kNoSlot when it is full or a frame cannot be had.
  uint32_t take_slot(uint32_t id);
  // Returns a slot to the zspage's free list (the zspage keeps at least one object).
  void put_slot(uint32_t id, uint32_t slot);
  Handle new_handle(uint32_t location);
  // Frames the class holds beyond what its objects need in whole zspages.
  static uint64_t spare_frames(const ClassState& s, const SizeClass& c);
  void check_pending(ClassState& s, const SizeClass& c);

  uint32_t compact_class(AllocClass cls, uint32_t index, HandleResolver& resolver);

  Arena* arena_;
  SizeClasses classes_;
  std::vector<std::unique_ptr<ClassState>> states_[kNumAllocClasses];
  uint32_t class_states_ = 0;  // allocated
  Region zspages_;
  uint32_t zspage_limit_ = 0;
  uint32_t zspage_high_ = 0;
  uint32_t free_zspage_ = kNoZspage;
  Region handles_;
  uint64_t handle_limit_ = 0;
  uint32_t handle_high_ = 0;
  Handle free_handle_ = kNoHandle;
  uint32_t pending_ = 0;  // classes with `pending` set
  uint64_t compactions_ = 0;
  uint64_t frames_compacted_ = 0;
  uint8_t bounce_[kPageSize];  // compaction's copy of a slot on its way
};

}  // namespace tmem

#endif
