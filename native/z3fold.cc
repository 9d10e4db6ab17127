#include "z3fold.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace tmem {

uint32_t Z3fold::ranges(uint32_t frame, Range* out) const {
  const Z3foldFrame* h = hdr(frame);
  uint32_t n = 0;
  for (uint32_t s = 0; s < kSlots; s++) {
    if (h->chunks[s] != 0) out[n++] = Range{s, h->start[s], static_cast<uint32_t>(h->start[s] + h->chunks[s])};
  }
  std::sort(out, out + n, [](const Range& a, const Range& b) { return a.start < b.start; });
  return n;
}

uint32_t Z3fold::largest_gap(uint32_t frame) const {
  Range r[kSlots];
  const uint32_t n = ranges(frame, r);
  uint32_t at = 0, best = 0;
  for (uint32_t i = 0; i < n; i++) {
    best = std::max(best, r[i].start - at);
    at = r[i].end;
  }
  return std::max(best, kChunks - at);
}

IdList& Z3fold::placement_list(uint32_t frame) {
  ClassLists& lists = lists_of(frame);
  if (hdr(frame)->objects == kSlots) return lists.full;
  return lists.room[std::min(largest_gap(frame), kChunks - 1)];
}

uint32_t Z3fold::place(uint32_t frame, uint32_t n) {
  Z3foldFrame* h = hdr(frame);
  uint32_t slot = 0;
  while (h->chunks[slot] != 0) slot++;
  Range r[kSlots];
  const uint32_t k = ranges(frame, r);
  uint32_t to;
  if (k == 0 || r[0].start >= n) {
    to = 0;  // first buddy
  } else if (kChunks - r[k - 1].end >= n) {
    to = kChunks - n;  // last buddy
  } else {
    // Middle buddy: the tightest gap between two objects that fits.
    to = kChunks;
    uint32_t best = kChunks + 1;
    for (uint32_t i = 1; i < k; i++) {
      const uint32_t gap = r[i].start - r[i - 1].end;
      if (gap >= n && gap < best) {
        best = gap;
        to = r[i - 1].end;
      }
    }
    assert(to < kChunks);
  }
  h->start[slot] = static_cast<uint8_t>(to);
  h->chunks[slot] = static_cast<uint8_t>(n);
  h->objects++;
  return slot;
}

AllocStatus Z3fold::alloc(size_t size, AllocClass cls, Handle* out) {
  if (size == 0 || size > kPageSize) return AllocStatus::kTooBig;
  bool headless;
  const uint32_t n = chunks_for(size, &headless);
  const uint32_t frame = take_frame(cls, n, headless, headless ? kHeadless : 0);
  if (frame == kNil) return AllocStatus::kNoMemory;
  const uint32_t slot = place(frame, n);
  class_chunks_[idx(cls)] += n;
  if (headless) {
    headless_++;  // on no list: nothing else fits
  } else {
    placement_list(frame).push_head(frame, links());
  }
  *out = frame << 2 | slot;
  return AllocStatus::kOk;
}

void Z3fold::move(uint32_t frame, uint32_t slot, uint32_t to) {
  Z3foldFrame* h = hdr(frame);
  uint8_t* base = arena_->frame(frame);
  std::memmove(base + to * kChunkSize, base + h->start[slot] * kChunkSize, h->chunks[slot] * kChunkSize);
  h->start[slot] = static_cast<uint8_t>(to);
  middle_moves_++;
}

void Z3fold::compact_frame(uint32_t frame) {
  Range r[kSlots];
  const uint32_t k = ranges(frame, r);
  if (k == 1) {
    if (r[0].start != 0) move(frame, r[0].slot, 0);
    return;
  }
  if (k != 2) return;
  const Range& a = r[0];
  const Range& b = r[1];
  const uint32_t gap = b.start - a.end;
  if (a.start == 0) {
    if (b.end != kChunks && gap >= kBigGap) move(frame, b.slot, a.end);  // middle next to first
  } else if (b.end == kChunks) {
    if (gap >= kBigGap) move(frame, a.slot, b.start - (a.end - a.start));  // middle next to last
  } else {
    move(frame, a.slot, 0);  // both afloat: first to the start, then the other next to it
    if (gap + a.start >= kBigGap) move(frame, b.slot, a.end - a.start);
  }
}

void Z3fold::free(Handle handle) {
  const uint32_t frame = frame_of(handle);
  const uint32_t slot = slot_of(handle);
  Z3foldFrame* h = hdr(frame);
  assert(h->chunks[slot] != 0);
  if (headless(frame)) {
    headless_--;
  } else {
    placement_list(frame).unlink(frame, links());
  }
  class_chunks_[class_of(h)] -= h->chunks[slot];
  h->chunks[slot] = 0;
  h->objects--;
  if (h->objects == 0) {
    release_frame(frame);
    return;
  }
  compact_frame(frame);
  placement_list(frame).push_head(frame, links());
}

uint8_t* Z3fold::header(Handle handle) {
  return is_headless(handle) ? hdr(frame_of(handle))->whole_header : object(handle);
}

void Z3fold::write(Handle handle, const uint8_t* src, size_t len) {
  std::memcpy(object(handle) + (is_headless(handle) ? 0 : kHeaderBytes), src, len);
}

const uint8_t* Z3fold::map(Handle handle, size_t, uint8_t*) {
  return object(handle) + (is_headless(handle) ? 0 : kHeaderBytes);
}

uint32_t Z3fold::unit_headers(Handle handle, uint8_t* out) {
  const uint32_t frame = frame_of(handle);
  uint32_t n = 0;
  for (uint32_t s = 0; s < kSlots; s++) {
    if (hdr(frame)->chunks[s] == 0) continue;
    std::memcpy(out + n * kHeaderBytes, header(frame << 2 | s), kHeaderBytes);
    n++;
  }
  return n;
}

bool Z3fold::consistent() const {
  uint64_t listed = 0;
  for (int c = 0; c < kNumAllocClasses; c++) {
    const ClassLists& lists = lists_[c];
    for (uint32_t g = 0; g <= kChunks; g++) {
      const IdList& list = g < kChunks ? lists.room[g] : lists.full;
      uint32_t n = 0;
      for (uint32_t f = list.head; f != kNil; f = list_next(f), n++) {
        const Z3foldFrame* h = hdr(f);
        if (headless(f) || class_of(h) != c) return false;
        if (g == kChunks ? h->objects != kSlots : (h->objects == kSlots || std::min(largest_gap(f), kChunks - 1) != g)) {
          return false;
        }
      }
      if (n != list.count) return false;
      listed += n;
    }
  }
  return class_frames_[0] + class_frames_[1] == listed + headless_;
}

std::vector<std::string> Z3fold::stat_names() const {
  return {"z3fold/pages", "z3fold/buddied", "z3fold/unbuddied", "z3fold/headless", "z3fold/zbytes",
          "z3fold/middle_moves"};
}

void Z3fold::stat_values(double* out) const {
  uint64_t unbuddied, buddied;
  list_counts(&unbuddied, &buddied);
  out[0] = static_cast<double>(class_frames_[0] + class_frames_[1]);
  out[1] = static_cast<double>(buddied);
  out[2] = static_cast<double>(unbuddied);
  out[3] = static_cast<double>(headless_);
  out[4] = static_cast<double>((class_chunks_[0] + class_chunks_[1]) * kChunkSize);
  out[5] = static_cast<double>(middle_moves_);
}

}  // namespace tmem
