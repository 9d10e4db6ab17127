// lz4-oracle: liblz4's LZ4_decompress_safe for the mutation run of zcache-js's LZ4 decoder
// (js-lz4.mjs, which compiles this with the system C compiler and liblz4). Reads blocks from stdin
// as a little-endian u32 length and the bytes, until EOF; writes for each the i32 result of
// decoding it into a 4096-byte page and, when that is 4096, the page.
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kPage = 4096, kMaxBlock = 1 << 16 };

int main(void) {
  static char block[kMaxBlock];
  static char page[kPage];
  uint8_t len_bytes[4];
  while (fread(len_bytes, 1, 4, stdin) == 4) {
    uint32_t len = len_bytes[0] | len_bytes[1] << 8 | len_bytes[2] << 16 | (uint32_t)len_bytes[3] << 24;
    if (len > kMaxBlock || fread(block, 1, len, stdin) != len) return 1;
    memset(page, 0, kPage);
    int32_t r = LZ4_decompress_safe(block, page, (int)len, kPage);
    fwrite(&r, sizeof(r), 1, stdout);
    if (r == kPage) fwrite(page, 1, kPage, stdout);
    // At once: the reader sends its next batch only when it has every answer to this one.
    if (fflush(stdout) != 0) return 1;
  }
  return 0;
}
