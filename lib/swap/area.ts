// The userspace swap subsystem (DESIGN §3): swap areas on real swap files, a slot bitmap, and
// swap-out/swap-in that try frontswap first and fall back to pwrite/pread on the file.
import { PAGE_SIZE } from '../backends/types';
import { debugfs } from '../debugfs/tree';
import { frontswap, type FrontswapArea } from '../frontswap/frontswap';
import { Bitmap } from '../util/bitmap';
import { TmemError } from '../util/errors';
import { checkInteger, checkOffsets, checkOptionKeys, checkOptionsObject, checkPages, describe } from '../util/validate';
import { SwapFile } from './swapfile';

/** Slot 0 holds the header, like a real swap device. */
const FIRST_SLOT = 1;
/** 2^28 slots = a 1 TiB swap file; the bitmaps stay at 32 MiB each. */
export const MAX_AREA_PAGES = 2 ** 28;

export interface SwaponOptions {
  /** Number of 4 KiB slots, header slot included. */
  pages: number;
}

export class SwapArea {
  /** Small integer naming the area (0..31), like a swap device's type. */
  readonly type: number;
  /** Number of slots, header slot included. */
  readonly pages: number;
  readonly path: string;
  #file: SwapFile;
  #slots: Bitmap;
  #cursor = FIRST_SLOT;
  #fs: FrontswapArea | null;
  #unregisterStats: () => void;
  #hits = new Uint8Array(0);
  // readPagesAsync calls in flight; swapoff leaves the file open for them (see #settleAsyncRead).
  #asyncReads = 0;
  #removeWhenIdle = false;

  /** @internal use swapon() */
  constructor(type: number, pages: number, file: SwapFile) {
    this.type = type;
    this.pages = pages;
    this.path = file.path;
    this.#file = file;
    this.#slots = new Bitmap(pages);
    this.#slots.set(0);
    this.#fs = frontswap.addArea({ type, pages, path: file.path, fd: file.fd }, (offsets, data) => {
      for (let i = 0; i < offsets.length; i++) this.#file.writeAt(offsets[i], data, i, 1);
    });
    this.#unregisterStats = debugfs.register(`swap/${type}`, () => this.#counters());
  }

  /** Slots holding a page (the header slot not counted). */
  get usedPages(): number {
    return this.#slots.count - 1;
  }

  /** Slots still free. */
  get freeSlots(): number {
    return this.pages - this.#slots.count;
  }

  /** Pages the backend's pool holds for this area, and their compressed bytes. */
  get poolUsage(): { pages: number; compressedBytes: number } {
    return this.#fs ? frontswap.poolUsageOf(this.#fs) : { pages: 0, compressedBytes: 0 };
  }

  /** Pages of this area held only in the swap file (in use, not in the pool). */
  get filePages(): number {
    return this.usedPages - this.poolUsage.pages;
  }

  /** Pages read from the swap file so far (frontswap misses). */
  get fileReads(): number {
    return this.#file.reads;
  }

  /** @internal The swap file's descriptor (SwapCache drops the file's page cache with it). */
  get fd(): number {
    return this.#file.fd;
  }

  /** False after swapoff(). */
  get active(): boolean {
    return this.#fs !== null;
  }

  /** Swaps a page out: frontswap first, the file when frontswap refuses. Returns the slot offset. */
  writePage(page: Uint8Array): number {
    const fsArea = this.#live();
    checkPages('page', page);
    const offset = this.#slots.findClear(this.#cursor);
    if (offset < 0) throw this.#full(1);
    this.#slots.set(offset);
    this.#cursor = offset + 1 < this.pages ? offset + 1 : FIRST_SLOT;
    if (frontswap.storePage(fsArea, offset, page)) return offset;
    try {
      this.#file.writeAt(offset, page, 0, 1);
    } catch (err) {
      this.#release(fsArea, offset);
      throw this.#ioError('write', offset, err);
    }
    return offset;
  }

  /** Reads the page at `offset` into `into`; the page stays stored. Returns `into`. */
  readPage(offset: number, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkInUse(offset);
    checkPages('into', into);
    if (!frontswap.loadPage(fsArea, offset, into, false)) this.#readFile(offset, into, 0);
    return into;
  }

  /** Reads the page at `offset` and frees its slot in one step. Exclusive gets apply here only. */
  takePage(offset: number, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkInUse(offset);
    checkPages('into', into);
    if (!frontswap.loadPage(fsArea, offset, into, frontswap.exclusiveGets)) this.#readFile(offset, into, 0);
    this.#release(fsArea, offset);
    return into;
  }

  /** Releases the slot at `offset` and whatever frontswap holds for it. */
  freePage(offset: number): void {
    const fsArea = this.#live();
    this.#checkInUse(offset);
    this.#release(fsArea, offset);
  }

  /**
   * Swaps out `pages.length / 4096` pages in one call. Slots are written to `offsets` when given
   * (a Uint32Array of at least that length), otherwise to a new array; either is returned.
   * All or nothing: on a full area or an I/O error no page stays stored.
   */
  writePages(pages: Uint8Array, offsets?: Uint32Array): Uint32Array {
    const fsArea = this.#live();
    if (!(pages instanceof Uint8Array) || pages.byteLength % PAGE_SIZE !== 0) {
      throw new TypeError(`pages must be a Uint8Array holding whole ${PAGE_SIZE}-byte pages, got ${describe(pages)}`);
    }
    const n = pages.byteLength / PAGE_SIZE;
    if (offsets !== undefined && (!(offsets instanceof Uint32Array) || offsets.length < n)) {
      throw new TypeError(`offsets must be a Uint32Array of at least ${n} entries, got ${describe(offsets)}`);
    }
    if (n > this.freeSlots) throw this.#full(n);
    const out = offsets ? offsets.subarray(0, n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const offset = this.#slots.findClear(this.#cursor);
      this.#slots.set(offset);
      this.#cursor = offset + 1 < this.pages ? offset + 1 : FIRST_SLOT;
      out[i] = offset;
    }
    const stored = this.#scratchHits(n);
    if (frontswap.storePages(fsArea, out, pages, stored) === n) return offsets ?? out;
    try {
      this.#writeRefused(out, pages, stored);
    } catch (err) {
      this.#releaseAll(fsArea, out);
      throw this.#ioError('write', -1, err);
    }
    return offsets ?? out;
  }

  /** Reads the pages at `offsets` into `into` (offsets.length pages back to back). Returns `into`. */
  readPages(offsets: Uint32Array, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkAllInUse(offsets, false);
    checkPages('into', into, offsets.length);
    this.#loadAll(fsArea, offsets, into, false);
    return into;
  }

  /**
   * readPages with the swap file's part on the libuv thread pool: pages frontswap holds are
   * copied at once (remote pages of a remote tier come over on its worker thread), the rest are
   * pread off the main thread (adjacent slots in one read). The caller must not touch `offsets` or
   * `into` until the promise settles. A slot freed while its read is in flight yields whatever the
   * file holds by then: callers that free concurrently check afterwards that the slots are still
   * theirs.
   */
  readPagesAsync(offsets: Uint32Array, into: Uint8Array): Promise<Uint8Array> {
    const fsArea = this.#live();
    this.#checkAllInUse(offsets, false);
    checkPages('into', into, offsets.length);
    const n = offsets.length;
    const hits = new Uint8Array(n);
    const got = frontswap.loadPagesAsync(fsArea, offsets, into, hits);
    if (got === n) return Promise.resolve(into);
    this.#asyncReads++;
    // Everything local: the file reads start in this tick (SwapCache counts them right away).
    if (typeof got === 'number') return this.#readMissesAsync(offsets, into, hits);
    return got.then(
      (count) => (count === n ? this.#settleAsyncRead(into) : this.#readMissesAsync(offsets, into, hits)),
      (err) => this.#settleAsyncRead(null, err),
    );
  }

  // The file part of readPagesAsync: runs of adjacent slots frontswap did not have.
  #readMissesAsync(offsets: Uint32Array, into: Uint8Array, hits: Uint8Array): Promise<Uint8Array> {
    const reads: Promise<void>[] = [];
    for (let i = 0; i < offsets.length; ) {
      if (hits[i]) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < offsets.length && !hits[j] && offsets[j] === offsets[j - 1] + 1) j++;
      reads.push(this.#file.readAtAsync(offsets[i], into, i, j - i));
      i = j;
    }
    return Promise.all(reads).then(
      () => this.#settleAsyncRead(into),
      (err) => this.#settleAsyncRead(null, this.#ioError('read', -1, err)),
    );
  }

  #settleAsyncRead(into: Uint8Array | null, err?: unknown): Uint8Array {
    if (--this.#asyncReads === 0 && this.#removeWhenIdle) this.#file.remove();
    if (err) throw err;
    return into!;
  }

  /** Reads the pages at `offsets` and frees their slots. Returns `into`. */
  takePages(offsets: Uint32Array, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkAllInUse(offsets, true);
    checkPages('into', into, offsets.length);
    this.#loadAll(fsArea, offsets, into, frontswap.exclusiveGets);
    this.#releaseAll(fsArea, offsets);
    return into;
  }

  /** Frees the slots at `offsets`; all must be in use and distinct, or nothing is freed. */
  freePages(offsets: Uint32Array): void {
    const fsArea = this.#live();
    this.#checkAllInUse(offsets, true);
    this.#releaseAll(fsArea, offsets);
  }

  /** Drops every page, closes and removes the swap file. The area is unusable afterwards. */
  swapoff(): void {
    const fsArea = this.#live();
    frontswap.removeArea(fsArea);
    this.#fs = null;
    this.#unregisterStats();
    // A read still in flight must not find its fd closed (or reused by another file).
    if (this.#asyncReads > 0) this.#removeWhenIdle = true;
    else this.#file.remove();
    this.#slots = new Bitmap(0);
  }

  #counters(): Record<string, number> {
    const { size, allocated } = this.#file.sizes();
    const pool = this.poolUsage;
    return {
      pages: this.pages,
      used_pages: this.usedPages,
      frontswap_pages: this.#fs ? this.#fs.bits.count : 0,
      pool_pages: pool.pages,
      pool_compressed_bytes: pool.compressedBytes,
      file_pages: this.usedPages - pool.pages,
      file_size: size,
      file_allocated_bytes: allocated,
      file_reads: this.#file.reads,
      file_writes: this.#file.writes,
    };
  }

  #live(): FrontswapArea {
    if (!this.#fs) throw new TmemError('ERR_TMEM_SWAPPED_OFF', `swap area ${this.type} (${this.path}) was swapped off`);
    return this.#fs;
  }

  #checkInUse(offset: number): void {
    checkInteger('offset', offset, FIRST_SLOT, this.pages - 1);
    if (!this.#slots.test(offset)) {
      throw new TmemError('ERR_TMEM_SLOT_NOT_IN_USE', `swap slot ${offset} of area ${this.type} holds no page`);
    }
  }

  #checkAllInUse(offsets: Uint32Array, distinct: boolean): void {
    checkOffsets('offsets', offsets, this.pages);
    for (let i = 0; i < offsets.length; i++) {
      if (offsets[i] < FIRST_SLOT || !this.#slots.test(offsets[i])) {
        throw new TmemError('ERR_TMEM_SLOT_NOT_IN_USE', `offsets[${i}]: swap slot ${offsets[i]} of area ${this.type} holds no page`);
      }
    }
    if (distinct && offsets.length > 1) {
      const sorted = Uint32Array.from(offsets).sort();
      for (let i = 1; i < sorted.length; i++) {
        if (sorted[i] === sorted[i - 1]) throw new RangeError(`offsets must be distinct; ${sorted[i]} appears twice`);
      }
    }
  }

  #loadAll(fsArea: FrontswapArea, offsets: Uint32Array, into: Uint8Array, exclusive: boolean): void {
    const hits = this.#scratchHits(offsets.length);
    if (frontswap.loadPages(fsArea, offsets, into, hits, exclusive) === offsets.length) return;
    for (let i = 0; i < offsets.length; i++) if (!hits[i]) this.#readFile(offsets[i], into, i);
  }

  // Refused pages go to the file; runs of adjacent slots become one pwrite.
  #writeRefused(offsets: Uint32Array, pages: Uint8Array, stored: Uint8Array): void {
    const n = offsets.length;
    for (let i = 0; i < n; ) {
      if (stored[i]) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && !stored[j] && offsets[j] === offsets[j - 1] + 1) j++;
      this.#file.writeAt(offsets[i], pages, i, j - i);
      i = j;
    }
  }

  #readFile(offset: number, into: Uint8Array, index: number): void {
    try {
      this.#file.readAt(offset, into, index);
    } catch (err) {
      throw this.#ioError('read', offset, err);
    }
  }

  #release(fsArea: FrontswapArea, offset: number): void {
    frontswap.invalidatePageOf(fsArea, offset);
    this.#slots.clear(offset);
  }

  #releaseAll(fsArea: FrontswapArea, offsets: Uint32Array): void {
    frontswap.invalidatePages(fsArea, offsets);
    for (let i = 0; i < offsets.length; i++) this.#slots.clear(offsets[i]);
  }

  #scratchHits(n: number): Uint8Array {
    if (this.#hits.length < n) this.#hits = new Uint8Array(Math.max(n, 64));
    return this.#hits.subarray(0, n);
  }

  #full(wanted: number): TmemError {
    return new TmemError(
      'ERR_TMEM_SWAP_FULL',
      `swap area ${this.type} has ${this.freeSlots} free slot(s), ${wanted} needed`,
    );
  }

  #ioError(op: 'read' | 'write', offset: number, err: unknown): TmemError {
    const where = offset >= 0 ? `slot ${offset} of ` : '';
    return new TmemError('ERR_TMEM_IO', `swap file ${op} failed at ${where}${this.path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Creates a swap file at `path` (which must not exist) and swaps it on. */
export function swapon(path: string, options: SwaponOptions): SwapArea {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
  }
  const opts = checkOptionsObject('swapon', options);
  checkOptionKeys('swapon', opts, ['pages']);
  const pages = checkInteger('options.pages', opts.pages, FIRST_SLOT + 1, MAX_AREA_PAGES);
  const type = frontswap.freeType();
  if (type < 0) throw new TmemError('ERR_TMEM_TOO_MANY_AREAS', 'all 32 swap area types are in use; swap one off first');
  const file = SwapFile.create(path, pages);
  try {
    return new SwapArea(type, pages, file);
  } catch (err) {
    file.remove();
    throw err;
  }
}
