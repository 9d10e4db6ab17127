// SwapCache's store (see tiers.ts for the layers): get, set, delete and ttl over the tiers.
import { PAGE_SIZE } from '../../backends/types';
import { ExpiryClock, ExpiryHeap } from './expiry';
import { M_EXPIRES, M_EXISTED, M_FLAGS, M_LENGTH, M_RUN, M_START, M_TTL, RESIDENT } from './key-index';
import { NO_RUN } from './resident-ring';
import { Moves } from './moves';
import type { DisposeReason, StoreConfig } from './tiers';

export type { DisposeReason, Removed, StoreConfig } from './tiers';

/** Where get() found a value. */
export const enum Tier {
  Miss = 0,
  Resident = 1,
  Pool = 2,
  File = 3,
}

export interface GetOptions {
  allowStale: boolean;
  updateAgeOnGet: boolean;
  /** peek: no recency update, no swap-in. */
  peek: boolean;
}

const SWEEP_PER_SET = 4;
// Runs are compacted once swap space exceeds 1.5x the data (resident values may keep clean
// copies in it) by more than this.
const COMPACT_SLACK = 1 << 20;

export class Store extends Moves {
  /** Set by get(): the value found (a view, valid until the next call) and its object, if any. */
  hitBytes: Uint8Array | null = null;
  hitObj: unknown = undefined;
  /** Set by get(): the value was expired (and is returned only because allowStale was given). */
  hitStale = false;
  /** Set by get(): the value's resident slot now, or -1. */
  hitSlot = -1;
  /** Whether set() sweeps a few expired entries (off while stale values may still be wanted). */
  autoSweep = true;
  #clock: ExpiryClock;
  #heap = new ExpiryHeap();

  constructor(config: StoreConfig) {
    super(config);
    this.#clock = new ExpiryClock(config.now);
  }

  /** The current time on the cache's clock (moving the epoch when it must). */
  now(): number {
    let t = this.#clock.read();
    if (t < 0) {
      const delta = this.#clock.rebase();
      this.index.rebaseExpiry(delta);
      this.#heap.rebase(delta);
      const exp = this.ring.expires;
      for (const slot of this.resident.values()) if (exp[slot] !== 0) exp[slot] = exp[slot] > delta ? exp[slot] - delta : 1;
      t = this.#clock.read();
    }
    return t;
  }

  /** Whether any entry may carry an expiry time (so reads must look at the clock). */
  get timed(): boolean {
    return this.#heap.size > 0;
  }

  residentKeys(): IterableIterator<string> {
    return this.resident.keys();
  }

  // ---- reads ----

  /** Looks `key` up; on a hit sets hitBytes/hitObj (and hitStale) and returns the tier. */
  get(key: string, o: GetOptions): Tier {
    this.hitStale = false;
    this.hitSlot = -1;
    const slot = this.resident.get(key);
    const now = this.#heap.size > 0 ? this.now() : 0;
    if (slot !== undefined) {
      const r = this.ring;
      const exp = r.expires[slot];
      if (exp !== 0 && exp <= now && !this.#stale(key, o)) return Tier.Miss;
      if (!o.peek) {
        r.ref[slot] = 1;
        if (o.updateAgeOnGet && r.ttl[slot] !== 0 && !this.hitStale) this.#setExpiry(slot, r.id[slot], now + r.ttl[slot]);
        this.stats.gets_resident++;
      }
      this.hitBytes = r.bytes.subarray(r.pos[slot], r.pos[slot] + r.len[slot]);
      this.hitObj = r.obj[slot];
      if (this.hitStale && !o.peek) this.removeResident(slot, 'expire');
      else this.hitSlot = slot;
      return Tier.Resident;
    }
    const id = this.index.find(key);
    if (id < 0) {
      if (!o.peek) this.stats.misses++;
      return Tier.Miss;
    }
    const m = this.index.meta;
    if (m[M_EXPIRES] !== 0 && m[M_EXPIRES] <= now && !this.#stale(key, o)) return Tier.Miss;
    const bytes = this.runs.read(m[M_RUN], m[M_START], m[M_LENGTH]);
    return this.#serveSwapped(key, id, bytes, this.runs.lastFromFile ? Tier.File : Tier.Pool, o, now);
  }

  /**
   * Completes a get() whose bytes were read asynchronously: the caller has just found `key` at id
   * (index.meta holds its record) and checked that the read is of its current value.
   */
  adopt(key: string, id: number, bytes: Uint8Array, fromFile: boolean, o: GetOptions): Tier {
    this.hitStale = false;
    this.hitSlot = -1;
    const now = this.#heap.size > 0 ? this.now() : 0;
    const m = this.index.meta;
    if (m[M_EXPIRES] !== 0 && m[M_EXPIRES] <= now && !this.#stale(key, o)) return Tier.Miss;
    return this.#serveSwapped(key, id, bytes, fromFile ? Tier.File : Tier.Pool, o, now);
  }

  /** The earliest expiry time on the heap (Infinity when none). */
  nextExpiry(): number {
    return this.#heap.peekTime();
  }

  // index.meta holds the record of `key` (id), whose value is `bytes`.
  #serveSwapped(key: string, id: number, bytes: Uint8Array, tier: Tier, o: GetOptions, now: number): Tier {
    const m = this.index.meta;
    const run = m[M_RUN];
    const start = m[M_START];
    const length = m[M_LENGTH];
    let exp = m[M_EXPIRES];
    const ttl = m[M_TTL];
    this.hitBytes = bytes;
    this.hitObj = undefined;
    if (o.peek) return tier;
    if (this.hitStale) {
      this.removeSwapped(key, id, run, length, 'expire', bytes);
      return tier;
    }
    if (tier === Tier.File) this.stats.gets_file++;
    else this.stats.gets_pool++;
    if (o.updateAgeOnGet && ttl !== 0) {
      exp = now + ttl;
      this.#heap.push(exp, id);
    }
    if (length <= this.residentMax) {
      const slot = this.swapIn(key, id, bytes, run, start, exp, ttl);
      if (slot >= 0) {
        this.hitBytes = this.ring.bytes.subarray(this.ring.pos[slot], this.ring.pos[slot] + length);
        this.hitSlot = slot;
      }
    }
    else if (exp !== m[M_EXPIRES]) this.index.update(id, run, start, length, 0, exp, ttl);
    return tier;
  }

  /** Whether `key` has a value that is not expired. */
  has(key: string): boolean {
    const now = this.#heap.size > 0 ? this.now() : 0;
    const slot = this.resident.get(key);
    let exp: number;
    if (slot !== undefined) exp = this.ring.expires[slot];
    else if (this.index.find(key) >= 0) exp = this.index.meta[M_EXPIRES];
    else return false;
    return exp === 0 || exp > now;
  }

  /** Milliseconds until `key` expires: Infinity without a ttl, 0 when absent or expired. */
  remainingTtl(key: string): number {
    const slot = this.resident.get(key);
    let exp: number;
    if (slot !== undefined) exp = this.ring.expires[slot];
    else if (this.index.find(key) >= 0) exp = this.index.meta[M_EXPIRES];
    else return 0;
    return exp === 0 ? Infinity : Math.max(0, exp - this.now());
  }

  // The entry is expired: with allowStale it is served once more and then removed, else removed.
  #stale(key: string, o: GetOptions): boolean {
    if (o.allowStale) {
      this.hitStale = true;
      return true;
    }
    if (!o.peek) {
      this.delete(key, 'expire');
      this.stats.misses++;
    }
    return false;
  }

  // ---- writes ----

  /** Stores `bytes` (copied) with an optional object for the resident tier; ttl 0 = none. */
  set(key: string, bytes: Uint8Array, obj: unknown, ttl: number): void {
    const length = bytes.byteLength;
    const exp = ttl > 0 ? this.now() + ttl : 0;
    const old = this.track.values ? this.currentValue(key) : null;
    if (length <= this.residentMax) this.#setResident(key, bytes, obj, exp, ttl);
    else this.#setSwapped(key, bytes, exp, ttl);
    if (exp !== 0) this.#heap.push(exp, this.#idOf(key));
    if (old || this.track.keys) this.report(key, old, 'set');
    if (this.autoSweep && this.#heap.size > 0) this.sweep(SWEEP_PER_SET);
    if (this.totalBytes > this.maxBytes) this.enforceMaxBytes(key);
    else if (this.keepClean && this.runs.pages * PAGE_SIZE > 1.5 * (this.swappedBytes + this.ring.liveBytes) + COMPACT_SLACK) this.compactOne();
  }

  #setResident(key: string, bytes: Uint8Array, obj: unknown, exp: number, ttl: number): void {
    const length = bytes.byteLength;
    this.makeRoom(length, key.length);
    const r = this.ring;
    if (!r.admits(length, key.length)) {
      this.#setSwapped(key, bytes, exp, ttl);
      return;
    }
    const oldSlot = this.resident.get(key);
    let slot: number;
    if (oldSlot !== undefined) {
      // Same slot number, new record: the index record (RESIDENT, slot) stays as it is.
      if (r.cleanRun[oldSlot] !== NO_RUN) this.runs.release(r.cleanRun[oldSlot], r.len[oldSlot]);
      slot = r.rewrite(oldSlot, length);
    } else {
      slot = r.append(length, 0, key);
      let id: number;
      try {
        id = this.index.put(key, slot, 0, length, RESIDENT, exp, ttl);
      } catch (err) {
        r.free(slot);
        throw err;
      }
      const m = this.index.meta;
      if (m[M_EXISTED] && !(m[M_FLAGS] & RESIDENT)) {
        this.runs.release(m[M_RUN], m[M_LENGTH]);
        this.swappedBytes -= m[M_LENGTH];
      }
      r.id[slot] = id;
      this.resident.set(key, slot);
    }
    r.bytes.set(bytes, r.pos[slot]);
    r.obj[slot] = obj;
    r.expires[slot] = exp;
    r.ttl[slot] = ttl;
  }

  // A value too big for the resident tier goes straight to a run of its own.
  #setSwapped(key: string, bytes: Uint8Array, exp: number, ttl: number): void {
    const oldSlot = this.resident.get(key);
    let id = oldSlot !== undefined ? this.ring.id[oldSlot] : this.index.find(key);
    const created = id < 0;
    if (created) id = this.index.put(key, 0, 0, 0, 0, 0, 0); // a placeholder until the run is written
    const oldRun = this.index.meta[M_RUN];
    const oldLength = this.index.meta[M_LENGTH];
    let run: number;
    try {
      run = this.writeSingle(id, bytes, 0, bytes.byteLength);
    } catch (err) {
      if (created) this.index.remove(id);
      throw err;
    }
    if (oldSlot !== undefined) {
      this.dropSlot(oldSlot);
    } else if (!created) {
      this.runs.release(oldRun, oldLength);
      this.swappedBytes -= oldLength;
    }
    this.index.update(id, run, 0, bytes.byteLength, 0, exp, ttl);
    this.swappedBytes += bytes.byteLength;
  }

  delete(key: string, reason: DisposeReason = 'delete'): boolean {
    const slot = this.resident.get(key);
    if (slot !== undefined) {
      this.removeResident(slot, reason);
      return true;
    }
    if (this.track.values) {
      const id = this.index.find(key);
      if (id < 0) return false;
      const m = this.index.meta;
      this.removeSwapped(key, id, m[M_RUN], m[M_LENGTH], reason, this.runs.read(m[M_RUN], m[M_START], m[M_LENGTH]));
      return true;
    }
    const id = this.index.removeKey(key);
    if (id < 0) return false;
    this.runs.release(this.index.meta[M_RUN], this.index.meta[M_LENGTH]);
    this.swappedBytes -= this.index.meta[M_LENGTH];
    this.count(reason);
    if (this.track.keys) this.report(key, null, reason);
    return true;
  }

  /** Removes up to `limit` entries whose expiry time has passed. Returns how many. */
  sweep(limit: number): number {
    const heap = this.#heap;
    if (heap.peekTime() === Infinity) return 0;
    const now = this.now();
    let n = 0;
    while (n < limit && heap.peekTime() <= now) {
      const time = heap.peekTime();
      const id = heap.peekId();
      heap.pop();
      if (this.#expiryOf(id) !== time) continue;
      this.delete(this.index.keyOf(id), 'expire');
      n++;
    }
    if (heap.size > 2 * this.index.size + 1024) heap.retain((time, id) => this.#expiryOf(id) === time);
    return n;
  }

  /** Removes every key; with `report`, each is reported as deleted (values read if tracked). */
  clear(report: boolean): void {
    if (report) {
      for (const key of [...this.resident.keys()]) this.delete(key);
      for (let id = this.index.next(0); id >= 0; id = this.index.next(0)) this.delete(this.index.keyOf(id));
    }
    this.index.clear();
    this.ring.clear();
    this.resident.clear();
    this.runs.clear();
    this.#heap.clear();
    this.swappedBytes = 0;
  }

  /** Frees the index and the ring now; the store is unusable afterwards. */
  close(): void {
    this.clear(false);
    this.index.close();
    this.ring.release();
  }

  // ---- moving values between tiers ----

  #idOf(key: string): number {
    const slot = this.resident.get(key);
    return slot !== undefined ? this.ring.id[slot] : this.index.find(key);
  }

  #expiryOf(id: number): number {
    if (!this.index.findId(id)) return -1;
    const m = this.index.meta;
    return m[M_FLAGS] & RESIDENT ? this.ring.expires[m[M_RUN]] : m[M_EXPIRES];
  }

  #setExpiry(slot: number, id: number, exp: number): void {
    this.ring.expires[slot] = exp;
    this.#heap.push(exp, id);
  }
}
