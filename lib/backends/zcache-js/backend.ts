// The pure-JS zcache backend (DESIGN §6): same-filled detection, LZ4 compression with zcache's
// two-level compress_poor rule, zbud placement in ArrayBuffer frames, a typed-array index per area,
// a pool cap with zswap's accept-threshold hysteresis, and writeback of the least recently used
// frames to the swap files (the mechanics; WritebackPolicy decides when and how much).
// Same frontswap contract and counters as the native `zcache`; no JS object per stored page.
//
// The ephemeral pool (cleancache pages) shares the frame cap but never a frame: ephemeral frames
// are a zbud class of their own with their own lists and LRU. Any store that needs a frame at the
// cap first evicts the least recently used ephemeral frame (both of its pages); only when none is
// left do the persistent rules apply (refuse, hysteresis, writeback). An ephemeral put never
// evicts a persistent page and never starts writeback: with no ephemeral frame to recycle it is
// dropped. Ephemeral pages are clean, so they are never written anywhere.
import * as fs from 'node:fs';
import { TmemError } from '../../util/errors';
import type { ZcacheConfig } from '../options';
import type { AreaInfo, Backend, CleancacheOps, CounterSet, FrontswapOps } from '../types';
import { PAGE_SIZE } from '../types';
import { WritebackPolicy, type WritebackMechanics } from '../writeback-policy';
import { AreaIndex, EMPTY, SAME, ZBUD } from './area-index';
import { copyBytes, fillPage, PageCodec, sameFilledValue } from './codec';
import { ZcacheCounters } from './counters';
import { EphIndex } from './eph-index';
import { KEY_WORDS } from './eph-inodes';
import { EPH, FrameFail, PERS, Zbud, type FrameClass } from './zbud';

/** Swap area types are 0..MAX_AREAS-1 (kernel MAX_SWAPFILES). */
const MAX_AREAS = 32;

// What #store did with a page.
const REFUSED = 0;
const STORED = 1;
/** Refused because the pool is at its cap, or still above the accept threshold since it was. */
const REFUSED_LIMIT = 2;

/** Pages one writeback round stages (and the most a sort key can index: 2^11). */
const WB_ROUND = 1024;
const WB_KEY_SLOTS = 2048;
/** Sort key of a staged page: (type, offset) ascending, then staging slot. Exact below 2^53. */
const TYPE_SCALE = 2 ** 32;

/** A cleancache pool: shared pools have a uuid and count their initSharedFs calls. */
interface EphPool {
  uuid: string | null;
  users: number;
}

class ZcacheJsOps implements FrontswapOps, WritebackMechanics {
  readonly counters = new ZcacheCounters();
  readonly zbud: Zbud;
  readonly #codec = new PageCodec();
  readonly #scratch = new Uint8Array(PAGE_SIZE);
  readonly #areas: (AreaIndex | null)[] = new Array<AreaIndex | null>(MAX_AREAS).fill(null);
  readonly #infos: (AreaInfo | null)[] = new Array<AreaInfo | null>(MAX_AREAS).fill(null);
  readonly #maxCompressed: number;
  readonly #maxMean: number;
  readonly #storeIncompressible: boolean;
  /** Pool bytes under which a pool that reached its cap accepts stores again. */
  readonly #acceptBytes: number;
  /** Set when a store found no frame left; cleared by the first store after the pool fell under #acceptBytes. */
  #reachedFull = false;
  /** Set by the factory when writeback is configured. */
  policy: WritebackPolicy | null = null;
  // Writeback staging: handles picked, their sort keys, and their pages in (type, offset) order.
  #wbHandles = new Int32Array(WB_ROUND + 1);
  #wbKeys = new Float64Array(WB_ROUND + 1);
  #wbPages = new Uint8Array(0);
  #wbViews: Uint8Array[] = [];
  // Ephemeral pool: the index of its pages, its pools by id, shared pool ids by uuid.
  readonly #eph = new EphIndex();
  #ephPools: (EphPool | null)[] = [];
  readonly #ephUuids = new Map<string, number>();
  readonly #ignoreNonactivePuts: boolean;
  closed = false;

  /** The cleancache ops vector (its method names clash with frontswap's, so it is an object of its own). */
  readonly cleancache: CleancacheOps = {
    initFs: (pageSize) => this.#initFs(pageSize),
    initSharedFs: (uuid, pageSize) => this.#initSharedFs(uuid, pageSize),
    getPage: (pool, key, index, into, exclusive) => this.#getPage(pool, key, index, into, exclusive),
    putPage: (pool, key, index, page, wasActive) => this.#putPage(pool, key, index, page, wasActive),
    invalidatePage: (pool, key, index) => this.#invalidatePage(pool, key, index),
    invalidateInode: (pool, key) => this.#invalidateInode(pool, key),
    invalidateFs: (pool) => this.#invalidateFs(pool),
  };

  constructor(config: ZcacheConfig) {
    this.zbud = new Zbud(Math.floor(config.maxPoolBytes / PAGE_SIZE));
    this.#maxCompressed = config.maxCompressedBytes;
    this.#maxMean = config.maxMeanCompressedBytes;
    this.#storeIncompressible = config.storeIncompressible;
    this.#acceptBytes = (config.maxPoolBytes * config.acceptThresholdPercent) / 100;
    this.#ignoreNonactivePuts = config.ignoreNonactivePuts;
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
    const r = this.#store(idx, type, offset, page, 0);
    if (r === STORED) this.policy?.afterStore();
    else if (r === REFUSED_LIMIT) this.policy?.onPoolFull();
    return r === STORED;
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
      const r = this.#store(idx, type, offsets[i], pages, i * PAGE_SIZE);
      results[i] = r === STORED ? 1 : 0;
      if (r === STORED) stored++;
      // Direct reclaim inside the batch, so the pages after this one can find room.
      else if (r === REFUSED_LIMIT) this.policy?.onPoolFull();
    }
    if (stored > 0) this.policy?.afterStore();
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

  // ---- CleancacheOps (the hook layer validated every argument; the key buffer is reused) --------

  #initFs(pageSize: number): number {
    this.#checkOpen();
    this.#checkPageSize(pageSize);
    return this.#addPool({ uuid: null, users: 1 });
  }

  #initSharedFs(uuid: string, pageSize: number): number {
    this.#checkOpen();
    this.#checkPageSize(pageSize);
    if (typeof uuid !== 'string' || uuid.length === 0) throw new TypeError(`uuid must be a non-empty string`);
    const id = this.#ephUuids.get(uuid);
    if (id !== undefined) {
      this.#ephPools[id]!.users++;
      return id;
    }
    const added = this.#addPool({ uuid, users: 1 });
    this.#ephUuids.set(uuid, added);
    return added;
  }

  #getPage(pool: number, key: Uint32Array, index: number, into: Uint8Array, exclusive: boolean): boolean {
    this.#checkOpen();
    this.#ephPool(pool);
    this.#checkKey(key);
    if (into.length !== PAGE_SIZE) throw new RangeError(`into must be ${PAGE_SIZE} bytes, got ${into.length}`);
    const ix = this.#eph;
    const ino = ix.findInode(pool, key);
    if (ino < 0) return false;
    const e = ix.findPage(ino, index);
    if (e < 0) return false;
    const val = ix.val(e);
    if (ix.kind(e) === SAME) {
      fillPage(into, 0, val);
    } else {
      const z = this.zbud;
      if (!this.#codec.decompress(z.buf(val), z.byteOffset(val), z.size(val), into)) {
        // A clean page can be read again from its file: drop it and miss rather than fail.
        this.counters.decompress_fail++;
        this.#ephDrop(e);
        return false;
      }
      // Shared pools keep the page: its frame becomes the most recently used.
      if (!exclusive) z.lruMoveToHead(val >> 1);
    }
    this.counters.eph_gets++;
    if (exclusive) this.#ephDrop(e);
    return true;
  }

  #putPage(pool: number, key: Uint32Array, index: number, page: Uint8Array, wasActive: boolean): void {
    this.#checkOpen();
    this.#ephPool(pool);
    this.#checkKey(key);
    if (page.length !== PAGE_SIZE) throw new RangeError(`page must be ${PAGE_SIZE} bytes, got ${page.length}`);
    const c = this.counters;
    const ix = this.#eph;
    // Room in the index first, so that nothing can fail once the pool has changed.
    ix.reserve();
    c.eph_puts++;
    // Coherency: whatever happens to the new page, the older copy is gone.
    const old = ix.findInode(pool, key);
    if (old >= 0) {
      const e = ix.findPage(old, index);
      if (e >= 0) this.#ephDrop(e);
    }
    if (this.#ignoreNonactivePuts && !wasActive) {
      c.eph_nonactive_puts_ignored++;
      return;
    }
    let kind: number;
    let val: number;
    const fill = sameFilledValue(page, 0);
    if (fill >= 0) {
      kind = SAME;
      val = fill;
    } else {
      let len: number;
      try {
        len = this.#codec.compress(page);
      } catch {
        return;
      }
      // compress_poor: not kept (ephemeral pages are never stored raw; the running-mean rule is
      // the persistent pool's, as in zcache).
      if (len > this.#maxCompressed || len >= PAGE_SIZE) return;
      // May evict ephemeral frames (never persistent ones); -1: dropped.
      const h = this.#zalloc(len, EPH, false);
      if (h < 0) return;
      copyBytes(this.#codec.out, 0, this.zbud.buf(h), this.zbud.byteOffset(h), len);
      kind = ZBUD;
      val = h;
    }
    // Looked up again: an eviction above may have taken the inode's last page, and the inode with it.
    let ino = ix.findInode(pool, key);
    if (ino < 0) ino = ix.addInode(pool, key);
    const e = ix.addPage(ino, index, kind, val);
    if (kind === ZBUD) this.zbud.setOwner(val, 0, e);
  }

  #invalidatePage(pool: number, key: Uint32Array, index: number): void {
    this.#checkOpen();
    if (!this.#ephPools[pool]) return;
    const ix = this.#eph;
    const ino = ix.findInode(pool, key);
    if (ino < 0) return;
    const e = ix.findPage(ino, index);
    if (e < 0) return;
    this.#ephDrop(e);
    this.counters.eph_invalidates++;
  }

  #invalidateInode(pool: number, key: Uint32Array): void {
    this.#checkOpen();
    if (!this.#ephPools[pool]) return;
    const ino = this.#eph.findInode(pool, key);
    if (ino >= 0) this.counters.eph_invalidates += this.#dropInode(ino);
  }

  /** Drops the pool's pages and frees its id; a shared pool only once its last initSharedFs is matched. */
  #invalidateFs(pool: number): void {
    this.#checkOpen();
    const p = this.#ephPools[pool];
    if (!p) return;
    if (--p.users > 0) return;
    const ix = this.#eph;
    for (let ino = ix.poolFirstInode(pool); ino >= 0; ino = ix.poolFirstInode(pool)) {
      this.counters.eph_invalidates += this.#dropInode(ino);
    }
    this.#ephPools[pool] = null;
    if (p.uuid !== null) this.#ephUuids.delete(p.uuid);
    while (this.#ephPools.length > 0 && this.#ephPools[this.#ephPools.length - 1] === null) this.#ephPools.pop();
    // Give back the memory of an index that grew large.
    if (ix.pages === 0) ix.reset();
  }

  #addPool(pool: EphPool): number {
    let id = this.#ephPools.indexOf(null);
    if (id < 0) id = this.#ephPools.length;
    this.#ephPools[id] = pool;
    return id;
  }

  #ephPool(pool: number): EphPool {
    const p = this.#ephPools[pool];
    if (!p) throw new RangeError(`zcache-js: no cleancache pool ${pool}`);
    return p;
  }

  #checkPageSize(pageSize: number): void {
    if (pageSize !== PAGE_SIZE) throw new RangeError(`zcache-js: page size must be ${PAGE_SIZE}, got ${pageSize}`);
  }

  #checkKey(key: Uint32Array): void {
    if (!(key instanceof Uint32Array) || key.length !== KEY_WORDS) throw new TypeError(`key must be a Uint32Array of ${KEY_WORDS} words`);
  }

  // Drops every page of an inode (the inode goes with its last page). Returns the pages dropped.
  #dropInode(ino: number): number {
    const ix = this.#eph;
    let n = 0;
    for (let e = ix.inoFirstPage(ino); e >= 0; ) {
      const next = ix.entNextInInode(e);
      this.#ephDrop(e);
      n++;
      e = next;
    }
    return n;
  }

  #ephDrop(e: number): void {
    const ix = this.#eph;
    if (ix.kind(e) === ZBUD) this.zbud.free(ix.val(e));
    ix.removePage(e);
  }

  // Drops the least recently used ephemeral frame (both of its pages). Returns the pages dropped.
  #evictEphFrame(forPersistent: boolean): number {
    const z = this.zbud;
    const c = this.counters;
    const f = z.lruOldest(EPH);
    let n = 0;
    for (let h = f * 2; h <= f * 2 + 1; h++) {
      if (z.chunksOf(h) > 0) {
        this.#ephDrop(z.ownerOffset(h));
        n++;
      }
    }
    c.evicted_eph_pageframes++;
    c.evicted_eph_zpages += n;
    if (forPersistent) c.pers_ate_eph++;
    return n;
  }

  // zbud.alloc in class `cls`; when no frame can be had, ephemeral frames are eaten, oldest first,
  // until one can (for either class). Never touches a persistent frame. -1 when nothing is left to eat.
  #zalloc(size: number, cls: FrameClass, persistent: boolean): number {
    const z = this.zbud;
    let h = z.alloc(size, 0, 0, cls);
    while (h < 0 && z.pagesOf(EPH) > 0) {
      this.#evictEphFrame(persistent);
      h = z.alloc(size, 0, 0, cls);
    }
    return h;
  }

  // ---- backend ---------------------------------------------------------------------------------

  stats(): Record<string, CounterSet> {
    const c = this.counters;
    const z = this.zbud;
    let indexBytes = this.#eph.metadataBytes;
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
        pers_pageframes: z.pagesOf(PERS),
        eph_pageframes: z.pagesOf(EPH),
        pers_zpages: c.stored_pages,
        eph_zpages: this.#eph.pages,
        pers_zbytes: z.zbytesOf[PERS],
        eph_zbytes: z.zbytesOf[EPH],
        evicted_eph_pageframes: c.evicted_eph_pageframes,
        evicted_eph_zpages: c.evicted_eph_zpages,
        pers_ate_eph: c.pers_ate_eph,
        eph_nonactive_puts_ignored: c.eph_nonactive_puts_ignored,
        eph_puts: c.eph_puts,
        eph_gets: c.eph_gets,
        eph_invalidates: c.eph_invalidates,
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

  /**
   * Drops everything held: the registry has moved persistent pages to their swap files before, and
   * ephemeral pages are clean, so they are simply dropped.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.zbud.release();
    this.#eph.reset();
    this.#ephPools = [];
    this.#ephUuids.clear();
    this.#wbPages = new Uint8Array(0);
    this.#wbViews = [];
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

  // ---- WritebackMechanics ----------------------------------------------------------------------

  poolBytes(): number {
    return this.zbud.pages * PAGE_SIZE;
  }

  /**
   * Background form: the batch runs in a setImmediate. JS is single-threaded, so a batch is atomic
   * with respect to every other op: frames are picked when it runs, no page can change under it.
   */
  writeback(maxPages: number): Promise<number> {
    const c = this.counters;
    c.outstanding_writeback_pages += maxPages;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        c.outstanding_writeback_pages -= maxPages;
        if (this.closed) {
          resolve(0);
          return;
        }
        try {
          resolve(this.writebackSync(maxPages));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  /**
   * Makes room by whole frames, cheapest first: drops least recently used ephemeral frames (clean,
   * no I/O), then writes the pages of least recently used persistent frames to their own slots of
   * their swap files and drops them; up to maxPages + 1 pages in all. Stops at the first failed
   * write (ENOSPC, EIO, ...): the pages not written stay exactly as they were, and
   * reject_reclaim_fail counts the page the failed write was for. Never throws. Returns the number
   * of pages taken out of the pool (ephemeral pages dropped plus persistent pages written back).
   */
  writebackSync(maxPages: number): number {
    if (this.closed) return 0;
    let written = 0;
    while (written < maxPages && this.zbud.pagesOf(EPH) > 0) written += this.#evictEphFrame(false);
    while (written < maxPages) {
      const r = this.#writebackRound(Math.min(WB_ROUND, maxPages - written));
      written += r.written;
      if (r.failed || r.written === 0) break;
    }
    return written;
  }

  // Picks frames from the LRU tail with second chance, stages their pages sorted by (type, offset),
  // writes runs of adjacent slots with one pwrite each, then drops what was written.
  #writebackRound(maxPages: number): { written: number; failed: boolean } {
    const z = this.zbud;
    const handles = this.#wbHandles;
    let n = 0;
    // Two sweeps at most: a frame given a second chance on the first can be taken on the second.
    let budget = 2 * z.pages;
    let f = z.lruOldest();
    while (f >= 0 && n < maxPages && budget-- > 0) {
      const newer = z.lruNewer(f);
      if (z.isReferenced(f)) {
        z.clearReferenced(f);
        // At the head already: nothing to move, and it is taken on the next step.
        if (newer < 0) continue;
        // Moved behind the old head, so the walk meets it again after every older frame.
        z.lruMoveToHead(f);
        f = newer;
        continue;
      }
      for (let h = f * 2; h <= f * 2 + 1; h++) if (z.chunksOf(h) > 0) handles[n++] = h;
      f = newer;
    }
    if (n === 0) return { written: 0, failed: false };
    const keys = this.#wbKeys.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const h = handles[i];
      keys[i] = (z.ownerType(h) * TYPE_SCALE + z.ownerOffset(h)) * WB_KEY_SLOTS + i;
    }
    keys.sort();
    this.#stageRoom(n);
    const pages = this.#wbPages;
    const views = this.#wbViews;
    // Page k of the staging buffer holds the k-th page in key order; a failed decompress breaks runs.
    for (let k = 0; k < n; k++) {
      const h = handles[keys[k] % WB_KEY_SLOTS];
      const size = z.size(h);
      if (size === PAGE_SIZE) {
        copyBytes(z.buf(h), z.byteOffset(h), pages, k * PAGE_SIZE, PAGE_SIZE);
      } else if (!this.#codec.decompress(z.buf(h), z.byteOffset(h), size, views[k])) {
        this.counters.decompress_fail++;
        keys[k] = -1;
      }
    }
    let written = 0;
    for (let k = 0; k < n; ) {
      if (keys[k] < 0) {
        k++;
        continue;
      }
      // A run: the same area, consecutive offsets (keys sorted, so slot key + 1 per page).
      const slot = Math.floor(keys[k] / WB_KEY_SLOTS);
      const type = Math.floor(slot / TYPE_SCALE);
      const first = slot % TYPE_SCALE;
      let end = k + 1;
      while (end < n && keys[end] >= 0 && Math.floor(keys[end] / WB_KEY_SLOTS) === slot + (end - k)) end++;
      const info = this.#infos[type];
      const done = info ? this.#pwrite(info.fd, pages, k, end - k, first) : 0;
      for (let j = k; j < k + done; j++) this.#dropWritten(type, handles[keys[j] % WB_KEY_SLOTS]);
      written += done;
      if (done < end - k) {
        // The page the failed pwrite started at; the rest of the run was not tried on its own.
        this.counters.reject_reclaim_fail++;
        return { written, failed: true };
      }
      k = end;
    }
    return { written, failed: false };
  }

  // pwrite of `count` staged pages from page `first` on to slot `offset` onward; partial writes are
  // continued. Returns how many whole pages reached the file before an error (count on success).
  #pwrite(fd: number, pages: Uint8Array, first: number, count: number, offset: number): number {
    const total = count * PAGE_SIZE;
    const base = first * PAGE_SIZE;
    let done = 0;
    try {
      while (done < total) {
        const got = fs.writeSync(fd, pages, base + done, total - done, offset * PAGE_SIZE + done);
        if (got <= 0) break;
        done += got;
      }
    } catch {
      // ENOSPC, EIO, EFBIG, EBADF...: the caller keeps the pages not written.
    }
    return Math.floor(done / PAGE_SIZE);
  }

  #dropWritten(type: number, h: number): void {
    const idx = this.#areas[type];
    const offset = this.zbud.ownerOffset(h);
    if (!idx || idx.kind[offset] !== ZBUD || idx.val[offset] !== h) return;
    this.#drop(idx, offset);
    this.counters.written_back_pages++;
  }

  #stageRoom(n: number): void {
    if (this.#wbViews.length >= n) return;
    const cap = Math.max(n, 64);
    this.#wbPages = new Uint8Array(cap * PAGE_SIZE);
    this.#wbViews = [];
    for (let k = 0; k < cap; k++) this.#wbViews.push(this.#wbPages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
  }

  // Stores the page at buf[off..off+PAGE_SIZE). Any older copy of the offset is dropped first.
  #store(idx: AreaIndex, type: number, offset: number, buf: Uint8Array, off: number): number {
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
      return STORED;
    }
    // zswap's hysteresis: once full, refuse until the pool is back under the accept threshold,
    // unless ephemeral frames are there to be eaten (they are room that costs no I/O).
    if (this.#reachedFull) {
      if (this.poolBytes() >= this.#acceptBytes) {
        if (this.zbud.pagesOf(EPH) === 0) {
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
      len = this.#codec.compress(page);
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
    const h = this.#zalloc(size, PERS, true);
    if (h < 0) {
      c.reject_alloc_fail++;
      if (this.zbud.frames.lastFail !== FrameFail.Limit) return REFUSED;
      c.pool_limit_hit++;
      this.#reachedFull = true;
      return REFUSED_LIMIT;
    }
    this.zbud.setOwner(h, type, offset);
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
    return STORED;
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

/**
 * Creates the pure-JS zcache backend from a parsed config (options.ts parses and defaults it).
 * With `config.writeback`, a WritebackPolicy drives this backend's writeback mechanics.
 */
export function createZcacheJs(config: ZcacheConfig): Backend {
  const ops = new ZcacheJsOps(config);
  const policy = config.writeback ? new WritebackPolicy(ops, config.writeback) : null;
  ops.policy = policy;
  return {
    name: 'zcache-js',
    frontswap: ops,
    cleancache: ops.cleancache,
    stats: () => ops.stats(),
    flush: () => (policy ? policy.idle() : Promise.resolve()),
    close: async () => {
      if (policy) await policy.stop();
      ops.close();
    },
  };
}
