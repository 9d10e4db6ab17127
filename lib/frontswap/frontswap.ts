// The frontswap hook layer (DESIGN §4), after mm/frontswap.c. The swap layer calls these hooks on
// every swap-out, swap-in and slot release; they end in the ops vector of whatever backend is
// registered, or do nothing when none is. The front end owns the per-area "offset is in frontswap"
// bitmap, so a backend is only asked to load pages it was told to keep.
import type { AreaInfo, FrontswapOps } from '../backends/types';
import { PAGE_SIZE } from '../backends/types';
import { debugfs } from '../debugfs/tree';
import { Bitmap } from '../util/bitmap';
import { TmemError } from '../util/errors';
import { checkBoolean, checkDistinct, checkFlags, checkInteger, checkOffsets, checkOptionKeys, checkOptionsObject, checkPage, checkPages, plainBytes, unshared } from '../util/validate';

/** Kernel MAX_SWAPFILES: swap area types are 0..31. */
export const MAX_AREAS = 32;
/**
 * Slot 0 of every area holds the swap header, as on a real swap device: the public hooks refuse
 * it, so no page stored there can be moved over the header by shrink() or an unload.
 */
export const FIRST_SLOT = 1;

/**
 * Called by shrink() for pages leaving frontswap: the owner of the area (the swap layer) must put
 * them somewhere it can read them from again, i.e. its swap file. `pages` holds offsets.length pages.
 */
export type UnuseCallback = (offsets: Uint32Array, pages: Uint8Array) => void;

/** @internal What frontswap knows about one swap area. */
export interface FrontswapArea {
  readonly info: AreaInfo;
  readonly bits: Bitmap;
  readonly unuse: UnuseCallback;
}

const SHRINK_BATCH = 64;

export class Frontswap {
  #ops: FrontswapOps | null = null;
  #areas: (FrontswapArea | undefined)[] = [];
  #writethrough = false;
  #exclusiveGets = false;
  #loads = 0;
  #succStores = 0;
  #failedStores = 0;
  #invalidates = 0;

  /** True while a backend's ops are registered. */
  get enabled(): boolean {
    return this.#ops !== null;
  }

  /** Writethrough: stores are made but reported as refused, so the page also goes to the swap file. */
  get writethrough(): boolean {
    return this.#writethrough;
  }

  set writethrough(on: boolean) {
    this.#writethrough = checkBoolean('writethrough', on);
  }

  /** Exclusive gets: a load made for takePage() drops the backend copy at once. */
  get exclusiveGets(): boolean {
    return this.#exclusiveGets;
  }

  set exclusiveGets(on: boolean) {
    this.#exclusiveGets = checkBoolean('exclusiveGets', on);
  }

  /** Counters as debugfs shows them under `frontswap/`. */
  counters(): Record<string, number> {
    return {
      loads: this.#loads,
      succ_stores: this.#succStores,
      failed_stores: this.#failedStores,
      invalidates: this.#invalidates,
      curr_pages: this.currPages(),
    };
  }

  /**
   * Registers a backend's ops. Areas swapped on earlier get their `init` replayed now (lazy init).
   * If an init fails, the areas already initialised are invalidated and nothing stays registered.
   */
  registerOps(ops: FrontswapOps): void {
    if (this.#ops) throw new TmemError('ERR_TMEM_BACKEND_LOADED', 'frontswap already has a backend registered');
    const done: number[] = [];
    try {
      for (const area of this.#areas) {
        if (!area) continue;
        ops.init(area.info.type, area.info);
        done.push(area.info.type);
      }
    } catch (err) {
      for (const type of done) ops.invalidateArea(type);
      throw err;
    }
    this.#ops = ops;
  }

  /**
   * Unregisters the backend. Whatever it still held is forgotten, so callers move pages out first
   * (shrink(0)); the registry does that on unload.
   */
  unregisterOps(): void {
    this.#ops = null;
    for (const area of this.#areas) area?.bits.clearAll();
  }

  /** @internal Called by swapon. */
  addArea(info: AreaInfo, unuse: UnuseCallback): FrontswapArea {
    if (this.#areas[info.type]) throw new Error(`frontswap area ${info.type} already exists`);
    const area: FrontswapArea = { info, bits: new Bitmap(info.pages), unuse };
    this.#ops?.init(info.type, info);
    this.#areas[info.type] = area;
    return area;
  }

  /** @internal Called by swapoff: drops every page of the area and forgets it. */
  removeArea(area: FrontswapArea): void {
    this.invalidateAreaOf(area);
    this.#areas[area.info.type] = undefined;
  }

  /** @internal The lowest unused area type, or -1. */
  freeType(): number {
    for (let t = 0; t < MAX_AREAS; t++) if (!this.#areas[t]) return t;
    return -1;
  }

  // ---- public hooks, validated; they look the area up by type ----
  // Batch hooks read each argument once: offsets are copied before anything else happens, flags
  // are filled in a private array and copied to the caller's only at the end (see util/validate).

  store(type: number, offset: number, page: Uint8Array): boolean {
    const area = this.#area(type);
    this.#checkSlot(area, offset);
    return this.storePage(area, offset, checkPage('page', page));
  }

  load(type: number, offset: number, into: Uint8Array, options?: { exclusive?: boolean }): boolean {
    const area = this.#area(type);
    this.#checkSlot(area, offset);
    // Options first: a getter of theirs runs before the page is measured, not after.
    let exclusive = false;
    if (options !== undefined) {
      const o = checkOptionsObject('load', options);
      checkOptionKeys('load', o, ['exclusive']);
      if (o.exclusive !== undefined) exclusive = checkBoolean('exclusive', o.exclusive);
    }
    const view = checkPage('into', into);
    return this.loadPage(area, offset, view, exclusive);
  }

  invalidatePage(type: number, offset: number): void {
    const area = this.#area(type);
    this.#checkSlot(area, offset);
    this.invalidatePageOf(area, offset);
  }

  /** Drops every page frontswap holds for the area; the area stays swapped on and usable. */
  invalidateArea(type: number): void {
    const area = this.#area(type);
    this.invalidateAreaOf(area);
    // The backend forgets the area on invalidate (as at swapoff); it is still in use, so init it again.
    this.#ops?.init(type, area.info);
  }

  /** Stores offsets.length pages; results[i] = 1 where page i was stored. Returns `results` (or a new array). */
  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results?: Uint8Array): Uint8Array {
    const area = this.#area(type);
    const offs = this.#checkSlots(area, offsets);
    const view = unshared(checkPages('pages', pages, offs.length));
    // Two stores of one offset in one batch would race inside the backend; callers split such batches.
    checkDistinct('offsets', offs);
    const out = results === undefined ? undefined : checkFlags('results', results, offs.length);
    const flags = new Uint8Array(offs.length);
    this.storePages(area, offs, view, flags);
    if (out === undefined) return flags;
    out.set(flags);
    return results!;
  }

  /** Loads offsets.length pages into `into`; hits[i] = 1 where page i was found. Returns `hits` (or a new array). */
  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits?: Uint8Array): Uint8Array {
    const area = this.#area(type);
    const offs = this.#checkSlots(area, offsets);
    const view = checkPages('into', into, offs.length);
    const out = hits === undefined ? undefined : checkFlags('hits', hits, offs.length);
    const flags = new Uint8Array(offs.length);
    this.loadPages(area, offs, view, flags, false);
    if (out === undefined) return flags;
    out.set(flags);
    return hits!;
  }

  invalidateBatch(type: number, offsets: Uint32Array): void {
    const area = this.#area(type);
    this.invalidatePages(area, this.#checkSlots(area, offsets));
  }

  /** Pages currently in frontswap, over all areas (frontswap_curr_pages). */
  currPages(): number {
    let n = 0;
    for (const area of this.#areas) if (area) n += area.bits.count;
    return n;
  }

  /**
   * Partial swapoff (frontswap_shrink): moves pages out of frontswap, through each area's owner,
   * until at most `targetPages` remain. A page is dropped from the backend only after its owner
   * has it, so a failing owner (an I/O error) loses nothing: the error propagates and the page
   * stays in frontswap.
   */
  shrink(targetPages: number): void {
    checkInteger('targetPages', targetPages, 0, Number.MAX_SAFE_INTEGER);
    const ops = this.#ops;
    if (!ops) return;
    const offsets = new Uint32Array(SHRINK_BATCH);
    const moved = new Uint32Array(SHRINK_BATCH);
    const pages = new Uint8Array(SHRINK_BATCH * PAGE_SIZE);
    const hits = new Uint8Array(SHRINK_BATCH);
    for (const area of this.#areas) {
      if (!area) continue;
      while (this.currPages() > targetPages) {
        const n = area.bits.collectSet(0, offsets, Math.min(SHRINK_BATCH, this.currPages() - targetPages));
        if (n === 0) break;
        const batch = offsets.subarray(0, n);
        ops.loadBatch(area.info.type, batch, pages.subarray(0, n * PAGE_SIZE), hits.subarray(0, n), false);
        // A miss means the backend already wrote the page to the file itself: nothing to move.
        let m = 0;
        for (let i = 0; i < n; i++) {
          if (!hits[i]) continue;
          if (m !== i) pages.copyWithin(m * PAGE_SIZE, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
          moved[m++] = offsets[i];
        }
        if (m > 0) area.unuse(moved.subarray(0, m), pages.subarray(0, m * PAGE_SIZE));
        this.invalidatePages(area, batch);
      }
    }
  }

  // ---- internal hooks used by the swap layer, which has validated its arguments already ----

  /** @internal `page` may be the caller's own array (checkPage): a backend without inPlaceViews gets a plain, unshared copy. */
  storePage(area: FrontswapArea, offset: number, page: Uint8Array): boolean {
    const ops = this.#ops;
    if (!ops) return false;
    const type = area.info.type;
    const dup = area.bits.test(offset);
    if (ops.store(type, offset, ops.inPlaceViews ? page : unshared(plainBytes(page)))) {
      area.bits.set(offset);
      this.#succStores++;
      return !this.#writethrough;
    }
    this.#failedStores++;
    if (dup) {
      // A refused overwrite must not leave the older copy loadable (DESIGN §4.3).
      ops.invalidatePage(type, offset);
      area.bits.clear(offset);
    }
    return false;
  }

  /** @internal `into` may be the caller's own array (checkPage): a backend without inPlaceViews gets a plain view. */
  loadPage(area: FrontswapArea, offset: number, into: Uint8Array, exclusive: boolean): boolean {
    const ops = this.#ops;
    if (!ops || !area.bits.test(offset)) return false;
    if (!ops.load(area.info.type, offset, ops.inPlaceViews ? into : plainBytes(into), exclusive)) return false;
    this.#loads++;
    if (exclusive) area.bits.clear(offset);
    return true;
  }

  /** @internal */
  invalidatePageOf(area: FrontswapArea, offset: number): void {
    const ops = this.#ops;
    if (!ops || !area.bits.test(offset)) return;
    ops.invalidatePage(area.info.type, offset);
    area.bits.clear(offset);
    this.#invalidates++;
  }

  /** @internal What the backend holds for the area now (zeros without a backend or without the op). */
  poolUsageOf(area: FrontswapArea): { pages: number; compressedBytes: number } {
    return this.#ops?.areaStats?.(area.info.type) ?? { pages: 0, compressedBytes: 0 };
  }

  /** @internal */
  invalidateAreaOf(area: FrontswapArea): void {
    this.#ops?.invalidateArea(area.info.type);
    area.bits.clearAll();
  }

  /** @internal */
  storePages(area: FrontswapArea, offsets: Uint32Array, pages: Uint8Array, results: Uint8Array): number {
    const ops = this.#ops;
    if (!ops) {
      results.fill(0, 0, offsets.length);
      return 0;
    }
    const type = area.info.type;
    const bits = area.bits;
    // The dup state has to be read before the backend overwrites it.
    let dups = 0;
    for (let i = 0; i < offsets.length; i++) if (bits.test(offsets[i])) dups++;
    const stored = ops.storeBatch(type, offsets, pages, results);
    this.#succStores += stored;
    this.#failedStores += offsets.length - stored;
    for (let i = 0; i < offsets.length; i++) {
      const off = offsets[i];
      if (results[i]) {
        bits.set(off);
        if (this.#writethrough) results[i] = 0;
      } else if (dups > 0 && bits.test(off)) {
        ops.invalidatePage(type, off);
        bits.clear(off);
      }
    }
    return this.#writethrough ? 0 : stored;
  }

  /** @internal hits[i] = 1 where page i was filled from the backend. */
  loadPages(area: FrontswapArea, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number {
    const ops = this.#ops;
    const n = offsets.length;
    if (!ops) {
      hits.fill(0, 0, n);
      return 0;
    }
    const bits = area.bits;
    let held = 0;
    for (let i = 0; i < n; i++) if (bits.test(offsets[i])) held++;
    let got: number;
    if (held === n) {
      got = ops.loadBatch(area.info.type, offsets, into, hits, exclusive);
    } else {
      got = this.#loadHeld(area, offsets, into, hits, exclusive, held);
    }
    this.#loads += got;
    if (exclusive && got > 0) for (let i = 0; i < n; i++) if (hits[i]) bits.clear(offsets[i]);
    return got;
  }

  /** @internal */
  invalidatePages(area: FrontswapArea, offsets: Uint32Array): void {
    const ops = this.#ops;
    if (!ops) return;
    const bits = area.bits;
    let held = 0;
    for (let i = 0; i < offsets.length; i++) if (bits.test(offsets[i])) held++;
    if (held === 0) return;
    ops.invalidateBatch(area.info.type, offsets);
    for (let i = 0; i < offsets.length; i++) if (bits.clear(offsets[i])) this.#invalidates++;
  }

  /**
   * @internal loadPages (never exclusive) without blocking the event loop: a backend with
   * loadBatchAsync (a remote tier) fetches its remote pages off the main thread. Returns the count
   * at once when everything was local (so callers can start file reads in the same tick), else a
   * promise. The caller must not touch its buffers until it settles.
   */
  loadPagesAsync(area: FrontswapArea, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array): number | Promise<number> {
    const ops = this.#ops;
    if (!ops?.loadBatchAsync) return this.loadPages(area, offsets, into, hits, false);
    hits.fill(0, 0, offsets.length);
    let held = 0;
    for (let i = 0; i < offsets.length; i++) if (area.bits.test(offsets[i])) held++;
    if (held === 0) return 0;
    const { index, sub, buf, subHits } = this.#gather(area, offsets, held);
    const done = (got: number): number => {
      this.#scatter(index, buf, subHits, into, hits);
      this.#loads += got;
      return got;
    };
    const got = ops.loadBatchAsync(area.info.type, sub, buf, subHits);
    return typeof got === 'number' ? done(got) : got.then(done);
  }

  #gather(area: FrontswapArea, offsets: Uint32Array, held: number) {
    const index = new Uint32Array(held);
    const sub = new Uint32Array(held);
    for (let i = 0, j = 0; i < offsets.length; i++) {
      if (area.bits.test(offsets[i])) {
        index[j] = i;
        sub[j++] = offsets[i];
      }
    }
    return { index, sub, buf: new Uint8Array(held * PAGE_SIZE), subHits: new Uint8Array(held) };
  }

  #scatter(index: Uint32Array, buf: Uint8Array, subHits: Uint8Array, into: Uint8Array, hits: Uint8Array): void {
    for (let j = 0; j < index.length; j++) {
      if (!subHits[j]) continue;
      const i = index[j];
      into.set(buf.subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE), i * PAGE_SIZE);
      hits[i] = 1;
    }
  }

  // Only offsets whose bit is set may reach the backend (DESIGN §4.2): gather them, load, scatter back.
  #loadHeld(area: FrontswapArea, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean, held: number): number {
    hits.fill(0, 0, offsets.length);
    if (held === 0) return 0;
    const { index, sub, buf, subHits } = this.#gather(area, offsets, held);
    const got = this.#ops!.loadBatch(area.info.type, sub, buf, subHits, exclusive);
    this.#scatter(index, buf, subHits, into, hits);
    return got;
  }

  #checkSlot(area: FrontswapArea, offset: number): void {
    checkInteger('offset', offset, FIRST_SLOT, area.info.pages - 1);
  }

  #checkSlots(area: FrontswapArea, offsets: Uint32Array): Uint32Array {
    return checkOffsets('offsets', offsets, area.info.pages, FIRST_SLOT);
  }

  #area(type: number): FrontswapArea {
    checkInteger('type', type, 0, MAX_AREAS - 1);
    const area = this.#areas[type];
    if (!area) throw new TmemError('ERR_TMEM_UNKNOWN_AREA', `no swap area of type ${type} is swapped on`);
    return area;
  }
}

/** The process-wide frontswap front end. */
export const frontswap = new Frontswap();
debugfs.register('frontswap', () => frontswap.counters());
