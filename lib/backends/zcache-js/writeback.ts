// Writeback mechanics of the pure-JS zcache: how room is made once the pool is full (WritebackPolicy
// in ../writeback-policy.ts decides when and how much). Ephemeral pages go first, since dropping a
// clean page costs no I/O. Then, as zswap does since Linux 6.x, persistent entries are taken from
// the entry LRUs of the areas (second chance for referenced ones), decompressed, sorted by (area,
// offset) so that adjacent slots go out in one pwrite, written to their own slots of their swap
// files and dropped once on disk; the allocator is compacted before (its free slots may already be
// the room asked for) and after (so that the objects freed become free frames). The staging
// buffers are kept from one round to the next, so a round allocates nothing per page it writes.
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../types';
import type { WritebackMechanics } from '../writeback-policy';
import { EPH } from './allocator';
import { copyBytes } from './codec';
import type { ZcacheContext } from './context';
import type { EphemeralPool } from './ephemeral';
import type { PersistentPool } from './persistent';

/** Pages one writeback round stages. */
const WB_ROUND = 1024;
/** Sort key of a staged page: type * TYPE_SCALE + offset (exact below 2^53). */
const TYPE_SCALE = 2 ** 32;

export class ZcacheWriteback implements WritebackMechanics {
  readonly #ctx: ZcacheContext;
  readonly #eph: EphemeralPool;
  readonly #pers: PersistentPool;
  // Staging: sort keys of the pages taken, and their pages in key order.
  readonly #keys = new Float64Array(WB_ROUND);
  #pages = new Uint8Array(0);
  #views: Uint8Array[] = [];
  /** Area the next round starts taking from, so that no area is always taken from first. */
  #nextArea = 0;

  constructor(ctx: ZcacheContext, eph: EphemeralPool, pers: PersistentPool) {
    this.#ctx = ctx;
    this.#eph = eph;
    this.#pers = pers;
  }

  poolBytes(): number {
    return this.#ctx.alloc.frames.inUse * PAGE_SIZE;
  }

  /**
   * Background form: the batch runs in a setImmediate. JS is single-threaded, so a batch is atomic
   * with respect to every other op: entries are taken when it runs, no page can change under it.
   */
  writeback(maxPages: number): Promise<number> {
    const c = this.#ctx.counters;
    c.outstanding_writeback_pages += maxPages;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        c.outstanding_writeback_pages -= maxPages;
        if (this.#ctx.closed) {
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
   * Makes room, cheapest first: evicts ephemeral pages (clean, no I/O), compacts, then writes the
   * least recently used persistent pages to their own slots of their swap files and drops them; up
   * to about maxPages pages in all. Stops at the first failed write (ENOSPC, EIO, ...): the pages not
   * written stay exactly as they were, and reject_reclaim_fail counts each page of the failed write.
   * Never throws. Returns the number of pages taken out of the pool (ephemeral pages dropped plus
   * persistent pages written back).
   */
  writebackSync(maxPages: number): number {
    if (this.#ctx.closed) return 0;
    const alloc = this.#ctx.alloc;
    let written = 0;
    while (written < maxPages && alloc.framesOf(EPH) > 0) {
      const n = this.#eph.evict(false);
      if (n === 0) break;
      written += n;
    }
    alloc.compact();
    while (written < maxPages) {
      const r = this.#round(Math.min(WB_ROUND, maxPages - written));
      written += r.written;
      if (r.failed || r.written === 0) break;
    }
    alloc.compact();
    return written;
  }

  /** Gives back the staging buffers at close. */
  release(): void {
    this.#pages = new Uint8Array(0);
    this.#views = [];
  }

  // Takes up to maxPages entries off the areas' LRUs (each area its share of the objects held),
  // stages their pages sorted by (type, offset), writes runs of adjacent slots with one pwrite each,
  // then drops what was written and puts the rest back at the old end of their LRU.
  #round(maxPages: number): { written: number; failed: boolean } {
    const areas = this.#pers.areas;
    let total = 0;
    for (const idx of areas) if (idx) total += idx.objects;
    if (total === 0) return { written: 0, failed: false };
    const keys = this.#keys;
    let n = 0;
    for (let i = 0; i < areas.length && n < maxPages; i++) {
      const type = (this.#nextArea + i) % areas.length;
      const idx = areas[type];
      if (!idx || idx.objects === 0) continue;
      const share = Math.ceil((maxPages * idx.objects) / total);
      for (let k = 0; k < share && n < maxPages; k++) {
        const off = idx.lru.take(idx.holdsObject);
        if (off < 0) break;
        keys[n++] = type * TYPE_SCALE + off;
      }
    }
    this.#nextArea = (this.#nextArea + 1) % areas.length;
    if (n === 0) return { written: 0, failed: false };
    const sorted = keys.subarray(0, n).sort();
    this.#stageRoom(n);
    const pages = this.#pages;
    const views = this.#views;
    const alloc = this.#ctx.alloc;
    // Page k of the staging buffer holds the k-th page in key order. A page that fails to
    // decompress stays in the pool (its key becomes -1, which breaks runs).
    for (let k = 0; k < n; k++) {
      const type = Math.floor(sorted[k] / TYPE_SCALE);
      const off = sorted[k] - type * TYPE_SCALE;
      const idx = areas[type]!;
      const size = idx.meta[off];
      const src = alloc.map(idx.val[off], size);
      if (size === PAGE_SIZE) {
        copyBytes(src, alloc.mapOffset, pages, k * PAGE_SIZE, PAGE_SIZE);
      } else if (!this.#ctx.codec.decompress(src, alloc.mapOffset, size, views[k])) {
        this.#ctx.counters.decompress_fail++;
        this.#putBack(sorted[k]);
        sorted[k] = -1;
      }
    }
    let written = 0;
    for (let k = 0; k < n; ) {
      if (sorted[k] < 0) {
        k++;
        continue;
      }
      // A run: the same area, consecutive offsets (keys sorted, so key + 1 per page).
      const first = sorted[k];
      let end = k + 1;
      while (end < n && sorted[end] === first + (end - k)) end++;
      const type = Math.floor(first / TYPE_SCALE);
      const info = this.#pers.infos[type];
      const done = info ? this.#pwrite(info.fd, pages, k, end - k, first - type * TYPE_SCALE) : 0;
      const idx = areas[type]!;
      for (let j = k; j < k + done; j++) {
        this.#pers.drop(idx, sorted[j] - type * TYPE_SCALE);
        this.#ctx.counters.written_back_pages++;
      }
      written += done;
      if (done < end - k) {
        // Every page of the failed write counts once; it and the pages after it stay in the pool.
        this.#ctx.counters.reject_reclaim_fail += end - k - done;
        for (let j = n - 1; j >= k + done; j--) if (sorted[j] >= 0) this.#putBack(sorted[j]);
        return { written, failed: true };
      }
      k = end;
    }
    return { written, failed: false };
  }

  #putBack(key: number): void {
    const type = Math.floor(key / TYPE_SCALE);
    this.#pers.areas[type]!.lru.putBackOldest(key - type * TYPE_SCALE);
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

  #stageRoom(n: number): void {
    if (this.#views.length >= n) return;
    const cap = Math.max(n, 64);
    this.#pages = new Uint8Array(cap * PAGE_SIZE);
    this.#views = [];
    for (let k = 0; k < cap; k++) this.#views.push(this.#pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
  }
}
