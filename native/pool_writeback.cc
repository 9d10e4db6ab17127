// Writeback: picking the coldest persistent frames, writing their pages to the swap files without
// the mutex, and finishing the batch (the three-step protocol in pool.h), plus shutdown(), which
// waits for running batches. Separate from pool.cc because it is the only code that does I/O and
// runs off the JS thread.
#include "pool.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace tmem {

uint32_t Pool::pick_locked(uint32_t max_pages, Picked* picks, uint8_t* pages, uint32_t* frames,
                           uint32_t* nframes) {
  uint32_t n = 0;
  // Two passes over the LRU at most: the first may only clear referenced bits.
  uint64_t budget = uint64_t{2} * zbud_.lru_count(AllocClass::kPersistent);
  uint32_t frame = zbud_.lru_tail(AllocClass::kPersistent);
  while (frame != Zbud::kNil && budget-- > 0 && n < max_pages) {
    const uint32_t prev = zbud_.lru_prev(frame);
    if (zbud_.second_chance(frame)) {
      frame = prev;
      continue;
    }
    const Zbud::FrameInfo info = zbud_.frame_info(frame);
    const uint32_t buddies = (info.chunks[0] != 0) + (info.chunks[1] != 0);
    // Whole frames only (a half-written frame frees nothing); a batch may go one page over only
    // when its very first frame does not fit.
    if (n > 0 && n + buddies > max_pages) break;
    uint32_t k = n;
    bool ok = true;
    for (uint32_t b = 0; b < 2 && ok; b++) {
      if (info.chunks[b] == 0) continue;
      const OwnerRef owner = info.owners[b];
      ok = owner.area_type < kMaxAreas;
      if (!ok) break;
      const Area& area = areas_[owner.area_type];
      ok = area.index.active() && !area.draining && area.fd >= 0 && owner.offset < area.index.pages();
      if (!ok) break;
      const uint64_t e = area.index.get(owner.offset);
      const EntryKind kind = Entry::kind(e);
      ok = (kind == EntryKind::kCompressed || kind == EntryKind::kRaw) && !Entry::under_writeback(e) &&
           Entry::payload(e) == ((frame << 1) | b);
      if (!ok) break;
      uint8_t* out = pages + size_t{k} * kPageSize;
      const uint8_t* obj = zbud_.map(Entry::payload(e));
      if (kind == EntryKind::kRaw) {
        std::memcpy(out, obj, kPageSize);
      } else if (!Codec::decompress(obj, Entry::length(e), out)) {
        decompress_fail_++;
        ok = false;
        break;
      }
      picks[k++] = Picked{e, owner.offset, owner.area_type, area.fd};
    }
    if (!ok) {
      // Not writable now (area without a file, or going away, or a corrupt object): move it out of
      // the way so the next batches do not trip over it again.
      zbud_.lru_to_head(frame);
      frame = prev;
      continue;
    }
    for (uint32_t i = n; i < k; i++) {
      Area& area = areas_[picks[i].type];
      area.index.replace(picks[i].offset, picks[i].entry | Entry::kUnderWriteback);
      area.inflight++;
    }
    zbud_.begin_reclaim(frame);
    frames[(*nframes)++] = frame;
    n = k;
    frame = prev;
  }
  return n;
}

namespace {

// pwritev of the whole iovec array at `pos`, continuing after short writes. False with *err set
// on an error (EINTR is retried). Consumes the iovecs.
bool write_fully(int fd, struct iovec* iov, int iovcnt, off_t pos, int* err, std::atomic<uint64_t>* calls) {
  while (iovcnt > 0) {
    calls->fetch_add(1, std::memory_order_relaxed);
    ssize_t w = iovcnt == 1 ? pwrite(fd, iov->iov_base, iov->iov_len, pos) : pwritev(fd, iov, iovcnt, pos);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    if (w == 0) {  // no progress on a non-empty write: treat as out of space
      *err = ENOSPC;
      return false;
    }
    pos += w;
    size_t left = static_cast<size_t>(w);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      iovcnt--;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace

uint32_t Pool::writeback(uint32_t max_pages) {
  if (max_pages == 0) return 0;
  // One frame may hold two pages, so room for two even when asked for one.
  const uint32_t cap = std::max<uint32_t>(max_pages, 2);
  // Private buffers of the batch: pages, their records, the order they are written in, frames.
  const size_t bytes = size_t{cap} * (kPageSize + sizeof(Picked) + sizeof(uint32_t) * 2 + sizeof(struct iovec) + 1);
  void* mem = std::aligned_alloc(kPageSize, (bytes + kPageSize - 1) / kPageSize * kPageSize);
  if (mem == nullptr) return 0;
  uint8_t* pages = static_cast<uint8_t*>(mem);
  struct iovec* iov = reinterpret_cast<struct iovec*>(pages + size_t{cap} * kPageSize);
  Picked* picks = reinterpret_cast<Picked*>(iov + cap);
  uint32_t* order = reinterpret_cast<uint32_t*>(picks + cap);
  uint32_t* frames = order + cap;
  uint8_t* written = reinterpret_cast<uint8_t*>(frames + cap);

  uint32_t n = 0, nframes = 0, evicted = 0;
  {
    Lock lock(mu_);
    if (!closed_) {
      // Ephemeral frames first: clean pages, dropped without I/O. They count as progress, so that
      // the policy sees the pool shrink. Persistent frames are picked for the rest.
      while (evicted < max_pages && zbud_.lru_count(AllocClass::kEphemeral) > 0) evicted += evict_eph_frame(false);
      if (evicted > 0) publish_size();
      if (evicted < max_pages) n = pick_locked(max_pages - evicted, picks, pages, frames, &nframes);
    }
    if (n == 0) {
      lock.unlock();
      std::free(mem);
      return evicted;
    }
    active_batches_++;
    outstanding_writeback_ += n;
  }

  // Step 2, no lock held. Sorted by file and slot, adjacent slots of one file make one pwritev.
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  std::sort(order, order + n, [picks](uint32_t a, uint32_t b) {
    return picks[a].fd != picks[b].fd ? picks[a].fd < picks[b].fd : picks[a].offset < picks[b].offset;
  });
  std::memset(written, 0, n);
  bool failed = false;
  for (uint32_t i = 0; i < n && !failed;) {
    const Picked& first = picks[order[i]];
    uint32_t j = i;
    int cnt = 0;
    while (j < n && cnt < IOV_MAX && picks[order[j]].fd == first.fd &&
           picks[order[j]].offset == first.offset + (j - i)) {
      iov[cnt].iov_base = pages + size_t{order[j]} * kPageSize;
      iov[cnt].iov_len = kPageSize;
      cnt++;
      j++;
    }
    int err = 0;
    if (write_fully(first.fd, iov, cnt, static_cast<off_t>(first.offset) * kPageSize, &err, &write_calls_)) {
      for (uint32_t k = i; k < j; k++) written[order[k]] = 1;
    } else {
      failed = true;  // this run and every later one stay in the pool
    }
    i = j;
  }

  uint32_t done = 0;
  {
    Lock lock(mu_);
    for (uint32_t i = 0; i < n; i++) {
      const Picked& p = picks[i];
      Area& area = areas_[p.type];
      area.inflight--;
      const uint64_t now = area.index.get(p.offset);
      // Mutations wait for the batch, so the entry cannot have changed; checked all the same.
      assert(now == (p.entry | Entry::kUnderWriteback));
      if (now != (p.entry | Entry::kUnderWriteback)) continue;
      if (written[i]) {
        drop_entry(area.index.take(p.offset) & ~Entry::kUnderWriteback);
        written_back_++;
        done++;
      } else {
        area.index.replace(p.offset, p.entry);
        reject_reclaim_fail_++;
      }
    }
    for (uint32_t f = 0; f < nframes; f++) zbud_.end_reclaim(frames[f]);
    outstanding_writeback_ -= n;
    active_batches_--;
    publish_size();
  }
  settled_cv_.notify_all();
  std::free(mem);
  return evicted + done;
}

void Pool::shutdown() {
  Lock lock(mu_);
  closed_ = true;
  while (active_batches_ > 0) settled_cv_.wait(lock);
}

}  // namespace tmem
