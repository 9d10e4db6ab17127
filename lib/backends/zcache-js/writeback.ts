// Writeback mechanics of the pure-JS zcache: how room is made once the pool is full (WritebackPolicy
// in ../writeback-policy.ts decides when and how much). Ephemeral frames go first, since dropping a
// clean page costs no I/O; then the least recently used persistent frames have their pages written
// to their own slots of their swap files, sorted so that adjacent slots go out in one pwrite, and are
// dropped once on disk. The staging buffers are kept from one round to the next, so a round
// allocates nothing per page it writes.
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../types';
import type { WritebackMechanics } from '../writeback-policy';
import { ZBUD } from './area-index';
import { copyBytes } from './codec';
import type { ZcacheContext } from './context';
import type { EphemeralPool } from './ephemeral';
import type { PersistentPool } from './persistent';
import { EPH } from './zbud';

/** Pages one writeback round stages (and the most a sort key can index: 2^11). */
const WB_ROUND = 1024;
const WB_KEY_SLOTS = 2048;
/** Sort key of a staged page: (type, offset) ascending, then staging slot. Exact below 2^53. */
const TYPE_SCALE = 2 ** 32;

export class ZcacheWriteback implements WritebackMechanics {
  readonly #ctx: ZcacheContext;
  readonly #eph: EphemeralPool;
  readonly #pers: PersistentPool;
  // Staging: handles picked, their sort keys, and their pages in (type, offset) order.
  #handles = new Int32Array(WB_ROUND + 1);
  #keys = new Float64Array(WB_ROUND + 1);
  #pages = new Uint8Array(0);
  #views: Uint8Array[] = [];

  constructor(ctx: ZcacheContext, eph: EphemeralPool, pers: PersistentPool) {
    this.#ctx = ctx;
    this.#eph = eph;
    this.#pers = pers;
  }

  poolBytes(): number {
    return this.#ctx.zbud.pages * PAGE_SIZE;
  }

  /**
   * Background form: the batch runs in a setImmediate. JS is single-threaded, so a batch is atomic
   * with respect to every other op: frames are picked when it runs, no page can change under it.
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
   * Makes room by whole frames, cheapest first: drops least recently used ephemeral frames (clean,
   * no I/O), then writes the pages of least recently used persistent frames to their own slots of
   * their swap files and drops them; up to maxPages + 1 pages in all. Stops at the first failed
   * write (ENOSPC, EIO, ...): the pages not written stay exactly as they were, and
   * reject_reclaim_fail counts the page the failed write was for. Never throws. Returns the number
   * of pages taken out of the pool (ephemeral pages dropped plus persistent pages written back).
   */
  writebackSync(maxPages: number): number {
    if (this.#ctx.closed) return 0;
    let written = 0;
    while (written < maxPages && this.#ctx.zbud.pagesOf(EPH) > 0) written += this.#eph.evictFrame(false);
    while (written < maxPages) {
      const r = this.#round(Math.min(WB_ROUND, maxPages - written));
      written += r.written;
      if (r.failed || r.written === 0) break;
    }
    return written;
  }

  /** Gives back the staging buffers at close. */
  release(): void {
    this.#pages = new Uint8Array(0);
    this.#views = [];
  }

  // Picks frames from the LRU tail with second chance, stages their pages sorted by (type, offset),
  // writes runs of adjacent slots with one pwrite each, then drops what was written.
  #round(maxPages: number): { written: number; failed: boolean } {
    const z = this.#ctx.zbud;
    const handles = this.#handles;
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
    const keys = this.#keys.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const h = handles[i];
      keys[i] = (z.ownerType(h) * TYPE_SCALE + z.ownerOffset(h)) * WB_KEY_SLOTS + i;
    }
    keys.sort();
    this.#stageRoom(n);
    const pages = this.#pages;
    const views = this.#views;
    // Page k of the staging buffer holds the k-th page in key order; a failed decompress breaks runs.
    for (let k = 0; k < n; k++) {
      const h = handles[keys[k] % WB_KEY_SLOTS];
      const size = z.size(h);
      if (size === PAGE_SIZE) {
        copyBytes(z.buf(h), z.byteOffset(h), pages, k * PAGE_SIZE, PAGE_SIZE);
      } else if (!this.#ctx.codec.decompress(z.buf(h), z.byteOffset(h), size, views[k])) {
        this.#ctx.counters.decompress_fail++;
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
      const info = this.#pers.infos[type];
      const done = info ? this.#pwrite(info.fd, pages, k, end - k, first) : 0;
      for (let j = k; j < k + done; j++) this.#dropWritten(type, handles[keys[j] % WB_KEY_SLOTS]);
      written += done;
      if (done < end - k) {
        // The page the failed pwrite started at; the rest of the run was not tried on its own.
        this.#ctx.counters.reject_reclaim_fail++;
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
    const idx = this.#pers.areas[type];
    const offset = this.#ctx.zbud.ownerOffset(h);
    if (!idx || idx.kind[offset] !== ZBUD || idx.val[offset] !== h) return;
    this.#pers.drop(idx, offset);
    this.#ctx.counters.written_back_pages++;
  }

  #stageRoom(n: number): void {
    if (this.#views.length >= n) return;
    const cap = Math.max(n, 64);
    this.#pages = new Uint8Array(cap * PAGE_SIZE);
    this.#views = [];
    for (let k = 0; k < cap; k++) this.#views.push(this.#pages.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
  }
}
