// LZ4 block compressor in TypeScript: greedy matching through a hash table of 4-byte sequences,
// the same speed/ratio trade-off as liblz4's default (LZ4_compress_default) level. Blocks follow
// the format's parsing restrictions (lib/lz4/format.ts): matches are at least MIN_MATCH bytes,
// none starts in the last MF_LIMIT bytes, the last LAST_LITERALS bytes are literals, offsets are
// 1..65535. Any conforming decoder (liblz4's LZ4_decompress_safe, lib/lz4/decompress.ts) restores
// the input byte for byte; test/lz4-interop.test.ts checks both directions against liblz4.
//
// The hash table is allocated once per compressor and reused without clearing: each entry holds
// `stamp + position`, and every call starts its stamps above all entries of earlier calls, so an
// entry from an earlier input reads as a position before this one's start and is ignored. Only
// when the stamps would pass 2^31 is the table cleared (once per ~500,000 pages). A stale entry
// must never pass as a candidate: it could point at the current position (an offset-0 match).
//
// Misses make the search step grow (one more byte per 2^SKIP_TRIGGER misses), so incompressible
// data is crossed quickly; a match found resets the step.
import { LAST_LITERALS, MAX_INPUT_SIZE, MAX_OFFSET, MF_LIMIT, MIN_MATCH, checkRange } from './format';

const HASH_LOG = 13;
const HASH_SHIFT = 32 - HASH_LOG;
/** Knuth's multiplicative hash constant (2^32 / golden ratio). */
const HASH_PRIME = 0x9e3779b1 | 0;
const SKIP_TRIGGER = 6;
/** Inputs shorter than this are stored as literals only (a match needs MF_LIMIT + 1 bytes). */
const MIN_INPUT = MF_LIMIT + 1;
const MAX_STAMP = 0x7fffffff;

function read32(a: Uint8Array, i: number): number {
  return a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24);
}

function hash32(seq: number): number {
  return Math.imul(seq, HASH_PRIME) >>> HASH_SHIFT;
}

/** Bytes a length of `n` takes beyond its token nibble. */
function extraLengthBytes(n: number): number {
  return n < 15 ? 0 : Math.floor((n - 15) / 255) + 1;
}

/** Writes the bytes of a length whose nibble was 15 (n >= 15); returns the new output position. */
function writeExtraLength(dst: Uint8Array, op: number, n: number): number {
  let rest = n - 15;
  while (rest >= 255) {
    dst[op++] = 255;
    rest -= 255;
  }
  dst[op++] = rest;
  return op;
}

export class Lz4Compressor {
  readonly #table = new Int32Array(1 << HASH_LOG);
  /** Stamp of the next call's first position; every entry in the table is below it. */
  #next = 1;

  /**
   * Compresses src[srcStart..srcStart+srcLen) into one LZ4 block at dst[dstStart..). Returns the
   * block length, or 0 when it does not fit in `dstCapacity` bytes (compressBound(srcLen) always
   * fits). Throws RangeError for a range outside its array or an input over MAX_INPUT_SIZE.
   */
  compress(src: Uint8Array, srcStart: number, srcLen: number, dst: Uint8Array, dstStart: number, dstCapacity: number): number {
    checkRange(src, srcStart, srcLen, 'lz4 compress source');
    checkRange(dst, dstStart, dstCapacity, 'lz4 compress destination');
    if (srcLen > MAX_INPUT_SIZE) throw new RangeError(`lz4 compress: input of ${srcLen} bytes is over ${MAX_INPUT_SIZE}`);
    const table = this.#table;
    if (this.#next > MAX_STAMP - srcLen) {
      table.fill(0);
      this.#next = 1;
    }
    // Entry value = absolute position + base; entries of earlier calls give positions < srcStart.
    const base = this.#next - srcStart;
    this.#next += srcLen;

    const end = srcStart + srcLen;
    const oend = dstStart + dstCapacity;
    let op = dstStart;
    let anchor = srcStart;

    if (srcLen >= MIN_INPUT) {
      const startLimit = end - MF_LIMIT; // a match starts before this
      const endLimit = end - LAST_LITERALS; // and ends at or before this
      table[hash32(read32(src, srcStart))] = srcStart + base;
      let ip = srcStart + 1;
      search: for (;;) {
        let ref: number;
        let misses = 1 << SKIP_TRIGGER;
        for (;;) {
          if (ip >= startLimit) break search;
          const seq = read32(src, ip);
          const h = hash32(seq);
          ref = table[h] - base;
          table[h] = ip + base;
          if (ref >= srcStart && ip - ref <= MAX_OFFSET && read32(src, ref) === seq) break;
          ip += misses++ >>> SKIP_TRIGGER;
        }
        // Grow the match backwards over bytes that would otherwise go out as literals, then forwards.
        while (ip > anchor && ref > srcStart && src[ip - 1] === src[ref - 1]) {
          ip--;
          ref--;
        }
        let mend = ip + MIN_MATCH;
        ref += MIN_MATCH;
        while (mend < endLimit && src[mend] === src[ref]) {
          mend++;
          ref++;
        }

        const litLen = ip - anchor;
        const mlen = mend - ip - MIN_MATCH;
        if (op + 3 + litLen + extraLengthBytes(litLen) + extraLengthBytes(mlen) > oend) return 0;
        const token = op++;
        if (litLen >= 15) op = writeExtraLength(dst, op, litLen);
        for (let i = anchor; i < ip; i++) dst[op++] = src[i];
        const offset = mend - ref;
        dst[op++] = offset & 0xff;
        dst[op++] = offset >>> 8;
        if (mlen >= 15) op = writeExtraLength(dst, op, mlen);
        dst[token] = (litLen >= 15 ? 0xf0 : litLen << 4) | (mlen >= 15 ? 15 : mlen);

        ip = anchor = mend;
        if (ip >= startLimit) break;
        // The bytes the match covered are not in the table; one of them helps the next search.
        table[hash32(read32(src, ip - 2))] = ip - 2 + base;
      }
    }

    const litLen = end - anchor;
    if (op + 1 + litLen + extraLengthBytes(litLen) > oend) return 0;
    const token = op++;
    if (litLen >= 15) op = writeExtraLength(dst, op, litLen);
    dst[token] = litLen >= 15 ? 0xf0 : litLen << 4;
    for (let i = anchor; i < end; i++) dst[op++] = src[i];
    return op - dstStart;
  }
}
