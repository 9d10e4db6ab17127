#include "region.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace tmem {

namespace {

size_t os_page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

Region::~Region() {
  if (base_ != nullptr) munmap(base_, reserved_);
}

bool Region::reserve(size_t bytes) {
  if (base_ != nullptr || bytes == 0) return false;
  size_t len = round_up(bytes, os_page_size());
  // MAP_NORESERVE: the reservation itself must not be charged against the commit limit; the
  // charge happens in commit_to() for what the pool really uses.
  void* p = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  base_ = static_cast<uint8_t*>(p);
  reserved_ = len;
  return true;
}

bool Region::commit_to(size_t bytes, size_t granule) {
  if (bytes <= committed_) return true;
  if (bytes > reserved_) return false;
  size_t target = round_up(bytes, round_up(granule, os_page_size()));
  if (target > reserved_) target = reserved_;
  if (mprotect(base_ + committed_, target - committed_, PROT_READ | PROT_WRITE) != 0) return false;
  committed_ = target;
  return true;
}

void Region::discard(size_t offset, size_t len) {
  // MADV_DONTNEED on private anonymous memory frees the pages immediately (RSS drops now, not
  // under memory pressure as with MADV_FREE) and the next touch faults in a zero page.
  madvise(base_ + offset, len, MADV_DONTNEED);
}

void Region::discard(const Span* spans, size_t n) {
#if defined(__linux__) && defined(SYS_process_madvise)
  // Refused once (older kernel, seccomp): never asked again, by any region.
  static std::atomic<bool> batched{true};
  constexpr int kPidfdSelfThread = -10000;  // PIDFD_SELF_THREAD
  constexpr size_t kMaxSpans = 64;
  while (n > 0 && batched.load(std::memory_order_relaxed)) {
    struct iovec iov[kMaxSpans];
    const size_t k = n < kMaxSpans ? n : kMaxSpans;
    size_t bytes = 0;
    for (size_t i = 0; i < k; i++) {
      iov[i].iov_base = base_ + spans[i].offset;
      iov[i].iov_len = spans[i].len;
      bytes += spans[i].len;
    }
    const long done = syscall(SYS_process_madvise, kPidfdSelfThread, iov, k, MADV_DONTNEED, 0);
    if (done < 0) {
      if (errno != EINTR && errno != EAGAIN) batched.store(false, std::memory_order_relaxed);
      break;  // the per-range path below does this batch and the rest
    }
    if (static_cast<size_t>(done) != bytes) break;  // stopped part-way: the rest one by one
    spans += k;
    n -= k;
  }
#endif
  for (size_t i = 0; i < n; i++) discard(spans[i].offset, spans[i].len);
}

bool Region::populate(size_t offset, size_t len) {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // older libc headers; the kernel decides whether it knows it
#endif
  return madvise(base_ + offset, len, MADV_POPULATE_WRITE) == 0;
#else
  (void)offset;
  (void)len;
  return false;
#endif
}

void Region::no_huge_pages() {
#ifdef MADV_NOHUGEPAGE
  if (base_ != nullptr) madvise(base_, reserved_, MADV_NOHUGEPAGE);
#endif
}

}  // namespace tmem
