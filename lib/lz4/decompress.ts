// LZ4 block decompressor in TypeScript, safe on any input: it never reads outside
// src[srcStart..srcStart+srcLen) nor writes outside dst[dstStart..dstStart+dstCapacity), and
// reports a malformed block with a negative result instead of throwing.
//
// It accepts exactly the blocks that liblz4 1.9.4's LZ4_decompress_safe accepts, with the same
// result: the same decoded bytes, or an error at the same input position. test/lz4-mutation.test.ts
// and scripts/lz4-mutations.mjs check that on mutated and synthetic blocks, with liblz4 itself as
// the oracle. So the end-of-block checks are liblz4's, in its terms:
//
//   - literals that end more than MF_LIMIT bytes into the output's last bytes, or past the input
//     end minus LAST_LITERALS + 3, must be the last sequence: use up the input exactly and fit;
//   - a match must end at least LAST_LITERALS bytes before the output end;
//   - except for liblz4's "shortcut": a literal run under 15 with more than 16 input and at least
//     32 output bytes to spare, followed by a match under 19 bytes at offset >= 8, is copied
//     without the two checks (it fits: 14 + 18 bytes);
//   - literal-length bytes must stop 15 bytes before the input end, match-length bytes 4 before;
//   - an offset reaching before dst[dstStart] is an error; offset 0 is not (liblz4 fills the
//     match with zeros, and so does this decoder).
//
// liblz4 also has a faster loop for when at least 64 output bytes remain; its checks differ in
// form but accept and reject the same blocks there, so one loop mirrors both. Whatever the checks
// admit stays inside both arrays, so the copies need no checks of their own.
import { checkRange, LAST_LITERALS, MF_LIMIT, MIN_MATCH } from './format';

/** What decompressBlock returns for a block that is malformed at input position `ip`: < 0. */
function malformed(ip: number, srcStart: number): number {
  return srcStart - ip - 1;
}

/**
 * The sum of the length bytes from src[ip] on (a byte of 255 means another follows), or -1 when
 * they run past `limit`: reading stops with an error once the position after a byte is beyond
 * it, as in liblz4, so the failing position is max(ip, limit) + 1. On success they took
 * floor(sum / 255) + 1 bytes.
 */
function lengthBytes(src: Uint8Array, ip: number, limit: number): number {
  let sum = 0;
  let s: number;
  do {
    s = src[ip++];
    sum += s;
    if (ip > limit) return -1;
  } while (s === 255);
  return sum;
}

/**
 * Decodes the LZ4 block src[srcStart..srcStart+srcLen) into dst[dstStart..), writing at most
 * `dstCapacity` bytes. Returns the number of bytes decoded, or a negative number for a malformed
 * block (LZ4_decompress_safe's value: -1 - the input position where it failed); dst may then hold
 * part of the output. Throws RangeError only for ranges outside the arrays.
 */
export function decompressBlock(
  src: Uint8Array,
  srcStart: number,
  srcLen: number,
  dst: Uint8Array,
  dstStart: number,
  dstCapacity: number,
): number {
  checkRange(src, srcStart, srcLen, 'lz4 decompress source');
  checkRange(dst, dstStart, dstCapacity, 'lz4 decompress destination');
  const iend = srcStart + srcLen;
  const oend = dstStart + dstCapacity;
  if (dstCapacity === 0) return srcLen === 1 && src[srcStart] === 0 ? 0 : -1;
  if (srcLen === 0) return -1;

  // The limits of the checks, named for what they bound (positions, not lengths).
  const shortcutIn = iend - 16;
  const shortcutOut = oend - 32;
  const litLengthIn = iend - 15;
  const lastIn = iend - (LAST_LITERALS + 3);
  const lastOut = oend - MF_LIMIT;
  const matchLengthIn = iend - LAST_LITERALS + 1;
  const matchOut = oend - LAST_LITERALS;
  let ip = srcStart;
  let op = dstStart;
  for (;;) {
    const token = src[ip++];
    let lit = token >>> 4;
    const shortcut = lit < 15 && ip < shortcutIn && op <= shortcutOut;
    if (lit === 15) {
      if (ip >= litLengthIn) return malformed(ip, srcStart);
      const more = lengthBytes(src, ip, litLengthIn);
      if (more < 0) return malformed(litLengthIn + 1, srcStart);
      lit += more;
      ip += Math.floor(more / 255) + 1;
    }
    if (!shortcut && (op + lit > lastOut || ip + lit > lastIn)) {
      // Only the last sequence may come this close to an end: it must use up the input exactly.
      if (ip + lit !== iend || op + lit > oend) return malformed(ip, srcStart);
      for (let i = 0; i < lit; i++) dst[op + i] = src[ip + i];
      return op + lit - dstStart;
    }
    for (let i = 0; i < lit; i++) dst[op + i] = src[ip + i];
    ip += lit;
    op += lit;

    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    let len = token & 15;
    if (len === 15) {
      const more = lengthBytes(src, ip, matchLengthIn);
      if (more < 0) return malformed(Math.max(ip, matchLengthIn) + 1, srcStart);
      len += more;
      ip += Math.floor(more / 255) + 1;
    }
    len += MIN_MATCH;
    let match = op - offset;
    if (match < dstStart) return malformed(ip, srcStart);
    if (!(shortcut && len < 15 + MIN_MATCH && offset >= 8) && op + len > matchOut) {
      return malformed(ip, srcStart);
    }

    const mend = op + len;
    if (offset === 0) {
      dst.fill(0, op, mend);
    } else if (len <= 32) {
      // Short matches (most of them): a loop costs less than a call. Front to back, so that an
      // overlapping match repeats its last `offset` bytes.
      while (op < mend) dst[op++] = dst[match++];
    } else if (offset >= len) {
      dst.copyWithin(op, match, match + len);
    } else if (offset === 1) {
      dst.fill(dst[match], op, mend);
    } else {
      // A long overlapping match: copy the repeating part, which doubles with every copy.
      while (op < mend) {
        const n = Math.min(op - match, mend - op);
        dst.copyWithin(op, match, match + n);
        op += n;
      }
    }
    op = mend;
  }
}
