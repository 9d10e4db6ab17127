// A bounds-checked LZ4 block decoder for zcache-js's loads.
//
// The `lz4` package's JavaScript decoder (lz4/lib/binding.js) trusts its input: a block that is
// cut short or whose lengths run past its end goes on reading the bytes after it (in zcache-js,
// the next object in the same frame) and can come out as a "page" made of them. This one reads
// only src[start, end), writes only dst, and accepts exactly the blocks liblz4's
// LZ4_decompress_safe accepts (the mutation run in test/fuzz/js-lz4.mjs checks it against
// liblz4), except that a match offset of 0, which the block format forbids and liblz4 lets
// through, is refused. liblz4's end-of-block rules, which its encoders follow: the last sequence
// is literals only and ends the input; a literal run that reaches the last 12 bytes of the output
// (or the last 8 of the input) must be that last sequence; a match may not reach into the last 5
// bytes of the output; a length's extension bytes must start 15 bytes (literals) before the end of
// the input and end 4 bytes (matches) before it.
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;

/**
 * Decodes the block src[start, end) into dst from index 0. Returns the decoded length, or -1 if
 * the block is malformed or does not fit in dst.
 */
export function decodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  if (end <= start || end > src.length) return -1;
  const dstEnd = dst.length;
  // The limits of the rules above, computed once.
  const litOutLimit = dstEnd - MF_LIMIT;
  const litInLimit = end - (2 + 1 + LAST_LITERALS);
  const matchOutLimit = dstEnd - LAST_LITERALS;
  const litExtLimit = end - 15;
  const matchExtLimit = end - LAST_LITERALS + 1;
  let i = start;
  let j = 0;
  for (;;) {
    const token = src[i++];
    let lit = token >>> 4;
    if (lit === 15) {
      if (i >= litExtLimit) return -1;
      let b: number;
      // liblz4 stops reading extension bytes 15 bytes before the end and goes on with the
      // length it has; the checks below then decide.
      do {
        b = src[i++];
        lit += b;
      } while (b === 255 && i < litExtLimit);
    }
    if (j + lit > litOutLimit || i + lit > litInLimit) {
      // Only the last sequence may come this close to either end, and it must end the input.
      if (i + lit !== end || j + lit > dstEnd) return -1;
      dst.set(src.subarray(i, end), j);
      return j + lit;
    }
    if (lit > 16) {
      dst.set(src.subarray(i, i + lit), j);
      i += lit;
      j += lit;
    } else {
      for (const stop = i + lit; i < stop; ) dst[j++] = src[i++];
    }
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        b = src[i++];
        len += b;
        if (i >= matchExtLimit) return -1;
      } while (b === 255);
    }
    len += MIN_MATCH;
    if (offset === 0 || offset > j || j + len > matchOutLimit) return -1;
    // Byte by byte, forward: right for overlapping matches (offset < len), which repeat the bytes
    // just written, and faster than copyWithin for the short matches that are most of them.
    let p = j - offset;
    if (len > 16 && offset >= len) {
      dst.copyWithin(j, p, p + len);
      j += len;
    } else {
      const stop = j + len;
      while (j < stop) dst[j++] = dst[p++];
    }
  }
}
