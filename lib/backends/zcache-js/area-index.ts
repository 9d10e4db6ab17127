// Per-area index of the pure-JS zcache: offset → entry, in typed arrays sized by the area's page
// count at init. No object per page: an area of N slots costs 10N bytes outside the V8 heap.
//
//   meta[off] = EMPTY       nothing held
//             = SAME        val[off] is the u32 word the page is filled with
//             = 1..4096     an object of that many bytes: val[off] is its location in the allocator;
//                           4096 is a raw (incompressible) page, anything shorter an LZ4 block
//
// and the area's LRU of entries holding an object (entry-lru.ts), by offset. The same meta encoding
// is used by the ephemeral index (eph-index.ts).
//
// An entry is the owner of its object (allocator.ts): the allocator names it by a number unique
// over all areas, base + offset, the areas' ranges of numbers being disjoint.
import { EntryLru } from './entry-lru';

export const EMPTY = 0;
export const SAME = 0xffff;
/** Owner numbers are below this (allocator.ts): the areas' pages may add up to that many. */
const MAX_OWNER = 2 ** 31;

/** Whether a meta value names an object in the allocator. */
export function isObject(meta: number): boolean {
  return meta !== EMPTY && meta !== SAME;
}

export class AreaIndex {
  readonly pages: number;
  /** Owner number of slot 0. */
  readonly base: number;
  readonly meta: Uint16Array;
  readonly val: Uint32Array;
  readonly lru: EntryLru;
  /** Entries held. */
  count = 0;
  /** Entries holding an object (all but the same-filled ones). */
  objects = 0;
  /** Bytes the held pages take compressed (raw pages 4096, same-filled 0). */
  compressedBytes = 0;
  /** Whether the LRU has this entry: the `live` test of lru.take(). */
  readonly holdsObject = (off: number): boolean => isObject(this.meta[off]);

  constructor(pages: number, base: number) {
    this.pages = pages;
    this.base = base;
    this.meta = new Uint16Array(pages);
    this.val = new Uint32Array(pages);
    this.lru = new EntryLru(pages);
  }

  get metadataBytes(): number {
    return this.meta.byteLength + this.val.byteLength + this.lru.metadataBytes;
  }
}

/** The lowest base at which `pages` owner numbers fit between the ranges of `areas`, or -1. */
export function freeBase(areas: readonly (AreaIndex | null)[], pages: number): number {
  const taken = areas.filter((a): a is AreaIndex => a !== null).sort((a, b) => a.base - b.base);
  let at = 0;
  for (const a of taken) {
    if (a.base - at >= pages) break;
    at = Math.max(at, a.base + a.pages);
  }
  return at + pages <= MAX_OWNER ? at : -1;
}
