// The remote tier's pick and finish for the pure-JS pool (the native pool's pool_remote.cc; the
// protocol is lib/backends/remote/remote-pool.ts). A picked entry leaves its area's LRU and stays
// loadable. JS is single-threaded, but the batch's network round trip is not: stores, invalidates
// and exclusive loads run meanwhile and drop picked entries without waiting. Comparing the entry
// at finish is not enough (a store over it can land in the same allocator slot with the same
// size), so PersistentPool.drop() reports every drop of a picked entry here, and finish skips
// those. One batch at a time; a batch is at most a few hundred entries, so the linear scan of a
// drop costs less than the store that caused it.
import { PAGE_SIZE } from '../types';
import type { RemotePool } from '../remote/remote-pool';
import { isObject, type AreaIndex } from './area-index';
import { copyBytes } from './codec';
import type { ZcacheContext } from './context';
import type { PersistentPool } from './persistent';

export class RemotePicks implements RemotePool {
  readonly #ctx: ZcacheContext;
  readonly #pers: PersistentPool;
  /** The picked batch: area index object, offset, and whether it was dropped since. */
  #areas: AreaIndex[] = [];
  #offsets = new Uint32Array(0);
  #dropped = new Uint8Array(0);
  #n = 0;
  #active = false;

  constructor(ctx: ZcacheContext, pers: PersistentPool) {
    this.#ctx = ctx;
    this.#pers = pers;
  }

  remotePick(payloads: Uint8Array, lengths: Uint32Array, types: Uint32Array, offsets: Uint32Array): number {
    if (this.#active || this.#ctx.closed) return 0;
    const max = lengths.length;
    if (this.#offsets.length < max) {
      this.#offsets = new Uint32Array(max);
      this.#dropped = new Uint8Array(max);
    }
    const areas = this.#pers.areas;
    const alloc = this.#ctx.alloc;
    let n = 0;
    // Coldest first, area by area in turn, so that every area gives its share.
    for (let progress = true; progress && n < max; ) {
      progress = false;
      for (let type = 0; type < areas.length && n < max; type++) {
        const idx = areas[type];
        if (!idx || idx.objects === 0 || !this.#pers.infos[type]) continue;
        const off = idx.lru.take(idx.holdsObject);
        if (off < 0) continue;
        const size = idx.meta[off];
        copyBytes(alloc.map(idx.val[off], size), alloc.mapOffset, payloads, n * PAGE_SIZE, size);
        lengths[n] = size;
        types[n] = type;
        offsets[n] = off;
        this.#areas[n] = idx;
        this.#offsets[n] = off;
        this.#dropped[n] = 0;
        n++;
        progress = true;
      }
    }
    this.#n = n;
    this.#active = n > 0;
    return n;
  }

  remoteFinish(ok: Uint8Array, committed: Uint8Array): number {
    let done = 0;
    // Back to the old end in reverse pick order, so the coldest is the oldest again.
    for (let i = this.#n; i-- > 0; ) {
      const idx = this.#areas[i];
      const off = this.#offsets[i];
      if (i < committed.length) committed[i] = 0;
      if (this.#dropped[i] || this.#pers.areas.indexOf(idx) < 0 || !isObject(idx.meta[off])) continue;
      if (i < ok.length && ok[i]) {
        this.#pers.drop(idx, off);
        committed[i] = 1;
        done++;
      } else {
        idx.lru.putBackOldest(off);
      }
    }
    this.#areas.length = 0;
    this.#n = 0;
    this.#active = false;
    if (done > 0) this.#ctx.alloc.compact();
    return done;
  }

  decompress(payload: Uint8Array, into: Uint8Array): boolean {
    if (payload.length === PAGE_SIZE) {
      into.set(payload);
      return true;
    }
    return this.#ctx.codec.decompress(payload, 0, payload.length, into);
  }

  /** PersistentPool.drop() of (idx, offset): marks the pick, if it is one, as gone. */
  dropped(idx: AreaIndex, offset: number): void {
    if (!this.#active) return;
    for (let i = 0; i < this.#n; i++) if (this.#offsets[i] === offset && this.#areas[i] === idx) this.#dropped[i] = 1;
  }
}
