#include "zbud.h"

#include <cassert>
#include <cstring>

namespace tmem {

IdList& Zbud::placement_list(uint32_t frame) {
  const ZbudFrame* h = hdr(frame);
  ClassLists& lists = lists_of(frame);
  if (h->chunks[0] != 0 && h->chunks[1] != 0) return lists.full;
  return lists.room[kChunks - h->chunks[0] - h->chunks[1]];
}

AllocStatus Zbud::alloc(size_t size, AllocClass cls, Handle* out) {
  if (size == 0 || size > kPageSize) return AllocStatus::kTooBig;
  bool whole;
  const uint32_t chunks = chunks_for(size, &whole);
  const uint32_t frame = take_frame(cls, chunks, whole, whole ? kWhole : 0);
  if (frame == kNil) return AllocStatus::kNoMemory;
  ZbudFrame* h = hdr(frame);
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
  ZbudFrame* h = hdr(frame);
  assert(h->chunks[buddy] != 0);
  placement_list(frame).unlink(frame, links());
  class_chunks_[class_of(h)] -= h->chunks[buddy];
  h->chunks[buddy] = 0;
  if (h->chunks[0] == 0 && h->chunks[1] == 0) {
    release_frame(frame);
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
  return whole(handle) ? hdr(frame_of(handle))->whole_header : object(handle);
}

void Zbud::write(Handle handle, const uint8_t* src, size_t len) {
  std::memcpy(object(handle) + (whole(handle) ? 0 : kHeaderBytes), src, len);
}

const uint8_t* Zbud::map(Handle handle, size_t, uint8_t*) { return object(handle) + (whole(handle) ? 0 : kHeaderBytes); }

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
      const IdList& list = g < kChunks ? lists_[c].room[g] : lists_[c].full;
      uint32_t n = 0;
      for (uint32_t f = list.head; f != kNil; f = list_next(f), n++) {
        const ZbudFrame* h = hdr(f);
        const bool two = h->chunks[0] != 0 && h->chunks[1] != 0;
        if (class_of(h) != c || (g == kChunks) != two || (!two && kChunks - h->chunks[0] - h->chunks[1] != g)) return false;
      }
      if (n != list.count) return false;
      listed += n;
    }
  }
  return listed == class_frames_[0] + class_frames_[1];
}

std::vector<std::string> Zbud::stat_names() const { return {"zbud/pages", "zbud/buddied", "zbud/unbuddied", "zbud/zbytes"}; }

void Zbud::stat_values(double* out) const {
  uint64_t unbuddied, buddied;
  list_counts(&unbuddied, &buddied);
  out[0] = static_cast<double>(class_frames_[0] + class_frames_[1]);
  out[1] = static_cast<double>(buddied);
  out[2] = static_cast<double>(unbuddied);
  out[3] = static_cast<double>((class_chunks_[0] + class_chunks_[1]) * kChunkSize);
}

}  // namespace tmem
