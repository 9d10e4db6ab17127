// Per-area index of the pure-JS zcache: offset → entry, in two typed arrays sized by the area's
// page count at init. No object per page: an area of N pages costs 5N bytes outside the V8 heap.
//
//   kind[off] = EMPTY      nothing held
//             = SAME       val[off] is the u32 word the page is filled with
//             = ZBUD       val[off] is the zbud handle of the stored object (compressed, or raw
//                          when its size is PAGE_SIZE)

export const EMPTY = 0;
export const SAME = 1;
export const ZBUD = 2;

export class AreaIndex {
  readonly pages: number;
  readonly kind: Uint8Array;
  readonly val: Uint32Array;
  /** Entries held. */
  count = 0;
  /** Bytes the held pages take compressed (raw pages 4096, same-filled 0). */
  compressedBytes = 0;

  constructor(pages: number) {
    this.pages = pages;
    this.kind = new Uint8Array(pages);
    this.val = new Uint32Array(pages);
  }

  get metadataBytes(): number {
    return this.kind.byteLength + this.val.byteLength;
  }
}
