// iofault: an LD_PRELOAD shim that makes positional file I/O on chosen files fail on a schedule,
// so the tests and the soak can check that tmem loses no page and codes every error when the swap
// file misbehaves (EIO, ENOSPC, short counts).
//
// What it intercepts: the glibc symbols that Node's libuv and the tmem addon actually import for
// swap-file I/O (checked with `nm -D`): pwrite64 and pwritev64 (the addon's writeback, fs.writeSync
// with a position), pread64 and preadv64 (fs.readSync with a position), fsync and fdatasync, plus
// their non-64 and v2 aliases so that a rebuilt libuv or addon cannot slip past it. Only
// descriptors whose path (readlink of /proc/self/fd/N) starts with $TMEM_FAULT_PREFIX are
// considered; everything else goes straight to libc.
//
// The schedule lives in a small control file ($TMEM_FAULT_CONTROL) that the shim maps shared, so
// the process under test (or its parent) changes it with an ordinary pwrite and reads the shim's
// counters back with pread, without any call into the shim: the page cache keeps the mapping and
// the file coherent. Layout (little-endian, see test/faults/iofault.mjs): a 16-byte header (magic,
// version, seed) then one 40-byte rule per class (write, read, sync):
//   i32 mode     0 off, 1 EIO, 2 ENOSPC, 3 short count, 4 mixed (each fault picks one at random)
//   u32 every    fault on every Nth considered call (0: use ppm)
//   u32 ppm      else fault with this probability per million calls
//   i32 budget   faults left to inject (-1 unlimited); the shim counts it down
//   u32 skip     considered calls let through before the first fault
//   u32 pad
//   u64 calls    (shim) considered calls so far
//   u64 faults   (shim) faults injected so far
// Races: writeback runs on libuv's thread pool while the main thread reads, so counters and the
// budget are updated with atomics; the random stream is a hash of the seed and a global call
// number, so a schedule is reproducible as far as thread interleaving allows.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

enum { kMagic = 0x544d4649 /* "IFMT" */, kVersion = 1 };
enum { kWrite = 0, kRead = 1, kSync = 2, kClasses = 3 };
enum { kOff = 0, kEio = 1, kEnospc = 2, kShort = 3, kMixed = 4 };

struct rule {
  int32_t mode;
  uint32_t every;
  uint32_t ppm;
  int32_t budget;
  uint32_t skip;
  uint32_t pad;
  uint64_t calls;
  uint64_t faults;
};

struct control {
  uint32_t magic;
  uint32_t version;
  uint64_t seed;
  struct rule rules[kClasses];
};

_Static_assert(sizeof(struct rule) == 40, "rule layout is shared with iofault.mjs");
_Static_assert(sizeof(struct control) == 136, "control layout is shared with iofault.mjs");

static struct control* ctl;
static char prefix[4096];
static size_t prefix_len;
static uint64_t call_seq;

// Resolved lazily: the shim's own calls must reach libc, never recurse into the shim.
static ssize_t (*real_pwrite64)(int, const void*, size_t, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec*, int, off_t);
static ssize_t (*real_pwritev64v2)(int, const struct iovec*, int, off_t, int);
static ssize_t (*real_pread64)(int, void*, size_t, off_t);
static ssize_t (*real_preadv64)(int, const struct iovec*, int, off_t);
static ssize_t (*real_preadv64v2)(int, const struct iovec*, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void* next(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    fprintf(stderr, "iofault: libc has no %s\n", name);
    abort();
  }
  return f;
}

// The v2 calls came with glibc 2.26; without them nothing can call them either.
static ssize_t no_v2(int fd, const struct iovec* iov, int cnt, off_t pos, int flags) {
  (void)fd, (void)iov, (void)cnt, (void)pos, (void)flags;
  errno = ENOSYS;
  return -1;
}

static void* next_v2(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  return f != NULL ? f : (void*)no_v2;
}

__attribute__((constructor)) static void init(void) {
  real_pwrite64 = next("pwrite64");
  real_pwritev64 = next("pwritev64");
  real_pwritev64v2 = next_v2("pwritev64v2");
  real_pread64 = next("pread64");
  real_preadv64 = next("preadv64");
  real_preadv64v2 = next_v2("preadv64v2");
  real_fsync = next("fsync");
  real_fdatasync = next("fdatasync");
  const char* p = getenv("TMEM_FAULT_PREFIX");
  const char* c = getenv("TMEM_FAULT_CONTROL");
  if (p == NULL || *p == '\0' || c == NULL || *c == '\0') return;  // preloaded but idle
  if (strlen(p) >= sizeof(prefix)) return;
  int fd = open(c, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "iofault: cannot open control file %s\n", c);
    abort();
  }
  void* m = mmap(NULL, sizeof(struct control), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED || ((struct control*)m)->magic != kMagic || ((struct control*)m)->version != kVersion) {
    fprintf(stderr, "iofault: %s is not an iofault control file\n", c);
    abort();
  }
  strcpy(prefix, p);
  prefix_len = strlen(p);
  ctl = m;
}

// splitmix64: a well-mixed 64-bit value from the seed and the call number.
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int watched(int fd) {
  if (ctl == NULL || fd < 0) return 0;
  char link[32], path[4096];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof(path));
  return n >= (ssize_t)prefix_len && memcmp(path, prefix, prefix_len) == 0;
}

// Decides whether this call of class `cls` on `fd` fails, and how: returns kOff or the fault kind.
// *r receives random bits for the caller (the length of a short count).
static int decide(int cls, int fd, uint64_t* r) {
  if (!watched(fd)) return kOff;
  struct rule* rule = &ctl->rules[cls];
  uint64_t call = __atomic_add_fetch(&rule->calls, 1, __ATOMIC_RELAXED);
  int32_t mode = __atomic_load_n(&rule->mode, __ATOMIC_RELAXED);
  if (mode == kOff || call <= __atomic_load_n(&rule->skip, __ATOMIC_RELAXED)) return kOff;
  uint64_t h = mix(__atomic_load_n(&ctl->seed, __ATOMIC_RELAXED) ^ mix(__atomic_add_fetch(&call_seq, 1, __ATOMIC_RELAXED)));
  uint32_t every = __atomic_load_n(&rule->every, __ATOMIC_RELAXED);
  int hit = every > 0 ? (call - rule->skip) % every == 0 : (h % 1000000) < __atomic_load_n(&rule->ppm, __ATOMIC_RELAXED);
  if (!hit) return kOff;
  // Take one fault from the budget, unless it is unlimited or spent.
  int32_t left = __atomic_load_n(&rule->budget, __ATOMIC_RELAXED);
  do {
    if (left == 0) return kOff;
    if (left < 0) break;
  } while (!__atomic_compare_exchange_n(&rule->budget, &left, left - 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  __atomic_add_fetch(&rule->faults, 1, __ATOMIC_RELAXED);
  *r = mix(h);
  if (mode == kMixed) mode = kEio + (int)((h >> 32) % 3);
  // A sync cannot be short: it fails with EIO instead.
  if (mode == kShort && cls == kSync) mode = kEio;
  return mode;
}

static ssize_t fail(int kind) {
  errno = kind == kEnospc ? ENOSPC : EIO;
  return -1;
}

// A short count: between 1 and len-1 bytes (for len >= 2), really transferred.
static size_t short_len(size_t len, uint64_t r) { return len < 2 ? len : 1 + (size_t)(r % (len - 1)); }

static ssize_t write_at(int fd, const void* buf, size_t len, off_t pos) {
  uint64_t r = 0;
  int kind = decide(kWrite, fd, &r);
  if (kind == kOff) return real_pwrite64(fd, buf, len, pos);
  if (kind != kShort) return fail(kind);
  return real_pwrite64(fd, buf, short_len(len, r), pos);
}

static ssize_t read_at(int fd, void* buf, size_t len, off_t pos) {
  uint64_t r = 0;
  int kind = decide(kRead, fd, &r);
  if (kind == kOff) return real_pread64(fd, buf, len, pos);
  if (kind != kShort) return fail(kind);
  return real_pread64(fd, buf, short_len(len, r), pos);
}

// Vectored forms: a short count transfers part of the first non-empty buffer only.
static int first_nonempty(const struct iovec* iov, int cnt) {
  for (int i = 0; i < cnt; i++)
    if (iov[i].iov_len > 0) return i;
  return -1;
}

static ssize_t writev_at(int fd, const struct iovec* iov, int cnt, off_t pos, int flags, int v2) {
  uint64_t r = 0;
  int kind = decide(kWrite, fd, &r);
  if (kind == kOff) return v2 ? real_pwritev64v2(fd, iov, cnt, pos, flags) : real_pwritev64(fd, iov, cnt, pos);
  if (kind != kShort) return fail(kind);
  int i = first_nonempty(iov, cnt);
  if (i < 0) return 0;
  return real_pwrite64(fd, iov[i].iov_base, short_len(iov[i].iov_len, r), pos);
}

static ssize_t readv_at(int fd, const struct iovec* iov, int cnt, off_t pos, int flags, int v2) {
  uint64_t r = 0;
  int kind = decide(kRead, fd, &r);
  if (kind == kOff) return v2 ? real_preadv64v2(fd, iov, cnt, pos, flags) : real_preadv64(fd, iov, cnt, pos);
  if (kind != kShort) return fail(kind);
  int i = first_nonempty(iov, cnt);
  if (i < 0) return 0;
  return real_pread64(fd, iov[i].iov_base, short_len(iov[i].iov_len, r), pos);
}

static int sync_fd(int fd, int data_only) {
  uint64_t r = 0;
  int kind = decide(kSync, fd, &r);
  if (kind == kOff) return data_only ? real_fdatasync(fd) : real_fsync(fd);
  return (int)fail(kind);
}

// On x86-64 and other LP64 targets off_t is 64-bit, so each pair below is one function under two
// names, as in glibc.
EXPORT ssize_t pwrite64(int fd, const void* buf, size_t len, off_t pos) { return write_at(fd, buf, len, pos); }
EXPORT ssize_t pwrite(int fd, const void* buf, size_t len, off_t pos) { return write_at(fd, buf, len, pos); }
EXPORT ssize_t pread64(int fd, void* buf, size_t len, off_t pos) { return read_at(fd, buf, len, pos); }
EXPORT ssize_t pread(int fd, void* buf, size_t len, off_t pos) { return read_at(fd, buf, len, pos); }
EXPORT ssize_t pwritev64(int fd, const struct iovec* iov, int cnt, off_t pos) { return writev_at(fd, iov, cnt, pos, 0, 0); }
EXPORT ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t pos) { return writev_at(fd, iov, cnt, pos, 0, 0); }
EXPORT ssize_t pwritev64v2(int fd, const struct iovec* iov, int cnt, off_t pos, int flags) {
  return writev_at(fd, iov, cnt, pos, flags, 1);
}
EXPORT ssize_t pwritev2(int fd, const struct iovec* iov, int cnt, off_t pos, int flags) {
  return writev_at(fd, iov, cnt, pos, flags, 1);
}
EXPORT ssize_t preadv64(int fd, const struct iovec* iov, int cnt, off_t pos) { return readv_at(fd, iov, cnt, pos, 0, 0); }
EXPORT ssize_t preadv(int fd, const struct iovec* iov, int cnt, off_t pos) { return readv_at(fd, iov, cnt, pos, 0, 0); }
EXPORT ssize_t preadv64v2(int fd, const struct iovec* iov, int cnt, off_t pos, int flags) {
  return readv_at(fd, iov, cnt, pos, flags, 1);
}
EXPORT ssize_t preadv2(int fd, const struct iovec* iov, int cnt, off_t pos, int flags) {
  return readv_at(fd, iov, cnt, pos, flags, 1);
}
EXPORT int fsync(int fd) { return sync_fd(fd, 0); }
EXPORT int fdatasync(int fd) { return sync_fd(fd, 1); }
