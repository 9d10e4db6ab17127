// The remote tier's two pool steps (pool.h, "Remote tier"): pick a batch of cold objects' stored
// bytes, and finish it once the cluster acknowledged (or refused) them. Both run on the JS thread
// under the pool's mutex; the network round trip between them holds nothing.
#include <cstring>

#include "pool.h"

namespace tmem {

uint32_t Pool::remote_pick(uint32_t max, uint8_t* payloads, uint32_t* lengths, uint32_t* types, uint32_t* offsets) {
  Lock lock(mu_);
  if (closed_ || !remote_picks_.empty()) return 0;
  remote_picks_.reserve(max);
  uint64_t budget = uint64_t{2} * pers_lru_.count();
  Handle h = pers_lru_.tail();
  uint32_t n = 0;
  while (h != kNoHandle && budget-- > 0 && n < max) {
    const Handle prev = EntryLru::prev(*alloc_, h);
    const Owner owner = header::owner(alloc_->header(h));
    uint64_t e = 0;
    if (owner.type < kMaxAreas) {
      const Area& area = areas_[owner.type];
      if (area.index.active() && !area.draining && owner.offset < area.index.pages()) e = area.index.get(owner.offset);
    }
    if (!Entry::has_object(e) || Entry::under_writeback(e) || Entry::payload(e) != h) {
      pers_lru_.move_to_head(*alloc_, h);
      h = prev;
      continue;
    }
    AreaIndex& index = areas_[owner.type].index;
    if (Entry::referenced(e)) {
      index.replace(owner.offset, e & ~Entry::kReferenced);
      pers_lru_.move_to_head(*alloc_, h);
      h = prev;
      continue;
    }
    const uint32_t len = Entry::length(e);
    uint8_t* out = payloads + size_t{n} * kPageSize;
    const uint8_t* obj = alloc_->map(h, len, out);
    if (obj != out) std::memcpy(out, obj, len);
    lengths[n] = len;
    types[n] = owner.type;
    offsets[n] = owner.offset;
    remote_picks_.push_back(Picked{e, owner.offset, owner.type, -1});
    index.replace(owner.offset, e | Entry::kRemotePicked);
    pers_lru_.unlink(*alloc_, h);
    n++;
    h = prev;
  }
  return n;
}

uint32_t Pool::remote_finish(uint32_t n, const uint8_t* ok, uint8_t* committed) {
  Lock lock(mu_);
  uint32_t done = 0;
  const uint32_t picked = static_cast<uint32_t>(remote_picks_.size());
  // Back to the cold end in the order they were picked (coldest last, so it is the tail again).
  for (uint32_t i = picked; i-- > 0;) {
    const Picked& p = remote_picks_[i];
    if (i < n) committed[i] = 0;
    AreaIndex& index = areas_[p.type].index;
    if (!index.active() || p.offset >= index.pages()) continue;
    const uint64_t now = index.get(p.offset);
    if ((now & ~Entry::kReferenced) != (p.entry | Entry::kRemotePicked)) continue;
    if (i < n && ok[i] != 0) {
      drop_entry(index.take(p.offset));
      committed[i] = 1;
      done++;
    } else {
      index.replace(p.offset, now & ~Entry::kRemotePicked);
      pers_lru_.push_tail(*alloc_, Entry::payload(p.entry));
    }
  }
  remote_picks_.clear();
  if (done > 0) alloc_->compact(CompactMode::kAll, *this);
  publish_size();
  return done;
}

}  // namespace tmem
