// zsmalloc's zspages, slots, handles and fullness groups (design and races: zsmalloc.h).
#include "zsmalloc.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace tmem {

namespace {

// A free slot's header holds the next free slot of its zspage (and kFreeMark).
uint32_t next_free(const uint8_t* header) {
  uint32_t v;
  std::memcpy(&v, header, sizeof(v));
  return v;
}
void set_next_free(uint8_t* header, uint32_t slot) { std::memcpy(header, &slot, sizeof(slot)); }

}  // namespace

bool Zsmalloc::init() {
  const uint64_t frames = std::max<uint32_t>(arena_->max_frames(), 1);
  // A zspage holds at least one frame once it holds an object, and a slot is at least
  // kMinSize bytes: these bound the descriptors and handles the arena can ever need.
  zspage_limit_ = static_cast<uint32_t>(std::min<uint64_t>(frames, kMaxZspages));
  handle_limit_ = std::min<uint64_t>(frames * (kPageSize / SizeClasses::kMinSize), kNoHandle);
  for (auto& s : states_) s.resize(classes_.count());
  return zspages_.reserve(size_t{zspage_limit_} * sizeof(Zspage)) && handles_.reserve(handle_limit_ * sizeof(uint32_t));
}

uint8_t* Zsmalloc::slot_header(const Zspage& z, uint32_t slot) const {
  const SizeClass& c = classes_[z.class_index];
  if (c.huge) return reinterpret_cast<uint8_t*>(const_cast<uint32_t*>(&z.frame[1]));
  return byte_at(z, slot * c.size);
}

void Zsmalloc::copy_out(const Zspage& z, uint32_t at, uint8_t* dst, size_t len) const {
  while (len > 0) {
    const size_t n = std::min<size_t>(len, kPageSize - at % kPageSize);
    std::memcpy(dst, byte_at(z, at), n);
    dst += n;
    at += static_cast<uint32_t>(n);
    len -= n;
  }
}

void Zsmalloc::copy_in(const Zspage& z, uint32_t at, const uint8_t* src, size_t len) const {
  while (len > 0) {
    const size_t n = std::min<size_t>(len, kPageSize - at % kPageSize);
    std::memcpy(byte_at(z, at), src, n);
    src += n;
    at += static_cast<uint32_t>(n);
    len -= n;
  }
}

uint32_t Zsmalloc::group_of(const SizeClass& c, uint32_t inuse) {
  if (inuse >= c.objs) return kFullGroup;
  return 1 + (100 * inuse / c.objs) / 10;
}

void Zsmalloc::unlist(uint32_t id) {
  Zspage& z = zs(id);
  const uint32_t g = z.state & kGroupMask;
  if (g == 0) return;
  state_of(z).groups[g].unlink(id, links());
  z.state &= static_cast<uint8_t>(~kGroupMask);
}

void Zsmalloc::regroup(uint32_t id) {
  Zspage& z = zs(id);
  const uint32_t want = group_of(classes_[z.class_index], z.inuse);
  if ((z.state & kGroupMask) == want) return;
  unlist(id);
  state_of(z).groups[want].push_head(id, links());
  z.state = static_cast<uint8_t>((z.state & ~kGroupMask) | want);
}

uint32_t Zsmalloc::first_in_groups(const ClassState& s, int from, int to) const {
  const int step = from <= to ? 1 : -1;
  for (int g = from;; g += step) {
    if (s.groups[g].head != IdList::kNil) return s.groups[g].head;
    if (g == to) return kNoZspage;
  }
}

uint32_t Zsmalloc::new_zspage(uint32_t class_index, AllocClass cls) {
  uint32_t id;
  if (free_zspage_ != kNoZspage) {
    id = free_zspage_;
    free_zspage_ = zs(id).link[0];
  } else {
    if (zspage_high_ >= zspage_limit_) return kNoZspage;
    if (!zspages_.commit_to((size_t{zspage_high_} + 1) * sizeof(Zspage), kPageSize)) return kNoZspage;
    id = zspage_high_++;
  }
  Zspage& z = zs(id);
  std::memset(&z, 0, sizeof(z));
  std::fill(std::begin(z.frame), std::end(z.frame), Arena::kNoFrame);
  z.free_slot = kNoSlot;
  z.class_index = static_cast<uint8_t>(class_index);
  z.state = cls == AllocClass::kEphemeral ? kEphemeralBit : 0;
  state(cls, class_index).zspages++;
  return id;
}

void Zsmalloc::release_zspage(uint32_t id) {
  Zspage& z = zs(id);
  assert((z.state & kGroupMask) == 0);
  ClassState& s = state_of(z);
  const uint32_t n = frames_for(classes_[z.class_index], z.bump);
  for (uint32_t f = 0; f < n; f++) arena_->free_frame(z.frame[f]);
  s.frames -= n;
  s.zspages--;
  z.link[0] = free_zspage_;
  free_zspage_ = id;
}

uint32_t Zsmalloc::take_slot(uint32_t id) {
  Zspage& z = zs(id);
  const SizeClass& c = classes_[z.class_index];
  uint32_t slot;
  if (z.free_slot != kNoSlot) {
    slot = z.free_slot;
    z.free_slot = static_cast<uint16_t>(next_free(slot_header(z, slot)));
  } else {
    if (z.bump >= c.objs) return kNoSlot;
    const uint32_t have = frames_for(c, z.bump);
    const uint32_t need = frames_for(c, z.bump + 1u);
    for (uint32_t f = have; f < need; f++) {
      const uint32_t frame = arena_->alloc_frame();
      if (frame == Arena::kNoFrame) {
        // Give back what this call took: frames_for(bump) must stay the frames the zspage holds.
        while (f-- > have) {
          arena_->free_frame(z.frame[f]);
          z.frame[f] = Arena::kNoFrame;
          state_of(z).frames--;
        }
        return kNoSlot;
      }
      z.frame[f] = frame;
      state_of(z).frames++;
    }
    slot = z.bump++;
  }
  if (!c.huge) slot_header(z, slot)[kHeaderMarkByte] = 0;  // no longer free; the pool writes the owner
  z.inuse++;
  state_of(z).used++;
  return slot;
}

void Zsmalloc::put_slot(uint32_t id, uint32_t slot) {
  Zspage& z = zs(id);
  uint8_t* h = slot_header(z, slot);
  set_next_free(h, z.free_slot);
  h[kHeaderMarkByte] = kFreeMark;
  z.free_slot = static_cast<uint16_t>(slot);
  z.inuse--;
  state_of(z).used--;
}

Handle Zsmalloc::new_handle(uint32_t location) {
  Handle h;
  if (free_handle_ != kNoHandle) {
    h = free_handle_;
    free_handle_ = handle_slot(h);
  } else {
    if (handle_high_ >= handle_limit_) return kNoHandle;
    if (!handles_.commit_to((size_t{handle_high_} + 1) * sizeof(uint32_t), kPageSize)) return kNoHandle;
    h = handle_high_++;
  }
  handle_slot(h) = location;
  return h;
}

AllocStatus Zsmalloc::alloc(size_t size, AllocClass cls, Handle* out) {
  if (size == 0 || size > kPageSize) return AllocStatus::kTooBig;
  const uint32_t index = classes_.class_of(size + kHeaderBytes);
  std::unique_ptr<ClassState>& slot_state = states_[static_cast<int>(cls)][index];
  if (slot_state == nullptr) {
    slot_state.reset(new (std::nothrow) ClassState());
    if (slot_state == nullptr) return AllocStatus::kNoMemory;
    class_states_++;
  }
  ClassState& s = *slot_state;
  // The fullest zspage that still has room; a new one only when there is none.
  uint32_t id = first_in_groups(s, static_cast<int>(kFullGroup) - 1, 1);
  const bool fresh = id == kNoZspage;
  if (fresh) {
    id = new_zspage(index, cls);
    if (id == kNoZspage) return AllocStatus::kNoMemory;
  }
  const uint32_t slot = take_slot(id);
  if (slot == kNoSlot) {
    if (fresh) release_zspage(id);
    return AllocStatus::kNoMemory;
  }
  const Handle h = new_handle(loc(id, slot));
  if (h == kNoHandle) {
    if (zs(id).inuse == 1) {
      zs(id).inuse = 0;
      s.used--;
      unlist(id);
      release_zspage(id);
    } else {
      put_slot(id, slot);
    }
    return AllocStatus::kNoMemory;
  }
  regroup(id);
  *out = h;
  return AllocStatus::kOk;
}

void Zsmalloc::free(Handle handle) {
  const uint32_t location = handle_slot(handle);
  handle_slot(handle) = free_handle_;
  free_handle_ = handle;
  const uint32_t id = zspage_of(location);
  Zspage& z = zs(id);
  ClassState& s = state_of(z);
  if (z.inuse == 1) {
    z.inuse = 0;
    s.used--;
    unlist(id);
    release_zspage(id);
    return;
  }
  put_slot(id, slot_of(location));
  regroup(id);
  check_pending(s, classes_[z.class_index]);
}

uint8_t* Zsmalloc::header(Handle handle) {
  const uint32_t location = handle_slot(handle);
  return slot_header(zs(zspage_of(location)), slot_of(location));
}

void Zsmalloc::write(Handle handle, const uint8_t* src, size_t len) {
  const uint32_t location = handle_slot(handle);
  const Zspage& z = zs(zspage_of(location));
  const SizeClass& c = classes_[z.class_index];
  if (c.huge) {
    std::memcpy(arena_->frame(z.frame[0]), src, len);
    return;
  }
  copy_in(z, slot_of(location) * c.size + kHeaderBytes, src, len);
}

const uint8_t* Zsmalloc::map(Handle handle, size_t len, uint8_t* bounce) {
  const uint32_t location = handle_slot(handle);
  const Zspage& z = zs(zspage_of(location));
  const SizeClass& c = classes_[z.class_index];
  if (c.huge) return arena_->frame(z.frame[0]);
  const uint32_t at = slot_of(location) * c.size + static_cast<uint32_t>(kHeaderBytes);
  if (at % kPageSize + len <= kPageSize) return byte_at(z, at);
  copy_out(z, at, bounce, len);
  return bounce;
}

uint32_t Zsmalloc::unit_headers(Handle handle, uint8_t* out) {
  const Zspage& z = zs(zspage_of(handle_slot(handle)));
  uint32_t n = 0;
  for (uint32_t slot = 0; slot < z.bump; slot++) {
    const uint8_t* h = slot_header(z, slot);
    if (!classes_[z.class_index].huge && h[kHeaderMarkByte] == kFreeMark) continue;
    std::memcpy(out + size_t{n} * kHeaderBytes, h, kHeaderBytes);
    n++;
  }
  return n;
}

uint32_t Zsmalloc::group_count(AllocClass cls, uint32_t index, uint32_t group) const {
  const ClassState* s = find_state(cls, index);
  uint32_t n = 0;
  for (uint32_t id = s == nullptr ? IdLinks::kNil : s->groups[group].head; id != IdLinks::kNil; id = zs(id).link[IdLinks::kNext]) n++;
  return n;
}

bool Zsmalloc::consistent() const {
  for (int c = 0; c < kNumAllocClasses; c++) {
    for (uint32_t i = 0; i < classes_.count(); i++) {
      const ClassState* s = states_[c][i].get();
      if (s == nullptr) continue;
      uint64_t zspages = 0, used = 0, frames = 0;
      for (uint32_t g = 0; g < kGroups; g++) {
        for (uint32_t id = s->groups[g].head; id != IdLinks::kNil; id = zs(id).link[IdLinks::kNext]) {
          const Zspage& z = zs(id);
          if (z.class_index != i || static_cast<int>(cls_of(z)) != c || (z.state & kGroupMask) != g ||
              group_of(classes_[i], z.inuse) != g || z.inuse == 0 || z.inuse > z.bump) {
            return false;
          }
          zspages++;
          used += z.inuse;
          frames += frames_for(classes_[i], z.bump);
        }
      }
      if (zspages != s->zspages || used != s->used || frames != s->frames) return false;
    }
  }
  return true;
}

uint64_t Zsmalloc::spare_frames(const ClassState& s, const SizeClass& c) {
  if (c.huge) return 0;
  const uint64_t needed = (uint64_t{s.used} + c.objs - 1) / c.objs * c.frames;
  return s.frames > needed ? s.frames - needed : 0;
}

uint64_t Zsmalloc::reclaimable_frames(AllocClass cls, uint32_t index) const {
  const ClassState* s = find_state(cls, index);
  return s == nullptr ? 0 : spare_frames(*s, classes_[index]);
}

void Zsmalloc::check_pending(ClassState& s, const SizeClass& c) {
  if (s.pending) return;
  const uint64_t spare = spare_frames(s, c);
  if (spare >= 2u * c.frames && spare * 16 >= s.frames) {
    s.pending = true;
    pending_++;
  }
}

}  // namespace tmem
