// Page codec of the pure-JS zcache: LZ4 block compression of one 4 KiB page with the `lz4`
// package's JavaScript block functions (lz4/lib/binding.js), plus same-filled page detection.
//
// Why this codec: bench/codec-js.mjs measures it against lz4js 0.2.0. lz4js is as fast, but its
// compressor lets the last match start as close as 10 bytes to the end of the block, which the
// LZ4 block format forbids (MFLIMIT = 12): liblz4's LZ4_decompress_safe rejects ~12% of its blocks.
// binding.js follows the format (mfLimit 12, last 5 bytes literal) and is faster on compressible
// pages. Its hash table holds absolute positions and is reused across pages, so it is cleared
// before every page: a stale entry can equal the current position and produce an offset-0 match.
import { PAGE_SIZE } from '../types';

interface Lz4Binding {
  compressBound(n: number): number;
  /** Compresses all of `src` from `pos` into dst[sIdx..eIdx); returns the end index in dst, 0 if no match was found. */
  compressDependent(src: Uint8Array, dst: Uint8Array, pos: number, hashTable: Uint32Array, sIdx: number, eIdx: number): number;
  /** Decodes input[sIdx..eIdx) into output from index 0; returns the decoded length, negative on a bad offset. */
  uncompress(input: Uint8Array, output: Uint8Array, sIdx: number, eIdx: number): number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lz4 = require('lz4/lib/binding.js') as Lz4Binding;

/** Worst-case compressed size of a page (what the compressor insists on having room for). */
export const COMPRESS_BOUND = lz4.compressBound(PAGE_SIZE);

export class PageCodec {
  /** Holds the last compressed block; valid up to the length compress() returned. */
  readonly out = new Uint8Array(COMPRESS_BOUND);
  readonly #table = new Uint32Array(1 << 16);

  /**
   * Compresses `page` (exactly PAGE_SIZE bytes) into `out`. Returns the compressed length, or
   * PAGE_SIZE + 1 when the page does not compress at all (no match: LZ4 would only add overhead).
   */
  compress(page: Uint8Array): number {
    this.#table.fill(0);
    const n = lz4.compressDependent(page, this.out, 0, this.#table, 0, COMPRESS_BOUND);
    return n === 0 ? PAGE_SIZE + 1 : n;
  }

  /**
   * Decodes src[start..start+len) into `into` (exactly PAGE_SIZE bytes). Returns false when the block
   * is malformed or does not decode to exactly one page.
   */
  decompress(src: Uint8Array, start: number, len: number, into: Uint8Array): boolean {
    let n: number;
    try {
      n = lz4.uncompress(src, into, start, start + len);
    } catch {
      return false;
    }
    return n === PAGE_SIZE;
  }
}

/**
 * If every little-endian u32 word of buf[off..off+PAGE_SIZE) is equal, returns that word (0..2^32-1);
 * otherwise -1. Byte-wise so it works on views at any alignment and allocates nothing.
 */
export function sameFilledValue(buf: Uint8Array, off: number): number {
  const b0 = buf[off], b1 = buf[off + 1], b2 = buf[off + 2], b3 = buf[off + 3];
  const end = off + PAGE_SIZE;
  for (let i = off + 4; i < end; i += 4) {
    if (buf[i] !== b0 || buf[i + 1] !== b1 || buf[i + 2] !== b2 || buf[i + 3] !== b3) return -1;
  }
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

/** Writes a same-filled page of `value` to dst[off..off+PAGE_SIZE) without allocating. */
export function fillPage(dst: Uint8Array, off: number, value: number): void {
  const b0 = value & 0xff;
  if (value === ((b0 * 0x01010101) >>> 0)) {
    dst.fill(b0, off, off + PAGE_SIZE);
    return;
  }
  dst[off] = b0;
  dst[off + 1] = (value >>> 8) & 0xff;
  dst[off + 2] = (value >>> 16) & 0xff;
  dst[off + 3] = value >>> 24;
  for (let n = 4; n < PAGE_SIZE; n <<= 1) dst.copyWithin(off + n, off, off + n);
}

/**
 * Copies len bytes between arrays: short runs byte by byte, longer ones with TypedArray.set (a
 * memcpy; the view it needs is short-lived garbage, nothing is kept per page).
 */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
  if (len >= 64) {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
    return;
  }
  for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
}
