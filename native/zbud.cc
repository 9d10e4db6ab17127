#include "zbud.h"

#include <cassert>
#include <cstring>

namespace tmem {

bool Zbud::init() {
  size_t frames = arena_->max_frames() == 0 ? 1 : arena_->max_frames();
  return headers_.reserve(frames * sizeof(FrameHeader));
}

Zbud::List& Zbud::placement_list(uint32_t frame) {
  FrameHeader* h = hdr(frame);
  ClassLists& lists = lists_[(h->flags & kEphemeral) ? 1 : 0];
  if (h->chunks[0] != 0 && h->chunks[1] != 0) return lists.buddied;
  return lists.unbuddied[free_chunks(h)];
}

void Zbud::push_head(List& list, uint32_t frame, int which) {
  FrameHeader* h = hdr(frame);
  h->link[which][kPrev] = kNil;
  h->link[which][kNext] = list.head;
  if (list.head != kNil) {
    hdr(list.head)->link[which][kPrev] = frame;
  } else {
    list.tail = frame;
  }
  list.head = frame;
  list.count++;
}

void Zbud::push_tail(List& list, uint32_t frame, int which) {
  FrameHeader* h = hdr(frame);
  h->link[which][kNext] = kNil;
  h->link[which][kPrev] = list.tail;
  if (list.tail != kNil) {
    hdr(list.tail)->link[which][kNext] = frame;
  } else {
    list.head = frame;
  }
  list.tail = frame;
  list.count++;
}

void Zbud::unlink(List& list, uint32_t frame, int which) {
  FrameHeader* h = hdr(frame);
  uint32_t prev = h->link[which][kPrev];
  uint32_t next = h->link[which][kNext];
  if (prev != kNil) {
    hdr(prev)->link[which][kNext] = next;
  } else {
    list.head = next;
  }
  if (next != kNil) {
    hdr(next)->link[which][kPrev] = prev;
  } else {
    list.tail = prev;
  }
  list.count--;
}

AllocStatus Zbud::alloc(size_t size, AllocClass cls, OwnerRef owner, Handle* out) {
  if (size == 0 || size > kPageSize) return AllocStatus::kTooBig;
  const uint32_t chunks = static_cast<uint32_t>((size + kChunkSize - 1) >> kChunkShift);
  ClassLists& lists = lists_[idx(cls)];

  // First fit over the unbuddied lists, tightest first: frames with exactly enough free chunks
  // are used before roomier ones, which are worth keeping for bigger objects.
  uint32_t frame = kNil;
  for (uint32_t i = chunks; i < kChunks; i++) {
    if (lists.unbuddied[i].head != kNil) {
      frame = lists.unbuddied[i].head;
      unlink(lists.unbuddied[i], frame, kPlacement);
      unlink(lists.lru, frame, kLru);
      break;
    }
  }

  if (frame == kNil) {
    frame = arena_->alloc_frame();
    if (frame == Arena::kNoFrame) return AllocStatus::kNoMemory;
    // Header pages are committed as frame ids grow; ids are dense (the arena reuses freed ids
    // first), so this tracks the pool's high-water mark.
    if (!headers_.commit_to((static_cast<size_t>(frame) + 1) * sizeof(FrameHeader), kPageSize)) {
      arena_->free_frame(frame);
      return AllocStatus::kNoMemory;
    }
    FrameHeader* h = hdr(frame);
    std::memset(h, 0, sizeof(*h));
    h->flags = cls == AllocClass::kEphemeral ? kEphemeral : 0;
    frames_++;
    class_frames_[idx(cls)]++;
  }

  FrameHeader* h = hdr(frame);
  const uint32_t buddy = h->chunks[0] == 0 ? 0 : 1;
  h->chunks[buddy] = static_cast<uint8_t>(chunks);
  h->owner_type[buddy] = owner.area_type;
  h->owner_offset[buddy] = owner.offset;
  object_chunks_ += chunks;
  class_chunks_[idx(cls)] += chunks;

  push_head(placement_list(frame), frame, kPlacement);
  push_head(lists.lru, frame, kLru);
  *out = (frame << 1) | buddy;
  return AllocStatus::kOk;
}

void Zbud::free(Handle handle) {
  const uint32_t frame = frame_of(handle);
  const uint32_t buddy = buddy_of(handle);
  FrameHeader* h = hdr(frame);
  assert(h->chunks[buddy] != 0);

  const bool reclaim = (h->flags & kUnderReclaim) != 0;
  // A frame under reclaim is on no list; end_reclaim() puts it back or releases it.
  if (!reclaim) unlink(placement_list(frame), frame, kPlacement);
  object_chunks_ -= h->chunks[buddy];
  class_chunks_[(h->flags & kEphemeral) ? 1 : 0] -= h->chunks[buddy];
  h->chunks[buddy] = 0;
  h->owner_type[buddy] = 0;
  h->owner_offset[buddy] = 0;
  if (reclaim) return;

  if (h->chunks[0] == 0 && h->chunks[1] == 0) {
    unlink(lists_of(frame).lru, frame, kLru);
    release_frame(frame);
    return;
  }
  // The remaining buddy stays where it is; the frame becomes a candidate for a new buddy.
  push_head(placement_list(frame), frame, kPlacement);
}

void Zbud::release_frame(uint32_t frame) {
  const int c = (hdr(frame)->flags & kEphemeral) ? 1 : 0;
  hdr(frame)->flags = 0;
  frames_--;
  class_frames_[c]--;
  arena_->free_frame(frame);
}

bool Zbud::second_chance(uint32_t frame) {
  FrameHeader* h = hdr(frame);
  if ((h->flags & kReferenced) == 0) return false;
  h->flags &= static_cast<uint8_t>(~kReferenced);
  lru_to_head(frame);
  return true;
}

void Zbud::lru_to_head(uint32_t frame) {
  List& lru = lists_of(frame).lru;
  unlink(lru, frame, kLru);
  push_head(lru, frame, kLru);
}

void Zbud::begin_reclaim(uint32_t frame) {
  FrameHeader* h = hdr(frame);
  assert((h->flags & kUnderReclaim) == 0 && (h->chunks[0] != 0 || h->chunks[1] != 0));
  unlink(placement_list(frame), frame, kPlacement);
  unlink(lists_of(frame).lru, frame, kLru);
  h->flags |= kUnderReclaim;
}

void Zbud::end_reclaim(uint32_t frame) {
  FrameHeader* h = hdr(frame);
  assert((h->flags & kUnderReclaim) != 0);
  h->flags &= static_cast<uint8_t>(~kUnderReclaim);
  if (h->chunks[0] == 0 && h->chunks[1] == 0) {
    release_frame(frame);
    return;
  }
  push_head(placement_list(frame), frame, kPlacement);
  push_tail(lists_of(frame).lru, frame, kLru);
}

uint8_t* Zbud::map(Handle handle) {
  const uint32_t frame = frame_of(handle);
  const FrameHeader* h = hdr(frame);
  assert(h->chunks[buddy_of(handle)] != 0);
  uint8_t* base = arena_->frame(frame);
  if (buddy_of(handle) == 0) return base;
  return base + (kChunks - h->chunks[1]) * kChunkSize;
}

void Zbud::set_owner(Handle handle, OwnerRef owner) {
  FrameHeader* h = hdr(frame_of(handle));
  h->owner_type[buddy_of(handle)] = owner.area_type;
  h->owner_offset[buddy_of(handle)] = owner.offset;
}

void Zbud::touch(Handle handle) { hdr(frame_of(handle))->flags |= kReferenced; }

Zbud::FrameInfo Zbud::frame_info(uint32_t frame) const {
  const FrameHeader* h = hdr(frame);
  FrameInfo info;
  info.chunks[0] = h->chunks[0];
  info.chunks[1] = h->chunks[1];
  info.referenced = (h->flags & kReferenced) != 0;
  info.cls = (h->flags & kEphemeral) ? AllocClass::kEphemeral : AllocClass::kPersistent;
  for (int b = 0; b < 2; b++) info.owners[b] = OwnerRef{h->owner_type[b], h->owner_offset[b]};
  return info;
}

void Zbud::stats(AllocatorStats* out) const {
  out->frames = frames_;
  out->buddied = 0;
  out->unbuddied = 0;
  for (int c = 0; c < kNumAllocClasses; c++) {
    out->class_frames[c] = class_frames_[c];
    out->class_object_bytes[c] = class_chunks_[c] * kChunkSize;
    out->buddied += lists_[c].buddied.count;
    for (const List& l : lists_[c].unbuddied) out->unbuddied += l.count;
  }
  out->object_bytes = object_chunks_ * kChunkSize;
  out->metadata_bytes = headers_.committed() + sizeof(lists_);
}

}  // namespace tmem
