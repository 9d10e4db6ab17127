#include "zbud.h"

#include <cassert>
#include <cstring>

namespace tmem {

bool Zbud::init() {
  size_t frames = arena_->max_frames() == 0 ? 1 : arena_->max_frames();
  return headers_.reserve(frames * sizeof(FrameHeader));
}

IdList& Zbud::placement_list(uint32_t frame) {
  FrameHeader* h = hdr(frame);
  ClassLists& lists = lists_of(frame);
  if (h->chunks[0] != 0 && h->chunks[1] != 0) return lists.buddied;
  return lists.unbuddied[kChunks - h->chunks[0] - h->chunks[1]];
}

AllocStatus Zbud::alloc(size_t size, AllocClass cls, Handle* out) {
  if (size == 0 || size > kPageSize) return AllocStatus::kTooBig;
  const bool whole = size + kHeaderBytes > kPageSize;
  const uint32_t chunks = whole ? kChunks : static_cast<uint32_t>((size + kHeaderBytes + kChunkSize - 1) >> kChunkShift);
  ClassLists& lists = lists_[idx(cls)];

  // First fit over the unbuddied lists, tightest first: frames with exactly enough free chunks
  // are used before roomier ones, which are worth keeping for bigger objects.
  uint32_t frame = kNil;
  for (uint32_t i = chunks; i < kChunks && !whole; i++) {
    if (lists.unbuddied[i].head != kNil) {
      frame = lists.unbuddied[i].head;
      lists.unbuddied[i].unlink(frame, links());
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
    h->flags = static_cast<uint8_t>((cls == AllocClass::kEphemeral ? kEphemeral : 0) | (whole ? kWhole : 0));
    class_frames_[idx(cls)]++;
  }

  FrameHeader* h = hdr(frame);
  const uint32_t buddy = h->chunks[0] == 0 ? 0 : 1;
  h->chunks[buddy] = static_cast<uint8_t>(chunks);
  class_chunks_[idx(cls)] += chunks;
  placement_list(frame).push_head(frame, links());
  *out = (frame << 1) | buddy;
  return AllocStatus::kOk;
}

void Zbud::free(Handle handle) {
  const uint32_t frame = frame_of(handle);
  const uint32_t buddy = buddy_of(handle);
  FrameHeader* h = hdr(frame);
  assert(h->chunks[buddy] != 0);
  placement_list(frame).unlink(frame, links());
  const int c = (h->flags & kEphemeral) ? 1 : 0;
  class_chunks_[c] -= h->chunks[buddy];
  h->chunks[buddy] = 0;
  if (h->chunks[0] == 0 && h->chunks[1] == 0) {
    h->flags = 0;
    class_frames_[c]--;
    arena_->free_frame(frame);
    return;
  }
  // The remaining buddy stays where it is; the frame becomes a candidate for a new buddy.
  placement_list(frame).push_head(frame, links());
}

uint8_t* Zbud::object(Handle handle) const {
  const uint32_t frame = frame_of(handle);
  uint8_t* base = arena_->frame(frame);
  if (buddy_of(handle) == 0) return base;
  return base + (kChunks - hdr(frame)->chunks[1]) * kChunkSize;
}

uint8_t* Zbud::header(Handle handle) {
  FrameHeader* h = hdr(frame_of(handle));
  return (h->flags & kWhole) ? h->whole_header : object(handle);
}

void Zbud::write(Handle handle, const uint8_t* src, size_t len) {
  const bool whole = (hdr(frame_of(handle))->flags & kWhole) != 0;
  std::memcpy(object(handle) + (whole ? 0 : kHeaderBytes), src, len);
}

const uint8_t* Zbud::map(Handle handle, size_t, uint8_t*) {
  const bool whole = (hdr(frame_of(handle))->flags & kWhole) != 0;
  return object(handle) + (whole ? 0 : kHeaderBytes);
}

uint32_t Zbud::unit_headers(Handle handle, uint8_t* out) {
  const uint32_t frame = frame_of(handle);
  uint32_t n = 0;
  for (uint32_t b = 0; b < 2; b++) {
    if (hdr(frame)->chunks[b] == 0) continue;
    std::memcpy(out + n * kHeaderBytes, header((frame << 1) | b), kHeaderBytes);
    n++;
  }
  return n;
}

bool Zbud::consistent() const {
  uint64_t listed = 0;
  for (int c = 0; c < kNumAllocClasses; c++) {
    for (uint32_t g = 0; g <= kChunks; g++) {
      const IdList& list = g < kChunks ? lists_[c].unbuddied[g] : lists_[c].buddied;
      uint32_t n = 0;
      for (uint32_t f = list.head; f != kNil; f = hdr(f)->link[IdList::kNext], n++) {
        const FrameHeader* h = hdr(f);
        const bool two = h->chunks[0] != 0 && h->chunks[1] != 0;
        if (((h->flags & kEphemeral) != 0) != (c == 1) || (g == kChunks) != two ||
            (!two && kChunks - h->chunks[0] - h->chunks[1] != g)) {
          return false;
        }
      }
      if (n != list.count) return false;
      listed += n;
    }
  }
  return listed == class_frames_[0] + class_frames_[1];
}

void Zbud::stats(AllocatorStats* out) const {
  for (int c = 0; c < kNumAllocClasses; c++) {
    out->class_frames[c] = class_frames_[c];
    out->class_object_bytes[c] = class_chunks_[c] * kChunkSize;
  }
  out->metadata_bytes = headers_.committed() + sizeof(lists_);
}

std::vector<std::string> Zbud::stat_names() const {
  return {"zbud/pages", "zbud/buddied", "zbud/unbuddied", "zbud/zbytes"};
}

void Zbud::stat_values(double* out) const {
  uint64_t buddied = 0, unbuddied = 0;
  for (const ClassLists& l : lists_) {
    buddied += l.buddied.count;
    for (const IdList& u : l.unbuddied) unbuddied += u.count;
  }
  out[0] = static_cast<double>(class_frames_[0] + class_frames_[1]);
  out[1] = static_cast<double>(buddied);
  out[2] = static_cast<double>(unbuddied);
  out[3] = static_cast<double>((class_chunks_[0] + class_chunks_[1]) * kChunkSize);
}

}  // namespace tmem
