// The pure-JS zcache backend (DESIGN §6): same-filled detection, LZ4 compression with zcache's
// two-level compress_poor rule, zbud placement in ArrayBuffer frames, a typed-array index per area.
// Same frontswap contract and counters as the native `zcache`; no JS object per stored page.
import * as os from 'node:os';
import { TmemError } from '../../util/errors';
import type { AreaInfo, Backend, CounterSet, FrontswapOps, ZcacheOptions } from '../types';
import { PAGE_SIZE } from '../types';
import { AreaIndex, EMPTY, SAME, ZBUD } from './area-index';
import { copyBytes, fillPage, PageCodec, sameFilledValue } from './codec';
import { ZcacheCounters } from './counters';
import { FrameFail, Zbud } from './zbud';

export interface ZcacheJsOptions extends ZcacheOptions {
  /** Store pages that fail compress_poor raw (one whole frame) instead of refusing them. Default false. */
  storeIncompressible?: boolean;
}

/** Swap area types are 0..MAX_AREAS-1 (kernel MAX_SWAPFILES). */
const MAX_AREAS = 32;
const DEFAULT_POOL_PERCENT = 20;

function defaultPoolBytes(): number {
  return Math.floor((os.totalmem() * DEFAULT_POOL_PERCENT) / 100 / PAGE_SIZE) * PAGE_SIZE;
}

class ZcacheJsOps implements FrontswapOps {
  readonly counters = new ZcacheCounters();
  readonly zbud: Zbud;
  readonly #codec = new PageCodec();
  readonly #scratch = new Uint8Array(PAGE_SIZE);
  readonly #areas: (AreaIndex | null)[] = new Array<AreaIndex | null>(MAX_AREAS).fill(null);
  readonly #infos: (AreaInfo | null)[] = new Array<AreaInfo | null>(MAX_AREAS).fill(null);
  readonly #maxCompressed: number;
  readonly #maxMean: number;
  readonly #storeIncompressible: boolean;
  closed = false;

  constructor(options: ZcacheJsOptions) {
    const maxPoolBytes = options.maxPoolBytes ?? defaultPoolBytes();
    this.zbud = new Zbud(Math.floor(maxPoolBytes / PAGE_SIZE));
    this.#maxCompressed = options.maxCompressedBytes ?? (PAGE_SIZE / 8) * 7;
    this.#maxMean = options.maxMeanCompressedBytes ?? (PAGE_SIZE / 8) * 5;
    this.#storeIncompressible = options.storeIncompressible ?? false;
  }

  // ---- FrontswapOps ------------------------------------------------------------------------------

  init(type: number, area: AreaInfo): void {
    this.#checkOpen();
    if (!Number.isInteger(type) || type < 0 || type >= MAX_AREAS) throw new RangeError(`area type must be 0..${MAX_AREAS - 1}, got ${type}`);
    if (this.#areas[type] !== null) throw new Error(`zcache-js: area ${type} is already initialised`);
    if (!Number.isInteger(area.pages) || area.pages < 0) throw new RangeError(`area pages must be a non-negative integer, got ${area.pages}`);
    this.#areas[type] = new AreaIndex(area.pages);
    this.#infos[type] = area;
  }

  store(type: number, offset: number, page: Uint8Array): boolean {
    this.#checkOpen();
    const idx = this.#area(type);
    this.#checkOffset(idx, offset);
    if (page.length !== PAGE_SIZE) throw new RangeError(`page must be ${PAGE_SIZE} bytes, got ${page.length}`);
    return this.#store(idx, type, offset, page, 0);
  }

  load(type: number, offset: number, into: Uint8Array, exclusive: boolean): boolean {
    this.#checkOpen();
    const idx = this.#area(type);
    this.#checkOffset(idx, offset);
    if (into.length !== PAGE_SIZE) throw new RangeError(`into must be ${PAGE_SIZE} bytes, got ${into.length}`);
    return this.#load(idx, offset, into, 0, exclusive);
  }

  invalidatePage(type: number, offset: number): void {
    this.#checkOpen();
    const idx = this.#areas[type];
    if (!idx || !(offset >= 0 && offset < idx.pages)) return;
    if (idx.kind[offset] !== EMPTY) {
      this.#drop(idx, offset);
      this.counters.invalidates++;
    }
  }

  invalidateArea(type: number): void {
    this.#checkOpen();
    const idx = this.#areas[type];
    if (!idx) return;
    const kind = idx.kind;
    for (let off = 0; off < idx.pages && idx.count > 0; off++) {
      if (kind[off] !== EMPTY) this.#drop(idx, off);
    }
    this.#areas[type] = null;
    this.#infos[type] = null;
  }

  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results: Uint8Array): number {
    this.#checkOpen();
    const idx = this.#area(type);
    const n = offsets.length;
    if (pages.length !== n * PAGE_SIZE) throw new RangeError(`pages must be ${n} * ${PAGE_SIZE} bytes, got ${pages.length}`);
    if (results.length < n) throw new RangeError(`results must hold ${n} entries, got ${results.length}`);
    for (let i = 0; i < n; i++) this.#checkOffset(idx, offsets[i]);
    let stored = 0;
    for (let i = 0; i < n; i++) {
      const ok = this.#store(idx, type, offsets[i], pages, i * PAGE_SIZE);
      results[i] = ok ? 1 : 0;
      if (ok) stored++;
    }
    return stored;
  }

  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number {
    this.#checkOpen();
    const idx = this.#area(type);
    const n = offsets.length;
    if (into.length !== n * PAGE_SIZE) throw new RangeError(`into must be ${n} * ${PAGE_SIZE} bytes, got ${into.length}`);
    if (hits.length < n) throw new RangeError(`hits must hold ${n} entries, got ${hits.length}`);
    for (let i = 0; i < n; i++) this.#checkOffset(idx, offsets[i]);
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

  // ---- backend ---------------------------------------------------------------------------------

  stats(): Record<string, CounterSet> {
    const c = this.counters;
    const z = this.zbud;
    let indexBytes = 0;
    for (const idx of this.#areas) if (idx) indexBytes += idx.metadataBytes;
    return {
      zcache: {
        stored_pages: c.stored_pages,
        pool_total_size: z.pages * PAGE_SIZE,
        pool_pages: z.pages,
        same_filled_pages: c.same_filled_pages,
        duplicate_entry: c.duplicate_entry,
        reject_compress_poor: c.reject_compress_poor,
        reject_mean_compress_poor: c.reject_mean_compress_poor,
        reject_compress_fail: c.reject_compress_fail,
        reject_alloc_fail: c.reject_alloc_fail,
        reject_reclaim_fail: c.reject_reclaim_fail,
        pool_limit_hit: c.pool_limit_hit,
        written_back_pages: c.written_back_pages,
        decompress_fail: c.decompress_fail,
        stored_incompressible_pages: c.stored_incompressible_pages,
        compressed_bytes: c.compressed_bytes,
        pers_pageframes: z.pages,
        eph_pageframes: 0,
        evicted_eph_pageframes: c.evicted_eph_pageframes,
        outstanding_writeback_pages: c.outstanding_writeback_pages,
        metadata_bytes: z.metadataBytes + indexBytes,
        mean_compressed_size: c.meanCompressedSize(),
        loads: c.loads,
        stores: c.stores,
        invalidates: c.invalidates,
      },
      zbud: {
        pages: z.pages,
        buddied: z.buddiedCount,
        unbuddied: z.unbuddiedCount,
        zbytes: z.zbytes,
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Issue #3 adds writeback of persistent pages here; for now the pool is dropped.
    this.zbud.release();
    this.#areas.fill(null);
    this.#infos.fill(null);
    this.counters.resetGauges();
  }

  // ---- internals -------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.closed) throw new TmemError('ERR_TMEM_CLOSED', 'the zcache-js backend is closed');
  }

  #area(type: number): AreaIndex {
    const idx = this.#areas[type];
    if (!idx) throw new RangeError(`zcache-js: area ${type} is not initialised`);
    return idx;
  }

  #checkOffset(idx: AreaIndex, offset: number): void {
    if (!(offset >= 0 && offset < idx.pages && offset === Math.floor(offset))) {
      throw new RangeError(`offset ${offset} is out of range 0..${idx.pages - 1}`);
    }
  }

  // Stores the page at buf[off..off+PAGE_SIZE). Any older copy of the offset is dropped first.
  #store(idx: AreaIndex, type: number, offset: number, buf: Uint8Array, off: number): boolean {
    const c = this.counters;
    c.stores++;
    if (idx.kind[offset] !== EMPTY) {
      c.duplicate_entry++;
      this.#drop(idx, offset);
    }
    const fill = sameFilledValue(buf, off);
    if (fill >= 0) {
      idx.kind[offset] = SAME;
      idx.val[offset] = fill;
      idx.count++;
      c.stored_pages++;
      c.same_filled_pages++;
      return true;
    }
    // The compressor wants the page as its own array: a view only in batches.
    const page = off === 0 && buf.length === PAGE_SIZE ? buf : buf.subarray(off, off + PAGE_SIZE);
    let len: number;
    try {
      len = this.#codec.compress(page);
    } catch {
      c.reject_compress_fail++;
      return false;
    }
    let raw = false;
    if (len > this.#maxCompressed || len >= PAGE_SIZE) {
      if (!this.#storeIncompressible) {
        c.reject_compress_poor++;
        return false;
      }
      raw = true;
    } else if (len > this.#maxMean && c.meanCompressedSize() > this.#maxMean) {
      if (!this.#storeIncompressible) {
        c.reject_compress_poor++;
        c.reject_mean_compress_poor++;
        return false;
      }
      raw = true;
    }
    const size = raw ? PAGE_SIZE : len;
    const h = this.zbud.alloc(size, type, offset);
    if (h < 0) {
      c.reject_alloc_fail++;
      if (this.zbud.frames.lastFail === FrameFail.Limit) c.pool_limit_hit++;
      return false;
    }
    const dst = this.zbud.buf(h);
    const at = this.zbud.byteOffset(h);
    if (raw) {
      dst.set(page, at);
      c.stored_incompressible_pages++;
    } else {
      copyBytes(this.#codec.out, 0, dst, at, len);
      c.compressed_bytes += len;
      c.compressed_pages++;
    }
    idx.kind[offset] = ZBUD;
    idx.val[offset] = h;
    idx.count++;
    c.stored_pages++;
    return true;
  }

  // Fills into[at..at+PAGE_SIZE) from the entry of `offset`; false when nothing is held.
  #load(idx: AreaIndex, offset: number, into: Uint8Array, at: number, exclusive: boolean): boolean {
    const kind = idx.kind[offset];
    if (kind === EMPTY) return false;
    if (kind === SAME) {
      fillPage(into, at, idx.val[offset]);
    } else {
      const h = idx.val[offset];
      const src = this.zbud.buf(h);
      const from = this.zbud.byteOffset(h);
      const size = this.zbud.size(h);
      if (size === PAGE_SIZE) {
        copyBytes(src, from, into, at, PAGE_SIZE);
      } else {
        const direct = at === 0 && into.length === PAGE_SIZE;
        const target = direct ? into : this.#scratch;
        if (!this.#codec.decompress(src, from, size, target)) {
          this.counters.decompress_fail++;
          throw Object.assign(new Error(`zcache-js: the page stored at offset ${offset} failed to decompress`), {
            code: 'ERR_TMEM_DECOMPRESS',
          });
        }
        if (!direct) into.set(target, at);
      }
      this.zbud.markReferenced(h);
    }
    this.counters.loads++;
    if (exclusive) this.#drop(idx, offset);
    return true;
  }

  #drop(idx: AreaIndex, offset: number): void {
    const c = this.counters;
    if (idx.kind[offset] === SAME) {
      c.same_filled_pages--;
    } else {
      const h = idx.val[offset];
      const size = this.zbud.size(h);
      if (size === PAGE_SIZE) {
        c.stored_incompressible_pages--;
      } else {
        c.compressed_bytes -= size;
        c.compressed_pages--;
      }
      this.zbud.free(h);
    }
    idx.kind[offset] = EMPTY;
    idx.count--;
    c.stored_pages--;
  }
}

/** Creates the pure-JS zcache backend. */
export function createZcacheJs(options: ZcacheJsOptions = {}): Backend {
  const ops = new ZcacheJsOps(options);
  return {
    name: 'zcache-js',
    frontswap: ops,
    stats: () => ops.stats(),
    close: async () => ops.close(),
  };
}
