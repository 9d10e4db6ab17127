// The persistent pool of the pure-JS zcache (frontswap pages, DESIGN §6): same-filled detection,
// LZ4 compression with zcache's two-level compress_poor rule, placement by the allocator, a
// typed-array index and entry LRU per area, and the pool cap with zswap's accept-threshold
// hysteresis. These pages are the only copy of the data, so a store refused is reported to the
// WritebackPolicy, which makes room by writeback (writeback.ts); store, load and drop are here
// because writeback drops through them.
// This object is the frontswap ops vector and, as the policy sees it, the writeback mechanics.
import type { ZcacheConfig } from '../options';
import type { AreaInfo, FrontswapOps } from '../types';
import { PAGE_SIZE } from '../types';
import type { WritebackMechanics, WritebackPolicy } from '../writeback-policy';
import { EPH, PERS } from './allocator';
import { AreaIndex, EMPTY, freeBase, SAME } from './area-index';
import { copyBytes, fillPage, sameFilledValue } from './codec';
import type { ZcacheContext } from './context';
import type { EphemeralPool } from './ephemeral';
import { MAX_LRU_ID } from './entry-lru';
import { FrameFail } from './frames';
import type { RemotePicks } from './remote-picks';
import { ZcacheWriteback } from './writeback';

/** Swap area types are 0..MAX_AREAS-1 (kernel MAX_SWAPFILES). */
const MAX_AREAS = 32;

// What #store did with a page.
const REFUSED = 0;
const STORED = 1;
/** Refused because the pool is at its cap, or still above the accept threshold since it was. */
const REFUSED_LIMIT = 2;

export class PersistentPool implements FrontswapOps, WritebackMechanics {
  readonly #ctx: ZcacheContext;
  readonly #eph: EphemeralPool;
  readonly #writeback: ZcacheWriteback;
  readonly #scratch = new Uint8Array(PAGE_SIZE);
  /** Index and swap file of each area, by type; writeback reads both. */
  readonly areas: (AreaIndex | null)[] = new Array<AreaIndex | null>(MAX_AREAS).fill(null);
  readonly infos: (AreaInfo | null)[] = new Array<AreaInfo | null>(MAX_AREAS).fill(null);
  readonly #maxCompressed: number;
  readonly #maxMean: number;
  readonly #storeIncompressible: boolean;
  /** Pool bytes under which a pool that reached its cap accepts stores again. */
  readonly #acceptBytes: number;
  /** Set when a store found no frame left; cleared by the first store after the pool fell under #acceptBytes. */
  #reachedFull = false;
  /** Set by the factory when writeback is configured. */
  policy: WritebackPolicy | null = null;
  /** Set by the factory when a remote tier is configured: told of every drop (remote-picks.ts). */
  remotePicks: RemotePicks | null = null;

  constructor(ctx: ZcacheContext, eph: EphemeralPool, config: ZcacheConfig) {
    this.#ctx = ctx;
    this.#eph = eph;
    this.#writeback = new ZcacheWriteback(ctx, eph, this);
    this.#maxCompressed = config.maxCompressedBytes;
    this.#maxMean = config.maxMeanCompressedBytes;
    this.#storeIncompressible = config.storeIncompressible;
    this.#acceptBytes = (config.maxPoolBytes * config.acceptThresholdPercent) / 100;
  }

  /** Bytes of the area indexes. */
  get metadataBytes(): number {
    let bytes = 0;
    for (const idx of this.areas) if (idx) bytes += idx.metadataBytes;
    return bytes;
  }

  /** The allocator moved the object of owner `owner` (base + offset of its entry) to `location`. */
  relocate(owner: number, location: number): void {
    for (const idx of this.areas) {
      if (idx && owner >= idx.base && owner < idx.base + idx.pages) {
        idx.val[owner - idx.base] = location;
        return;
      }
    }
  }

  /** Forgets every area at close (the frames go with the allocator). */
  release(): void {
    this.#writeback.release();
    this.areas.fill(null);
    this.infos.fill(null);
  }

  // ---- FrontswapOps ------------------------------------------------------------------------------

  init(type: number, area: AreaInfo): void {
    this.#ctx.checkOpen();
    if (!Number.isInteger(type) || type < 0 || type >= MAX_AREAS) throw new RangeError(`area type must be 0..${MAX_AREAS - 1}, got ${type}`);
    if (this.areas[type] !== null) throw new Error(`zcache-js: area ${type} is already initialised`);
    if (!Number.isInteger(area.pages) || area.pages < 0 || area.pages > MAX_LRU_ID + 1) {
      throw new RangeError(`area pages must be an integer in 0..${MAX_LRU_ID + 1}, got ${area.pages}`);
    }
    const base = freeBase(this.areas, area.pages);
    if (base < 0) throw new RangeError(`zcache-js: the swap areas' pages add up to more than 2^31`);
    this.areas[type] = new AreaIndex(area.pages, base);
    this.infos[type] = area;
  }

  store(type: number, offset: number, page: Uint8Array): boolean {
    this.#ctx.checkOpen();
    const idx = this.#area(type);
    this.#checkOffset(idx, offset);
    if (page.length !== PAGE_SIZE) throw new RangeError(`page must be ${PAGE_SIZE} bytes, got ${page.length}`);
    const r = this.#store(idx, offset, page, 0);
    if (r === STORED) this.policy?.afterStore();
    else if (r === REFUSED_LIMIT) this.policy?.onPoolFull();
    return r === STORED;
  }

  load(type: number, offset: number, into: Uint8Array, exclusive: boolean): boolean {
    this.#ctx.checkOpen();
    const idx = this.#area(type);
    this.#checkOffset(idx, offset);
    if (into.length !== PAGE_SIZE) throw new RangeError(`into must be ${PAGE_SIZE} bytes, got ${into.length}`);
    return this.#load(idx, offset, into, 0, exclusive);
  }

  invalidatePage(type: number, offset: number): void {
    this.#ctx.checkOpen();
    const idx = this.areas[type];
    if (!idx || !(offset >= 0 && offset < idx.pages)) return;
    if (idx.meta[offset] !== EMPTY) {
      this.drop(idx, offset);
      this.#ctx.counters.invalidates++;
    }
  }

  areaStats(type: number): { pages: number; compressedBytes: number } {
    const idx = this.areas[type];
    return idx ? { pages: idx.count, compressedBytes: idx.compressedBytes } : { pages: 0, compressedBytes: 0 };
  }

  invalidateArea(type: number): void {
    this.#ctx.checkOpen();
    const idx = this.areas[type];
    if (!idx) return;
    const meta = idx.meta;
    for (let off = 0; off < idx.pages && idx.count > 0; off++) {
      if (meta[off] !== EMPTY) this.drop(idx, off);
    }
    this.areas[type] = null;
    this.infos[type] = null;
  }

  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results: Uint8Array): number {
    const idx = this.#batchArea(type, offsets, 'pages', pages, 'results', results);
    const n = offsets.length;
    let stored = 0;
    for (let i = 0; i < n; i++) {
      const r = this.#store(idx, offsets[i], pages, i * PAGE_SIZE);
      results[i] = r === STORED ? 1 : 0;
      if (r === STORED) stored++;
      // Direct reclaim inside the batch, so the pages after this one can find room.
      else if (r === REFUSED_LIMIT) this.policy?.onPoolFull();
    }
    if (stored > 0) this.policy?.afterStore();
    return stored;
  }

  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number {
    const idx = this.#batchArea(type, offsets, 'into', into, 'hits', hits);
    const n = offsets.length;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const ok = this.#load(idx, offsets[i], into, i * PAGE_SIZE, exclusive);
      hits[i] = ok ? 1 : 0;
      if (ok) got++;
    }
    return got;
  }

  invalidateBatch(type: number, offsets: Uint32Array): void {
    for (let i = 0; i < offsets.length; i++) this.invalidatePage(type, offsets[i]);
  }

  // ---- WritebackMechanics: the policy drives them through this object ----------------------------

  poolBytes(): number {
    return this.#writeback.poolBytes();
  }

  writeback(maxPages: number): Promise<number> {
    return this.#writeback.writeback(maxPages);
  }

  writebackSync(maxPages: number): number {
    return this.#writeback.writebackSync(maxPages);
  }

  // ---- store, load, drop -----------------------------------------------------------------------

  /**
   * Drops the entry of `offset`, which must be held, and frees its object. Its LRU node stays until
   * reclaim meets it (entry-lru.ts).
   */
  drop(idx: AreaIndex, offset: number): void {
    this.remotePicks?.dropped(idx, offset);
    const c = this.#ctx.counters;
    const size = idx.meta[offset];
    if (size === SAME) {
      c.same_filled_pages--;
    } else {
      idx.compressedBytes -= size;
      idx.objects--;
      if (size === PAGE_SIZE) c.stored_incompressible_pages--;
      c.compressed_bytes -= size;
      c.object_pages--;
      this.#ctx.alloc.free(idx.val[offset]);
    }
    idx.meta[offset] = EMPTY;
    idx.count--;
    c.stored_pages--;
  }

  #area(type: number): AreaIndex {
    const idx = this.areas[type];
    if (!idx) throw new RangeError(`zcache-js: area ${type} is not initialised`);
    return idx;
  }

  // Checks a batch call as a whole before any page is touched, so that a bad argument changes nothing.
  #batchArea(type: number, offsets: Uint32Array, pagesName: string, pages: Uint8Array, flagsName: string, flags: Uint8Array): AreaIndex {
    this.#ctx.checkOpen();
    const idx = this.#area(type);
    const n = offsets.length;
    if (pages.length !== n * PAGE_SIZE) throw new RangeError(`${pagesName} must be ${n} * ${PAGE_SIZE} bytes, got ${pages.length}`);
    if (flags.length < n) throw new RangeError(`${flagsName} must hold ${n} entries, got ${flags.length}`);
    for (let i = 0; i < n; i++) this.#checkOffset(idx, offsets[i]);
    return idx;
  }

  #checkOffset(idx: AreaIndex, offset: number): void {
    if (!(offset >= 0 && offset < idx.pages && offset === Math.floor(offset))) {
      throw new RangeError(`offset ${offset} is out of range 0..${idx.pages - 1}`);
    }
  }

  // Stores the page at buf[off..off+PAGE_SIZE). Any older copy of the offset is dropped first.
  #store(idx: AreaIndex, offset: number, buf: Uint8Array, off: number): number {
    const c = this.#ctx.counters;
    const alloc = this.#ctx.alloc;
    const codec = this.#ctx.codec;
    c.stores++;
    if (idx.meta[offset] !== EMPTY) {
      c.duplicate_entry++;
      this.drop(idx, offset);
    }
    const fill = sameFilledValue(buf, off);
    if (fill >= 0) {
      idx.meta[offset] = SAME;
      idx.val[offset] = fill;
      idx.count++;
      c.stored_pages++;
      c.same_filled_pages++;
      return STORED;
    }
    // zswap's hysteresis: once full, refuse until the pool is back under the accept threshold,
    // unless ephemeral frames are there to be eaten (they are room that costs no I/O). Slots freed
    // since the pool filled only count once compaction has turned them into free frames.
    if (this.#reachedFull) {
      if (this.poolBytes() >= this.#acceptBytes) alloc.compact();
      if (this.poolBytes() >= this.#acceptBytes) {
        if (alloc.framesOf(EPH) === 0) {
          c.pool_limit_hit++;
          return REFUSED_LIMIT;
        }
      } else {
        this.#reachedFull = false;
      }
    }
    // The compressor wants the page as its own array: a view only in batches.
    const page = off === 0 && buf.length === PAGE_SIZE ? buf : buf.subarray(off, off + PAGE_SIZE);
    let len: number;
    try {
      len = codec.compress(page);
    } catch {
      c.reject_compress_fail++;
      return REFUSED;
    }
    let raw = false;
    if (len > this.#maxCompressed || len >= PAGE_SIZE) {
      if (!this.#storeIncompressible) {
        c.reject_compress_poor++;
        return REFUSED;
      }
      raw = true;
    } else if (len > this.#maxMean && c.meanCompressedSize() > this.#maxMean) {
      if (!this.#storeIncompressible) {
        c.reject_compress_poor++;
        c.reject_mean_compress_poor++;
        return REFUSED;
      }
      raw = true;
    }
    const size = raw ? PAGE_SIZE : len;
    // At the cap, ephemeral frames are eaten first; -1 only once none is left.
    const h = this.#eph.allocFor(size, PERS, idx.base + offset);
    if (h < 0) {
      c.reject_alloc_fail++;
      if (alloc.frames.lastFail !== FrameFail.Limit) return REFUSED;
      c.pool_limit_hit++;
      this.#reachedFull = true;
      return REFUSED_LIMIT;
    }
    if (raw) {
      alloc.write(h, page, 0, PAGE_SIZE);
      c.stored_incompressible_pages++;
    } else {
      alloc.write(h, codec.out, 0, len);
    }
    c.compressed_bytes += size;
    c.object_pages++;
    idx.meta[offset] = size;
    idx.val[offset] = h;
    idx.count++;
    idx.objects++;
    idx.compressedBytes += size;
    idx.lru.add(offset);
    c.stored_pages++;
    return STORED;
  }

  // Fills into[at..at+PAGE_SIZE) from the entry of `offset`; false when nothing is held.
  #load(idx: AreaIndex, offset: number, into: Uint8Array, at: number, exclusive: boolean): boolean {
    const size = idx.meta[offset];
    if (size === EMPTY) return false;
    if (size === SAME) {
      fillPage(into, at, idx.val[offset]);
    } else {
      const alloc = this.#ctx.alloc;
      const src = alloc.map(idx.val[offset], size);
      const from = alloc.mapOffset;
      if (size === PAGE_SIZE) {
        copyBytes(src, from, into, at, PAGE_SIZE);
      } else {
        const direct = at === 0 && into.length === PAGE_SIZE;
        const target = direct ? into : this.#scratch;
        if (!this.#ctx.codec.decompress(src, from, size, target)) {
          this.#ctx.counters.decompress_fail++;
          throw Object.assign(new Error(`zcache-js: the page stored at offset ${offset} failed to decompress`), {
            code: 'ERR_TMEM_DECOMPRESS',
          });
        }
        if (!direct) into.set(target, at);
      }
      idx.lru.reference(offset);
    }
    this.#ctx.counters.loads++;
    if (exclusive) this.drop(idx, offset);
    return true;
  }
}
