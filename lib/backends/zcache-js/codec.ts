// Page codec of the pure-JS zcache: LZ4 block compression of one 4 KiB page with tmem's own
// TypeScript LZ4 (lib/lz4: a reused hash table, a decompressor that is safe on any input), plus
// same-filled page detection. Blocks are plain LZ4 blocks: liblz4 decodes them, and the native
// zcache's blocks decode here.
import { Lz4Compressor } from '../../lz4/compress';
import { decompressBlock } from '../../lz4/decompress';
import { PAGE_SIZE } from '../types';

export class PageCodec {
  /** Holds the last compressed block; valid up to the length compress() returned. */
  readonly out = new Uint8Array(PAGE_SIZE);
  readonly #lz4 = new Lz4Compressor();

  /**
   * Compresses buf[off..off+PAGE_SIZE) into `out`. Returns the compressed length, or PAGE_SIZE + 1
   * when the block would not be smaller than the page (such a page is refused or stored raw, so
   * the compressor stops as soon as it knows).
   */
  compress(buf: Uint8Array, off = 0): number {
    const n = this.#lz4.compress(buf, off, PAGE_SIZE, this.out, 0, PAGE_SIZE - 1);
    return n === 0 ? PAGE_SIZE + 1 : n;
  }

  /**
   * Decodes src[start..start+len) into into[at..at+PAGE_SIZE). Returns false when the block is
   * malformed or does not decode to exactly one page; `into` may then hold part of a page.
   */
  decompress(src: Uint8Array, start: number, len: number, into: Uint8Array, at = 0): boolean {
    return decompressBlock(src, start, len, into, at, PAGE_SIZE) === PAGE_SIZE;
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
