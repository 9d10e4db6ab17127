// Compaction's entry points in the pool (when it runs: pool.h) and the HandleResolver the
// allocators use to find a moving object's handle: through the owner recorded in the object's
// header, its index entry (persistent) or EphIndex entry (ephemeral) holds the handle.
#include "pool.h"

namespace tmem {

uint32_t Pool::compact() {
  Lock lock(mu_);
  if (closed_) return 0;
  const uint32_t released = alloc_->compact(CompactMode::kAll, *this);
  publish_size();
  return released;
}

Handle Pool::handle_of(AllocClass cls, const uint8_t* header) {
  const Owner owner = header::owner(header);
  const uint64_t e = cls == AllocClass::kEphemeral ? eph_.value(owner.offset) : areas_[owner.type].index.get(owner.offset);
  return Entry::payload(e);
}

}  // namespace tmem
