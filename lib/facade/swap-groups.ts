// Runs of cold values packed back to back into whole pages and swapped out with one batch call.
// A run's slots are freed when the last value in it is deleted or replaced, so small values do not
// each take a page of swap.
import { PAGE_SIZE } from '../backends/types';
import type { SwapArea } from '../swap/area';

// A copy with its own backing store. Buffer.from would place small values in Node's shared 8 KiB
// slabs, where one value still resident keeps a whole slab of evicted ones alive.
export function ownCopy(bytes: Uint8Array, start = 0, end = bytes.byteLength): Uint8Array {
  const copy = new Uint8Array(end - start);
  copy.set(bytes.subarray(start, end));
  return copy;
}

export interface Group {
  readonly offsets: Uint32Array;
  /** Values still referring to this run. */
  live: number;
}

export class SwapGroups {
  /** Swap slots held by live runs. */
  pages = 0;
  #area: SwapArea;
  #scratch = new Uint8Array(16 * PAGE_SIZE);

  constructor(area: SwapArea) {
    this.#area = area;
  }

  /** Writes the values as one run; all or nothing (ERR_TMEM_SWAP_FULL leaves no slot taken). */
  write(values: Uint8Array[]): Group {
    let total = 0;
    for (const v of values) total += v.byteLength;
    const n = Math.ceil(total / PAGE_SIZE);
    const buf = this.#buffer(n);
    let at = 0;
    for (const v of values) {
      buf.set(v, at);
      at += v.byteLength;
    }
    buf.fill(0, at); // no stale bytes from earlier runs reach the swap file
    const offsets = this.#area.writePages(buf, new Uint32Array(n));
    this.pages += n;
    return { offsets, live: values.length };
  }

  /** A copy of `length` bytes at `start` of the run, and whether any page came from the file. */
  read(group: Group, start: number, length: number): { bytes: Uint8Array; fromFile: boolean } {
    if (length === 0) return { bytes: new Uint8Array(0), fromFile: false };
    const first = Math.floor(start / PAGE_SIZE);
    const last = Math.floor((start + length - 1) / PAGE_SIZE);
    const buf = this.#buffer(last - first + 1);
    const fileReads = this.#area.fileReads;
    this.#area.readPages(group.offsets.subarray(first, last + 1), buf);
    const off = start - first * PAGE_SIZE;
    return { bytes: ownCopy(buf, off, off + length), fromFile: this.#area.fileReads !== fileReads };
  }

  release(group: Group): void {
    if (--group.live > 0) return;
    if (group.offsets.length > 0) this.#area.freePages(group.offsets);
    this.pages -= group.offsets.length;
  }

  #buffer(pages: number): Uint8Array {
    if (this.#scratch.byteLength < pages * PAGE_SIZE) this.#scratch = new Uint8Array(pages * PAGE_SIZE);
    return this.#scratch.subarray(0, pages * PAGE_SIZE);
  }
}
