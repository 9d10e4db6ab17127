// The userspace swap subsystem (DESIGN §3): swap areas on real swap files, a slot bitmap, and
// swap-out/swap-in that try frontswap first and fall back to pwrite/pread on the file.
import { PAGE_SIZE } from '../backends/types';
import { debugfs } from '../debugfs/tree';
import { FIRST_SLOT, frontswap, type FrontswapArea } from '../frontswap/frontswap';
import { Bitmap } from '../util/bitmap';
import { TmemError } from '../util/errors';
import {
  checkBoolean,
  checkBytes,
  checkDistinct,
  checkInteger,
  checkOffsets,
  checkOptionKeys,
  checkOptionsObject,
  checkPage,
  checkPages,
  checkWords,
  describe,
  plainBytes,
  unshared,
} from '../util/validate';
import { PageSeals } from './page-seals';
import { SwapFile } from './swapfile';
/** 2^28 slots = a 1 TiB swap file; the bitmaps stay at 32 MiB each. */
export const MAX_AREA_PAGES = 2 ** 28;

export interface SwaponOptions {
  /** Number of 4 KiB slots, header slot included. */
  pages: number;
  /**
   * Encrypt every page written to the file with AES-256-GCM under a key made now that never
   * leaves process memory (dm-crypt's random-key swap); a tampered page reads as ERR_TMEM_CORRUPT.
   */
  encrypt?: boolean;
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
    // Pages frontswap hands back (shrink, unload) go to their slots in the file; a failed write
    // is a coded error, and frontswap keeps the page (see Frontswap.shrink).
    const info = { type, pages, path: file.path, fd: file.fd, seals: file.seals };
    this.#fs = frontswap.addArea(info, (offsets, data) => {
      for (let i = 0; i < offsets.length; i++) this.#writeFile(offsets[i], data, i, 1);
    });
    this.#unregisterStats = debugfs.register(`swap/${type}`, () => this.#counters());
  }

  /** Slots holding a page (the header slot not counted); 0 after swapoff(). */
  get usedPages(): number {
    return this.#fs ? this.#slots.count - 1 : 0;
  }

  /** Slots still free; 0 after swapoff(). */
  get freeSlots(): number {
    return this.#fs ? this.pages - this.#slots.count : 0;
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

  /** True when pages in the file are encrypted (swapon's `encrypt`). */
  get encrypted(): boolean {
    return this.#file.seals.encrypted;
  }

  /** @internal The seals of the file's pages, for writers outside this class (tests). */
  get seals(): PageSeals {
    return this.#file.seals;
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
    // Writethrough reads the page twice (pool, then file): one version, also from a SharedArrayBuffer.
    const view = frontswap.writethrough ? unshared(plainBytes(checkPage('page', page))) : checkPage('page', page);
    const offset = this.#slots.findClear(this.#cursor);
    if (offset < 0) throw this.#full(1);
    this.#take(offset);
    try {
      if (!frontswap.storePage(fsArea, offset, view)) this.#writeFile(offset, view, 0, 1);
    } catch (err) {
      this.#release(fsArea, offset);
      throw err;
    }
    return offset;
  }

  /** Reads the page at `offset` into `into`; the page stays stored. Returns `into`. */
  readPage(offset: number, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkInUse(offset);
    const view = checkPage('into', into);
    if (!frontswap.loadPage(fsArea, offset, view, false)) this.#readFile(offset, view, 0);
    return into;
  }

  /**
   * Reads the page at `offset` and frees its slot in one step. Exclusive gets apply here: a pool
   * hit is dropped by the load itself; a miss is read from the file, and only a successful read
   * frees the slot.
   */
  takePage(offset: number, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    this.#checkInUse(offset);
    const view = checkPage('into', into);
    if (!frontswap.loadPage(fsArea, offset, view, frontswap.exclusiveGets)) this.#readFile(offset, view, 0);
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
   * All or nothing: on a full area or an I/O error no page stays stored. `offsets` is written
   * only once every page is stored, so it may share memory with `pages`.
   */
  writePages(pages: Uint8Array, offsets?: Uint32Array): Uint32Array {
    const fsArea = this.#live();
    const view = unshared(checkBytes('pages', pages));
    if (view.byteLength % PAGE_SIZE !== 0) {
      throw new TypeError(`pages must be a Uint8Array holding whole ${PAGE_SIZE}-byte pages, got ${view.byteLength} bytes`);
    }
    const n = view.byteLength / PAGE_SIZE;
    const out = offsets === undefined ? undefined : checkWords('offsets', offsets);
    if (out !== undefined && out.length < n) {
      throw new RangeError(`offsets must be a Uint32Array of at least ${n} entries, got ${out.length}`);
    }
    if (n > this.freeSlots) throw this.#full(n);
    const slots = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      slots[i] = this.#slots.findClear(this.#cursor);
      this.#take(slots[i]);
    }
    const stored = this.#scratchHits(n);
    try {
      if (frontswap.storePages(fsArea, slots, view, stored) !== n) this.#writeRefused(slots, view, stored);
    } catch (err) {
      this.#releaseAll(fsArea, slots);
      throw err;
    }
    if (out === undefined) return slots;
    out.set(slots);
    return offsets!;
  }

  /** Reads the pages at `offsets` into `into` (offsets.length pages back to back). Returns `into`. */
  readPages(offsets: Uint32Array, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    const offs = this.#checkAllInUse(offsets, false);
    const view = checkPages('into', into, offs.length);
    this.#loadAll(fsArea, offs, view);
    return into;
  }

  /**
   * readPages with the swap file's part on the libuv thread pool: pages frontswap holds are
   * copied at once (remote pages of a remote tier come over on its worker thread), the rest are
   * pread off the main thread (adjacent slots in one read). The caller must not touch `offsets` or
   * `into` until the promise settles. A slot freed or rewritten while its read is in flight comes
   * back zeroed: callers that free concurrently check afterwards that the slots are still theirs.
   */
  readPagesAsync(offsets: Uint32Array, into: Uint8Array): Promise<Uint8Array> {
    const fsArea = this.#live();
    const offs = this.#checkAllInUse(offsets, false);
    const view = checkPages('into', into, offs.length);
    const n = offs.length;
    const hits = new Uint8Array(n);
    const got = frontswap.loadPagesAsync(fsArea, offs, view, hits);
    if (got === n) return Promise.resolve(into);
    this.#asyncReads++;
    // Everything local: the file reads start in this tick (SwapCache counts them right away).
    if (typeof got === 'number') return this.#readMissesAsync(offs, view, hits, into);
    return got.then(
      (count) => (count === n ? this.#settleAsyncRead(into) : this.#readMissesAsync(offs, view, hits, into)),
      (err) => this.#settleAsyncRead(null, err),
    );
  }

  // The file part of readPagesAsync: runs of adjacent slots frontswap did not have.
  #readMissesAsync(offs: Uint32Array, view: Uint8Array, hits: Uint8Array, into: Uint8Array): Promise<Uint8Array> {
    const reads: Promise<void>[] = [];
    // A slot freed or rewritten while its read is in flight (its seal changed, or the area went)
    // cannot be checked against the seal its bytes were written with: that page comes back zeroed.
    const crcs = this.#file.seals.crcs;
    const stamps = new Uint32Array(offs.length);
    for (let i = 0; i < offs.length; i++) if (!hits[i]) stamps[i] = crcs[offs[i]];
    const still = (i: number): boolean => this.#fs !== null && this.#slots.test(offs[i]) && crcs[offs[i]] === stamps[i];
    forEachMissedRun(offs, hits, (i, count) => reads.push(this.#file.readAtAsync(offs[i], view, i, count, still)));
    return Promise.all(reads).then(
      () => this.#settleAsyncRead(into),
      (err) => this.#settleAsyncRead(null, err instanceof TmemError ? err : this.#ioError('read', -1, err)),
    );
  }

  #settleAsyncRead(into: Uint8Array | null, err?: unknown): Uint8Array {
    if (--this.#asyncReads === 0 && this.#removeWhenIdle) this.#file.remove();
    if (err) throw err;
    return into!;
  }

  /**
   * Reads the pages at `offsets` and frees their slots. Returns `into`. All or nothing: the slots
   * (and their pool copies) are freed only once every page is in `into`, so a swap-file read that
   * fails part way (ERR_TMEM_IO) leaves every slot holding its page.
   */
  takePages(offsets: Uint32Array, into: Uint8Array): Uint8Array {
    const fsArea = this.#live();
    const offs = this.#checkAllInUse(offsets, true);
    const view = checkPages('into', into, offs.length);
    // Plain loads, not exclusive gets: an exclusive get drops the pool copy at once, and a later
    // file read of the same batch could still fail.
    this.#loadAll(fsArea, offs, view);
    this.#releaseAll(fsArea, offs);
    return into;
  }

  /** Frees the slots at `offsets`; all must be in use and distinct, or nothing is freed. */
  freePages(offsets: Uint32Array): void {
    const fsArea = this.#live();
    this.#releaseAll(fsArea, this.#checkAllInUse(offsets, true));
  }

  /**
   * Drops every page, closes and removes the swap file — the file swapon() created: if something
   * else has replaced it at `path` meanwhile, that is left alone. The area is unusable afterwards.
   */
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
      checksum_failures: this.#file.seals.failures,
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

  // A private copy of `offsets` once every entry names a slot in use (and, for calls that free
  // them, none twice); the call then works on the copy only.
  #checkAllInUse(offsets: Uint32Array, distinct: boolean): Uint32Array {
    const offs = checkOffsets('offsets', offsets, this.pages, FIRST_SLOT);
    for (let i = 0; i < offs.length; i++) {
      if (!this.#slots.test(offs[i])) {
        throw new TmemError('ERR_TMEM_SLOT_NOT_IN_USE', `offsets[${i}]: swap slot ${offs[i]} of area ${this.type} holds no page`);
      }
    }
    if (distinct) checkDistinct('offsets', offs);
    return offs;
  }

  #loadAll(fsArea: FrontswapArea, offsets: Uint32Array, into: Uint8Array): void {
    const hits = this.#scratchHits(offsets.length);
    if (frontswap.loadPages(fsArea, offsets, into, hits, false) === offsets.length) return;
    for (let i = 0; i < offsets.length; i++) if (!hits[i]) this.#readFile(offsets[i], into, i);
  }

  // Refused pages go to the file; runs of adjacent slots become one pwrite.
  #writeRefused(offsets: Uint32Array, pages: Uint8Array, stored: Uint8Array): void {
    forEachMissedRun(offsets, stored, (i, count) => this.#writeFile(offsets[i], pages, i, count));
  }

  #writeFile(offset: number, src: Uint8Array, first: number, count: number): void {
    try {
      this.#file.writeAt(offset, src, first, count);
    } catch (err) {
      throw this.#ioError('write', offset, err);
    }
  }

  #readFile(offset: number, into: Uint8Array, index: number): void {
    try {
      this.#file.readAt(offset, into, index);
    } catch (err) {
      if (err instanceof TmemError) throw err;
      throw this.#ioError('read', offset, err);
    }
  }

  #take(offset: number): void {
    this.#slots.set(offset);
    this.#cursor = offset + 1 < this.pages ? offset + 1 : FIRST_SLOT;
  }

  #release(fsArea: FrontswapArea, offset: number): void {
    frontswap.invalidatePageOf(fsArea, offset);
    this.#file.seals.forget(offset);
    this.#slots.clear(offset);
  }

  #releaseAll(fsArea: FrontswapArea, offsets: Uint32Array): void {
    frontswap.invalidatePages(fsArea, offsets);
    for (let i = 0; i < offsets.length; i++) {
      this.#file.seals.forget(offsets[i]);
      this.#slots.clear(offsets[i]);
    }
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
    return new TmemError('ERR_TMEM_IO', `swap file ${op} failed at slot ${offset} of ${this.path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Creates a swap file at `path` (which must not exist) and swaps it on. */
// Calls fn(first, count) for each run of entries i with done[i] === 0 whose offsets are
// adjacent slots: the pages the pool did not take, as few file calls as possible.
function forEachMissedRun(offsets: Uint32Array, done: Uint8Array, fn: (first: number, count: number) => void): void {
  const n = offsets.length;
  for (let i = 0; i < n; ) {
    if (done[i]) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && !done[j] && offsets[j] === offsets[j - 1] + 1) j++;
    fn(i, j - i);
    i = j;
  }
}

export function swapon(path: string, options: SwaponOptions): SwapArea {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
  }
  const opts = checkOptionsObject('swapon', options);
  checkOptionKeys('swapon', opts, ['pages', 'encrypt']);
  const pages = checkInteger('options.pages', opts.pages, FIRST_SLOT + 1, MAX_AREA_PAGES);
  const encrypt = opts.encrypt === undefined ? false : checkBoolean('options.encrypt', opts.encrypt);
  const type = frontswap.freeType();
  if (type < 0) throw new TmemError('ERR_TMEM_TOO_MANY_AREAS', 'all 32 swap area types are in use; swap one off first');
  const file = SwapFile.create(path, pages, new PageSeals(type, pages, encrypt));
  try {
    return new SwapArea(type, pages, file);
  } catch (err) {
    file.remove();
    throw err;
  }
}
