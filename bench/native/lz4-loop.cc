// The ceiling the zcache rows are measured against: liblz4 itself, called in a plain C++ loop over
// the same 4 KiB pages, with no N-API, no allocator and no index. Also the raw sequential-pwrite
// baseline for the writeback row and the disk's own random-read latency for the swap-file tier
// (bench/ycsb). Built by bench/lib/native-build.mjs at bench time against the
// same liblz4 as the addon (the system liblz4.a), at -O3 like the addon.
//
//   lz4-loop lz4 PAGE_FILE MIN_SECONDS MIN_ROUNDS
//       Compression into one scratch buffer with the entry point the pool uses, so that the
//       ceiling is the pool's own codec: a reused LZ4_stream_t, LZ4_resetStream_fast() +
//       LZ4_compress_fast_continue() at acceleration 1 (independent blocks, 2% smaller than
//       LZ4_compress_default's on heap pages; native/codec.h has the measurements and the why).
//       LZ4_compress_default is timed too, for reference ("compressDefault"): it is faster by the
//       clock. The ratio is the stream entry point's. LZ4_decompress_safe from the blocks into one
//       page buffer. Throughput: whole rounds over every page, timed per round (median reported);
//       latency: a separate pass timing every call with steady_clock (clock cost included).
//   lz4-loop pwrite FILE PAGES MIN_SECONDS MIN_ROUNDS
//       pwrite of 4096-byte pages at offsets 0, 4096, ... of a file sized to PAGES pages (no fsync:
//       like writeback, the writes land in the page cache), rounds timed as above.
//   lz4-loop pread FILE PAGES READS
//       The disk under FILE: READS reads of one 4096-byte page at random page offsets of a file of
//       PAGES pages, written first (no holes) and read with O_DIRECT, so that every read reaches
//       the device as a swap-file hit with a cold page cache does; each read timed. The latency
//       floor of SwapCache's file tier on that disk.
// Output: one JSON object on stdout.
#include <lz4.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kPage = 4096;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Series {
  std::vector<double> round_rates;  // pages/s per round
  std::vector<double> lat_ns;       // one entry per op
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void print_series(const char* name, const Series& s, bool comma) {
  std::printf("\"%s\":{\"pagesPerSec\":%.1f,\"bestPagesPerSec\":%.1f,\"rounds\":%zu,\"p50ns\":%.1f,\"p99ns\":%.1f}%s",
              name, percentile(s.round_rates, 0.5), percentile(s.round_rates, 1.0), s.round_rates.size(),
              percentile(s.lat_ns, 0.5), percentile(s.lat_ns, 0.99), comma ? "," : "");
}

// Runs `round` (which processes `pages` pages) until both limits are met.
template <typename F>
void rounds(Series& s, size_t pages, double min_seconds, int min_rounds, F round) {
  Clock::time_point start = Clock::now();
  while ((seconds_since(start) < min_seconds || static_cast<int>(s.round_rates.size()) < min_rounds) &&
         s.round_rates.size() < 10000) {
    Clock::time_point t0 = Clock::now();
    round();
    s.round_rates.push_back(pages / seconds_since(t0));
  }
}

volatile long sink;

int lz4_mode(const char* path, double min_seconds, int min_rounds) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { std::perror(path); return 1; }
  struct stat st;
  fstat(fd, &st);
  size_t n = static_cast<size_t>(st.st_size) / kPage;
  if (n == 0) { std::fprintf(stderr, "%s: no pages\n", path); return 1; }
  char* pages = static_cast<char*>(std::aligned_alloc(kPage, n * kPage));
  for (size_t done = 0; done < n * kPage;) {
    ssize_t r = pread(fd, pages + done, n * kPage - done, done);
    if (r <= 0) { std::perror("read"); return 1; }
    done += static_cast<size_t>(r);
  }
  close(fd);

  const int bound = LZ4_compressBound(kPage);
  std::vector<char> scratch(bound);
  LZ4_stream_t* stream = LZ4_createStream();
  auto compress = [&](const char* src, char* dst) {
    LZ4_resetStream_fast(stream);
    return LZ4_compress_fast_continue(stream, src, dst, kPage, bound, 1);
  };
  // The blocks, packed, for the decompress passes; every page is round-tripped and compared.
  std::vector<char> blocks(n * static_cast<size_t>(bound));
  std::vector<size_t> at(n);
  std::vector<int> len(n);
  size_t used = 0;
  unsigned long long compressed = 0;
  char out[kPage];
  for (size_t i = 0; i < n; i++) {
    int c = compress(pages + i * kPage, blocks.data() + used);
    if (c <= 0) { std::fprintf(stderr, "page %zu: compress failed\n", i); return 1; }
    at[i] = used;
    len[i] = c;
    used += c;
    compressed += c;
    int d = LZ4_decompress_safe(blocks.data() + at[i], out, c, kPage);
    if (d != kPage || std::memcmp(out, pages + i * kPage, kPage) != 0) {
      std::fprintf(stderr, "page %zu: round trip failed\n", i);
      return 1;
    }
  }

  Series comp, comp_default, decomp;
  rounds(comp, n, min_seconds, min_rounds, [&] {
    long s = 0;
    for (size_t i = 0; i < n; i++) s += compress(pages + i * kPage, scratch.data());
    sink = s;
  });
  rounds(comp_default, n, min_seconds, min_rounds, [&] {
    long s = 0;
    for (size_t i = 0; i < n; i++) s += LZ4_compress_default(pages + i * kPage, scratch.data(), kPage, bound);
    sink = s;
  });
  rounds(decomp, n, min_seconds, min_rounds, [&] {
    long s = 0;
    for (size_t i = 0; i < n; i++) s += LZ4_decompress_safe(blocks.data() + at[i], out, len[i], kPage);
    sink = s + out[n & 4095];
  });
  comp.lat_ns.reserve(n);
  decomp.lat_ns.reserve(n);
  for (size_t i = 0; i < n; i++) {
    Clock::time_point t0 = Clock::now();
    int c = compress(pages + i * kPage, scratch.data());
    Clock::time_point t1 = Clock::now();
    sink = c;
    comp.lat_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  for (size_t i = 0; i < n; i++) {
    Clock::time_point t0 = Clock::now();
    int d = LZ4_decompress_safe(blocks.data() + at[i], out, len[i], kPage);
    Clock::time_point t1 = Clock::now();
    sink = d;
    decomp.lat_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  std::printf("{\"lz4\":\"%s\",\"entryPoint\":\"LZ4_resetStream_fast + LZ4_compress_fast_continue (acceleration 1)\","
              "\"pages\":%zu,\"compressedBytes\":%llu,\"ratio\":%.4f,",
              LZ4_versionString(), n, compressed, static_cast<double>(n) * kPage / compressed);
  print_series("compress", comp, true);
  print_series("compressDefault", comp_default, true);
  print_series("decompress", decomp, false);
  std::printf("}\n");
  LZ4_freeStream(stream);
  std::free(pages);
  return 0;
}

int pwrite_mode(const char* path, size_t n, double min_seconds, int min_rounds) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) { std::perror(path); return 1; }
  unlink(path);  // the file goes away when the program ends, whatever happens
  if (ftruncate(fd, static_cast<off_t>(n) * kPage) != 0) { std::perror("ftruncate"); return 1; }
  char page[kPage];
  for (int i = 0; i < kPage; i++) page[i] = static_cast<char>(i * 131 + 7);
  Series s;
  bool failed = false;
  rounds(s, n, min_seconds, min_rounds, [&] {
    for (size_t i = 0; i < n; i++) {
      if (pwrite(fd, page, kPage, static_cast<off_t>(i) * kPage) != kPage) failed = true;
    }
  });
  s.lat_ns.reserve(n);
  for (size_t i = 0; i < n; i++) {
    Clock::time_point t0 = Clock::now();
    if (pwrite(fd, page, kPage, static_cast<off_t>(i) * kPage) != kPage) failed = true;
    s.lat_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  close(fd);
  if (failed) { std::fprintf(stderr, "pwrite failed\n"); return 1; }
  std::printf("{\"pages\":%zu,", n);
  print_series("pwrite", s, false);
  std::printf("}\n");
  return 0;
}

int pread_mode(const char* path, size_t n, size_t reads) {
  const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  const int direct = fd < 0 ? -1 : open(path, O_RDONLY | O_DIRECT);
  unlink(path);
  if (fd < 0 || direct < 0) { std::perror(path); return 1; }
  std::vector<char> chunk(256 * kPage);
  for (size_t i = 0; i < chunk.size(); i++) chunk[i] = static_cast<char>(i * 131 + 7);
  for (size_t done = 0; done < n;) {
    const size_t k = std::min(n - done, chunk.size() / kPage);
    if (pwrite(fd, chunk.data(), k * kPage, static_cast<off_t>(done) * kPage) != static_cast<ssize_t>(k * kPage)) {
      std::perror("pwrite");
      return 1;
    }
    done += k;
  }
  if (fsync(fd) != 0) { std::perror("fsync"); return 1; }
  close(fd);
  void* page = nullptr;
  if (posix_memalign(&page, kPage, kPage) != 0) return 1;
  Series s;
  s.lat_ns.reserve(reads);
  uint64_t x = 88172645463325252ull;  // xorshift64: no libc rand state, same offsets every run
  for (size_t i = 0; i < reads; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const off_t at = static_cast<off_t>(x % n) * kPage;
    Clock::time_point t0 = Clock::now();
    if (pread(direct, page, kPage, at) != kPage) { std::perror("pread"); return 1; }
    s.lat_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  close(direct);
  std::free(page);
  std::printf("{\"pages\":%zu,\"reads\":%zu,\"p50ns\":%.1f,\"p99ns\":%.1f,\"p999ns\":%.1f}\n", n, reads,
              percentile(s.lat_ns, 0.5), percentile(s.lat_ns, 0.99), percentile(s.lat_ns, 0.999));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "lz4" && argc == 5) return lz4_mode(argv[2], std::atof(argv[3]), std::atoi(argv[4]));
  if (mode == "pwrite" && argc == 6) {
    return pwrite_mode(argv[2], std::strtoull(argv[3], nullptr, 10), std::atof(argv[4]), std::atoi(argv[5]));
  }
  if (mode == "pread" && argc == 5) {
    return pread_mode(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10));
  }
  std::fprintf(stderr,
               "usage: lz4-loop lz4 PAGE_FILE MIN_SECONDS MIN_ROUNDS\n"
               "       lz4-loop pwrite FILE PAGES MIN_SECONDS MIN_ROUNDS\n"
               "       lz4-loop pread FILE PAGES READS\n");
  return 2;
}
