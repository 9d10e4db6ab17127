// A reserved-then-committed span of anonymous virtual memory.
//
// The pool's big arrays (page frames, per-frame headers, the free-frame stack) must be able to
// grow to the pool's maximum size without ever moving: handles are frame ids, and the N-API
// layer hands out raw pointers into frames for the duration of one call. So each array reserves
// its whole virtual range up front with PROT_NONE (costs address space, not memory or commit
// charge) and commits a growing prefix with mprotect. Only pages that are actually touched
// become resident.
#ifndef TMEM_REGION_H
#define TMEM_REGION_H

#include <cstddef>
#include <cstdint>

namespace tmem {

class Region {
 public:
  Region() = default;
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  // Reserves `bytes` (rounded up to whole OS pages). False if the address space is not available.
  bool reserve(size_t bytes);

  // Makes the prefix [0, bytes) readable and writable, growing in steps of `granule` bytes so that
  // mprotect is called rarely. False if the kernel refuses (commit limit) or bytes > reserved().
  bool commit_to(size_t bytes, size_t granule);

  // Drops the contents of [offset, offset+len) and gives the memory back to the OS; the range
  // stays committed and reads back as zeros.
  void discard(size_t offset, size_t len);

  // The same for n ranges (offset, length pairs) at once: one process_madvise() call where the
  // kernel takes MADV_DONTNEED through it for the calling process (PIDFD_SELF_THREAD, Linux
  // 6.13+), which batches the TLB flush that one madvise() per range would pay each time (an IPI
  // to every CPU the process ran on: ~30x slower for scattered frames in a VM, measured).
  // Elsewhere, one madvise() per range.
  struct Span {
    size_t offset;
    size_t len;
  };
  void discard(const Span* spans, size_t n);

  // Faults [offset, offset+len) in, writable, with one call (MADV_POPULATE_WRITE, Linux >= 5.14)
  // instead of one page fault per page on first touch. False if the kernel cannot (older kernel:
  // EINVAL, or another platform); the pages then fault in on first touch as before.
  bool populate(size_t offset, size_t len);

  // Asks the kernel not to back this region with transparent huge pages. Used for the frame
  // arena: a 2 MiB huge page would make RSS jump by 512 frames on the first touch and would keep
  // memory resident until every 4 KiB frame in it is discarded.
  void no_huge_pages();

  uint8_t* base() const { return base_; }
  size_t reserved() const { return reserved_; }
  size_t committed() const { return committed_; }

 private:
  uint8_t* base_ = nullptr;
  size_t reserved_ = 0;
  size_t committed_ = 0;
};

}  // namespace tmem

#endif
