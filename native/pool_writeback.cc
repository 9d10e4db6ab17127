// Writeback: picking the coldest persistent entries, writing their pages to the swap files
// without the mutex, and finishing the batch (the three-step protocol in pool.h), plus shutdown(),
// which waits for running batches. Separate from pool.cc because it is the only code that does
// I/O and runs off the JS thread.
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

uint32_t Pool::pick_locked(uint32_t max_pages, Picked* picks, uint8_t* pages, uint8_t* bounce) {
  uint32_t n = 0;
  // Two passes over the LRU at most: the first may only clear referenced bits.
  uint64_t budget = uint64_t{2} * pers_lru_.count();
  Handle h = pers_lru_.tail();
  while (h != kNoHandle && budget-- > 0 && n < max_pages) {
    const Handle prev = EntryLru::prev(*alloc_, h);
    const Owner owner = header::owner(alloc_->header(h));
    uint64_t e = 0;
    bool ok = owner.type < kMaxAreas;
    if (ok) {
      const Area& area = areas_[owner.type];
      ok = area.index.active() && !area.draining && area.fd >= 0 && owner.offset < area.index.pages();
      if (ok) e = area.index.get(owner.offset);
    }
    ok = ok && Entry::has_object(e) && !Entry::under_writeback(e) && Entry::payload(e) == h;
    if (ok && Entry::referenced(e)) {
      // Second chance: loaded since the last look.
      areas_[owner.type].index.replace(owner.offset, e & ~Entry::kReferenced);
      pers_lru_.move_to_head(*alloc_, h);
      h = prev;
      continue;
    }
    if (ok) {
      uint8_t* out = pages + size_t{n} * kPageSize;
      const uint32_t len = Entry::length(e);
      const uint8_t* obj = alloc_->map(h, len, bounce);
      if (Entry::kind(e) == EntryKind::kRaw) {
        std::memcpy(out, obj, kPageSize);
      } else if (!Codec::decompress(obj, len, out)) {
        decompress_fail_++;
        ok = false;
      }
    }
    if (!ok) {
      // Not writable now (an area without a file, or going away, or a corrupt object): move it out
      // of the way so the next batches do not trip over it again.
      pers_lru_.move_to_head(*alloc_, h);
      h = prev;
      continue;
    }
    Area& area = areas_[owner.type];
    picks[n++] = Picked{e, owner.offset, owner.type, area.fd};
    area.index.replace(owner.offset, e | Entry::kUnderWriteback);
    area.inflight++;
    pers_lru_.unlink(*alloc_, h);
    h = prev;
  }
  return n;
}

uint32_t Pool::finish_locked(uint32_t n, const Picked* picks, const uint8_t* outcome) {
  uint32_t done = 0;
  // Back to the cold end in the order they were picked (coldest last, so it is the tail again).
  for (uint32_t i = n; i-- > 0;) {
    const Picked& p = picks[i];
    Area& area = areas_[p.type];
    area.inflight--;
    const uint64_t now = area.index.get(p.offset);
    // Mutations wait for the batch, so the entry cannot have changed (a plain load may have set
    // its referenced bit); checked all the same.
    assert((now & ~Entry::kReferenced) == (p.entry | Entry::kUnderWriteback));
    if ((now & ~Entry::kReferenced) != (p.entry | Entry::kUnderWriteback)) continue;
    if (outcome[i] == kWritten) {
      drop_entry(area.index.take(p.offset), false);
      written_back_++;
      done++;
    } else {
      if (outcome[i] == kFailed) reject_reclaim_fail_++;
      area.index.replace(p.offset, now & ~Entry::kUnderWriteback);
      pers_lru_.push_tail(*alloc_, Entry::payload(p.entry));
    }
  }
  // The freed objects leave holes; compaction turns them back into free frames.
  alloc_->compact(CompactMode::kAll, *this);
  return done;
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

void* Pool::take_batch_buffer(size_t bytes) {
  {
    Lock lock(mu_);
    for (size_t i = 0; i < spare_buffers_.size(); i++) {
      if (spare_buffers_[i].bytes < bytes) continue;
      void* mem = spare_buffers_[i].mem;
      spare_buffers_.erase(spare_buffers_.begin() + static_cast<std::ptrdiff_t>(i));
      return mem;
    }
  }
  return std::aligned_alloc(kPageSize, bytes);
}

void Pool::give_batch_buffer(void* mem, size_t bytes) {
  {
    Lock lock(mu_);
    if (!closed_ && spare_buffers_.size() < kSpareBuffers) {
      spare_buffers_.push_back(SpareBuffer{mem, bytes});
      return;
    }
  }
  std::free(mem);
}

uint32_t Pool::writeback(uint32_t max_pages) {
  if (max_pages == 0) return 0;
  // Private buffers of the batch: pages, their records, the order they are written in, outcomes,
  // and a bounce page for objects that straddle frames. Reused between batches: a fresh one would
  // fault in every page the batch decompresses into.
  const size_t raw = size_t{max_pages} * (kPageSize + sizeof(Picked) + sizeof(uint32_t) + sizeof(struct iovec) + 1) +
                     kPageSize;
  const size_t bytes = (raw + kPageSize - 1) / kPageSize * kPageSize;
  void* mem = take_batch_buffer(bytes);
  if (mem == nullptr) return 0;
  uint8_t* pages = static_cast<uint8_t*>(mem);
  uint8_t* bounce = pages + size_t{max_pages} * kPageSize;
  struct iovec* iov = reinterpret_cast<struct iovec*>(bounce + kPageSize);
  Picked* picks = reinterpret_cast<Picked*>(iov + max_pages);
  uint32_t* order = reinterpret_cast<uint32_t*>(picks + max_pages);
  uint8_t* outcome = reinterpret_cast<uint8_t*>(order + max_pages);

  uint32_t n = 0, evicted = 0;
  {
    Lock lock(mu_);
    if (!closed_) {
      // Ephemeral units first: clean pages, dropped without I/O. They count as progress, so that
      // the policy sees the pool shrink. Then compaction, which frees frames without I/O, and
      // persistent entries for the rest.
      while (evicted < max_pages && eph_lru_.count() > 0) evicted += evict_eph_unit(false);
      alloc_->compact(CompactMode::kAll, *this);
      publish_size();
      if (evicted < max_pages) n = pick_locked(max_pages - evicted, picks, pages, bounce);
    }
    if (n == 0) {
      lock.unlock();
      give_batch_buffer(mem, bytes);
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
  std::memset(outcome, kNotTried, n);
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
    // A failed run counts its own pages (the pages of later runs were not tried).
    failed = !write_fully(first.fd, iov, cnt, static_cast<off_t>(first.offset) * kPageSize, &err, &write_calls_);
    for (uint32_t k = i; k < j; k++) outcome[order[k]] = failed ? kFailed : kWritten;
    i = j;
  }

  uint32_t done;
  {
    Lock lock(mu_);
    done = finish_locked(n, picks, outcome);
    outstanding_writeback_ -= n;
    active_batches_--;
    publish_size();
  }
  settled_cv_.notify_all();
  give_batch_buffer(mem, bytes);
  return evicted + done;
}

void Pool::shutdown() {
  Lock lock(mu_);
  closed_ = true;
  while (active_batches_ > 0) settled_cv_.wait(lock);
  for (const SpareBuffer& b : spare_buffers_) std::free(b.mem);
  spare_buffers_.clear();
}

}  // namespace tmem
