// zsmalloc compaction: objects move from the sparsest zspages of a class into the densest, and
// emptied zspages give their frames back (the protocol and its races: zsmalloc.h).
#include "zsmalloc.h"

namespace tmem {

uint32_t Zsmalloc::compact(CompactMode mode, HandleResolver& resolver) {
  uint32_t released = 0;
  bool moved = false;
  for (int c = 0; c < kNumAllocClasses; c++) {
    const AllocClass cls = static_cast<AllocClass>(c);
    for (uint32_t index = 0; index < classes_.count(); index++) {
      ClassState* found = find_state(cls, index);
      if (found == nullptr) continue;
      ClassState& s = *found;
      if (mode == CompactMode::kAuto && !s.pending) continue;
      if (s.pending) {
        s.pending = false;
        pending_--;
      }
      if (spare_frames(s, classes_[index]) < classes_[index].frames) continue;
      const uint64_t before = s.frames;
      if (compact_class(cls, index, resolver) > 0) moved = true;
      released += static_cast<uint32_t>(before - s.frames);
    }
  }
  if (moved) compactions_++;
  frames_compacted_ += released;
  return released;
}

uint32_t Zsmalloc::compact_class(AllocClass cls, uint32_t index, HandleResolver& resolver) {
  const SizeClass& c = classes_[index];
  ClassState& s = state(cls, index);
  uint32_t src = kNoZspage, dst = kNoZspage, moved = 0;
  bool stuck = false;
  // As the kernel's __zs_compact: keep a destination until it is full and a source until it is
  // empty, and stop once the class cannot give back a whole zspage any more.
  while (!stuck && spare_frames(s, c) >= c.frames) {
    if (dst == kNoZspage) {
      dst = first_in_groups(s, static_cast<int>(kFullGroup) - 1, 1);  // densest non-full
      if (dst == kNoZspage) break;
      unlist(dst);
    }
    if (src == kNoZspage) {
      src = first_in_groups(s, 1, static_cast<int>(kFullGroup) - 1);  // sparsest
      if (src == kNoZspage) break;
      unlist(src);
    }
    Zspage& from = zs(src);
    for (uint32_t slot = 0; slot < from.bump && from.inuse > 0; slot++) {
      uint8_t* h = slot_header(from, slot);
      if (h[kHeaderMarkByte] == kFreeMark) continue;
      const uint32_t to = take_slot(dst);
      if (to == kNoSlot) {
        // dst is full, or its next slot needs a frame the arena cannot give: in the latter case
        // nothing more can move now.
        stuck = zs(dst).inuse < c.objs;
        break;
      }
      const Handle handle = resolver.handle_of(cls, h);
      copy_out(from, slot * c.size, bounce_, c.size);
      copy_in(zs(dst), to * c.size, bounce_, c.size);
      handle_slot(handle) = loc(dst, to);
      moved++;
      if (from.inuse == 1) {
        from.inuse = 0;
        s.used--;
      } else {
        put_slot(src, slot);
      }
    }
    if (zs(src).inuse == 0) {
      release_zspage(src);
      src = kNoZspage;
    }
    if (zs(dst).inuse >= c.objs || stuck) {
      regroup(dst);
      dst = kNoZspage;
    }
  }
  if (src != kNoZspage) regroup(src);
  if (dst != kNoZspage) regroup(dst);
  return moved;
}

}  // namespace tmem
