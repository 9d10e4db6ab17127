// The machinery under SwapCache: where each value is and how it moves between the resident
// ring and swap runs, within the budgets. SwapCache (../swap-cache.ts) validates arguments,
// serializes, and implements the lru-cache-style API on top of it.
//
// Every key is in the key index (native or typed arrays). A resident value also has a ring slot
// (the index record says RESIDENT and holds the slot) and an entry in `#resident`, a Map from key
// to slot that is the only per-key JS state, and only for resident keys. A swapped value is a
// (run, start, length) in the index record.
//
// Invariants: the resident tier never holds more than the ring's capacity (residentBytes);
// values larger than a quarter of it are never resident; every operation that can fail (swap
// space, I/O, memory for the index) happens before the old state is let go, so a failed call
// leaves each key with a value it had (eviction may have moved other values to swap, which
// changes where they are, never what they are).
import type { SwapArea } from '../../swap/area';
import { ExpiryClock, ExpiryHeap } from './expiry';
import { createKeyIndex, M_EXPIRES, M_EXISTED, M_FLAGS, M_LENGTH, M_RUN, M_START, M_TTL, RESIDENT, type KeyIndex, type KeyIndexKind } from './key-index';
import { NO_RUN, recordBytes, ResidentRing } from './resident-ring';
import { MAX_RUN_MEMBERS, RunBuilder, SwapRuns } from './runs';

export type DisposeReason = 'evict' | 'set' | 'delete' | 'expire';

/** A value that left the cache: its bytes (a copy) or object, when the store was asked to keep them. */
export interface Removed {
  key: string;
  bytes: Uint8Array | null;
  obj: unknown;
  reason: DisposeReason;
}

export interface StoreConfig {
  area: SwapArea;
  residentBytes: number;
  /** Cap on resident + swapped value bytes; Infinity keeps everything (map mode). */
  maxBytes: number;
  keyIndex: KeyIndexKind;
  maxKeyBytes: number;
  now: () => number;
}

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

export class Store {
  readonly index: KeyIndex;
  readonly ring: ResidentRing;
  readonly runs: SwapRuns;
  readonly maxBytes: number;
  /** Values longer than this skip the resident tier. */
  readonly residentMax: number;
  swappedBytes = 0;
  /** Set by get(): the value found (a view, valid until the next call) and its object, if any. */
  hitBytes: Uint8Array | null = null;
  hitObj: unknown = undefined;
  /** Set by get(): the value was expired (and is returned only because allowStale was given). */
  hitStale = false;
  /** Set by get(): the value's resident slot now, or -1. */
  hitSlot = -1;
  /** What left the cache during the last call, when `track` says someone wants to know. */
  removed: Removed[] = [];
  /** Whether removals must be reported with keys (in-flight fetches) and values (dispose). */
  track: { keys: boolean; values: boolean } = { keys: false, values: false };
  /** Whether set() sweeps a few expired entries (off while stale values may still be wanted). */
  autoSweep = true;
  stats = { gets_resident: 0, gets_pool: 0, gets_file: 0, misses: 0, evicted_values: 0, dropped_values: 0, expired_values: 0 };
  #resident = new Map<string, number>();
  #builder = new RunBuilder();
  #pendingSlots = new Uint32Array(MAX_RUN_MEMBERS);
  #pendingStarts = new Uint32Array(MAX_RUN_MEMBERS);
  #relocate = new Uint32Array(MAX_RUN_MEMBERS * 5);
  #lengths = new Uint32Array(MAX_RUN_MEMBERS);
  #clock: ExpiryClock;
  #heap = new ExpiryHeap();
  #slack: number;
  // Map mode keeps the swap copy of a value read back (the kernel's swap cache); with maxBytes
  // runs are dropped oldest first, and a copy in an old run would break that order.
  #keepClean: boolean;

  constructor(config: StoreConfig) {
    this.index = createKeyIndex(config.keyIndex, config.maxKeyBytes);
    try {
      this.ring = new ResidentRing(config.residentBytes);
    } catch (err) {
      this.index.close();
      throw err;
    }
    this.runs = new SwapRuns(config.area);
    this.maxBytes = config.maxBytes;
    this.#keepClean = config.maxBytes === Infinity;
    this.residentMax = Math.floor(this.ring.capacity / 4);
    this.#slack = Math.min(this.ring.capacity >>> 3, 256 << 10);
    this.#clock = new ExpiryClock(config.now);
  }

  get size(): number {
    return this.index.size;
  }

  get totalBytes(): number {
    return this.ring.liveBytes + this.swappedBytes;
  }

  /** The current time on the cache's clock (moving the epoch when it must). */
  now(): number {
    let t = this.#clock.read();
    if (t < 0) {
      const delta = this.#clock.rebase();
      this.index.rebaseExpiry(delta);
      this.#heap.rebase(delta);
      const exp = this.ring.expires;
      for (const slot of this.#resident.values()) if (exp[slot] !== 0) exp[slot] = exp[slot] > delta ? exp[slot] - delta : 1;
      t = this.#clock.read();
    }
    return t;
  }

  /** Whether any entry may carry an expiry time (so reads must look at the clock). */
  get timed(): boolean {
    return this.#heap.size > 0;
  }

  residentSlot(key: string): number | undefined {
    return this.#resident.get(key);
  }

  residentKeys(): IterableIterator<string> {
    return this.#resident.keys();
  }

  // ---- reads ----

  /** Looks `key` up; on a hit sets hitBytes/hitObj (and hitStale) and returns the tier. */
  get(key: string, o: GetOptions): Tier {
    this.hitStale = false;
    this.hitSlot = -1;
    const slot = this.#resident.get(key);
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
      if (this.hitStale && !o.peek) this.#removeResident(slot, 'expire');
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
      this.#removeSwapped(key, id, run, length, 'expire', bytes);
      return tier;
    }
    if (tier === Tier.File) this.stats.gets_file++;
    else this.stats.gets_pool++;
    if (o.updateAgeOnGet && ttl !== 0) {
      exp = now + ttl;
      this.#heap.push(exp, id);
    }
    if (length <= this.residentMax) this.#swapIn(key, id, bytes, run, start, exp, ttl);
    else if (exp !== m[M_EXPIRES]) this.index.update(id, run, start, length, 0, exp, ttl);
    return tier;
  }

  /** Whether `key` has a value that is not expired. */
  has(key: string): boolean {
    const now = this.#heap.size > 0 ? this.now() : 0;
    const slot = this.#resident.get(key);
    let exp: number;
    if (slot !== undefined) exp = this.ring.expires[slot];
    else if (this.index.find(key) >= 0) exp = this.index.meta[M_EXPIRES];
    else return false;
    return exp === 0 || exp > now;
  }

  /** Milliseconds until `key` expires: Infinity without a ttl, 0 when absent or expired. */
  remainingTtl(key: string): number {
    const slot = this.#resident.get(key);
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
    const old = this.track.values ? this.#valueOf(key) : null;
    if (length <= this.residentMax) this.#setResident(key, bytes, obj, exp, ttl);
    else this.#setSwapped(key, bytes, exp, ttl);
    if (exp !== 0) this.#heap.push(exp, this.#idOf(key));
    if (old || this.track.keys) this.#report(key, old, 'set');
    if (this.autoSweep && this.#heap.size > 0) this.sweep(SWEEP_PER_SET);
    if (this.totalBytes > this.maxBytes) this.#enforceMaxBytes(key);
  }

  #setResident(key: string, bytes: Uint8Array, obj: unknown, exp: number, ttl: number): void {
    const length = bytes.byteLength;
    this.#makeRoom(length);
    const r = this.ring;
    if (!r.fits(length)) {
      this.#setSwapped(key, bytes, exp, ttl);
      return;
    }
    const oldSlot = this.#resident.get(key);
    let slot: number;
    if (oldSlot !== undefined) {
      // Same slot number, new record: the index record (RESIDENT, slot) stays as it is.
      if (r.cleanRun[oldSlot] !== NO_RUN) this.runs.release(r.cleanRun[oldSlot]);
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
        this.runs.release(m[M_RUN]);
        this.swappedBytes -= m[M_LENGTH];
      }
      r.id[slot] = id;
      this.#resident.set(key, slot);
    }
    r.bytes.set(bytes, r.pos[slot]);
    r.obj[slot] = obj;
    r.expires[slot] = exp;
    r.ttl[slot] = ttl;
  }

  // A value too big for the resident tier goes straight to a run of its own.
  #setSwapped(key: string, bytes: Uint8Array, exp: number, ttl: number): void {
    const oldSlot = this.#resident.get(key);
    let id = oldSlot !== undefined ? this.ring.id[oldSlot] : this.index.find(key);
    const created = id < 0;
    if (created) id = this.index.put(key, NO_RUN, 0, 0, 0, 0, 0);
    const oldRun = this.index.meta[M_RUN];
    const oldLength = this.index.meta[M_LENGTH];
    let run: number;
    try {
      run = this.#writeSingle(id, bytes, 0, bytes.byteLength);
    } catch (err) {
      if (created) this.index.remove(id);
      throw err;
    }
    if (oldSlot !== undefined) {
      this.#dropSlot(oldSlot);
    } else if (!created) {
      this.runs.release(oldRun);
      this.swappedBytes -= oldLength;
    }
    this.index.update(id, run, 0, bytes.byteLength, 0, exp, ttl);
    this.swappedBytes += bytes.byteLength;
  }

  delete(key: string, reason: DisposeReason = 'delete'): boolean {
    const slot = this.#resident.get(key);
    if (slot !== undefined) {
      this.#removeResident(slot, reason);
      return true;
    }
    if (this.track.values) {
      const id = this.index.find(key);
      if (id < 0) return false;
      const m = this.index.meta;
      this.#removeSwapped(key, id, m[M_RUN], m[M_LENGTH], reason, this.runs.read(m[M_RUN], m[M_START], m[M_LENGTH]));
      return true;
    }
    const id = this.index.removeKey(key);
    if (id < 0) return false;
    this.runs.release(this.index.meta[M_RUN]);
    this.swappedBytes -= this.index.meta[M_LENGTH];
    this.#count(reason);
    if (this.track.keys) this.#report(key, null, reason);
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
      for (const key of [...this.#resident.keys()]) this.delete(key);
      for (let id = this.index.next(0); id >= 0; id = this.index.next(0)) this.delete(this.index.keyOf(id));
    }
    this.index.clear();
    this.ring.clear();
    this.#resident.clear();
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

  // Makes room in the ring for a record of `length` bytes plus some slack, so that referenced
  // records at the tail can be given their second chance instead of leaving. Values without a
  // swap copy leave in runs (written from the ring through one reused buffer); values with a
  // clean copy just drop their resident bytes.
  #makeRoom(length: number): void {
    const r = this.ring;
    const need = recordBytes(length) + this.#slack;
    if (r.fits(length) && r.freeBytes >= need) return;
    const b = this.#builder;
    b.reset();
    try {
      // The first pass clears reference bits as it goes, so a second one always frees room.
      for (let pass = 0; pass < 2; pass++) {
        let visited = 0;
        const total = r.count;
        for (let slot = r.tailSlot(); slot >= 0 && visited < total; visited++) {
          const next = r.nextSlot(slot);
          if (r.ref[slot] && r.moveToHead(slot)) {
            slot = next;
            continue;
          }
          r.ref[slot] = 0;
          if (r.cleanRun[slot] !== NO_RUN) {
            this.#unresidentClean(slot);
          } else if (RunBuilder.single(r.len[slot])) {
            this.#flush();
            this.#evictSingle(slot);
          } else {
            if (!b.canAdd(r.len[slot])) {
              this.#flush();
              if (r.fits(length) && r.freeBytes >= need) return;
            }
            this.#pendingSlots[b.count] = slot;
            this.#pendingStarts[b.count] = b.add(r.id[slot], r.bytes, r.pos[slot], r.len[slot]);
          }
          if (b.count === 0 && r.fits(length) && r.freeBytes >= need) return;
          slot = next;
        }
        this.#flush();
        if (r.fits(length)) return;
      }
    } finally {
      b.reset();
    }
  }

  // Writes the pending run and lets its values go from the ring.
  #flush(): void {
    const b = this.#builder;
    const n = b.count;
    if (n === 0) return;
    const run = this.runs.write(b.finish(), n);
    const r = this.ring;
    const e = this.#relocate;
    for (let i = 0; i < n; i++) {
      const slot = this.#pendingSlots[i];
      e[i * 5] = r.id[slot];
      e[i * 5 + 1] = this.#pendingStarts[i];
      e[i * 5 + 2] = r.len[slot];
      e[i * 5 + 3] = r.expires[slot];
      e[i * 5 + 4] = r.ttl[slot];
    }
    this.index.relocate(e, n, run);
    for (let i = 0; i < n; i++) {
      const slot = this.#pendingSlots[i];
      this.swappedBytes += r.len[slot];
      this.#resident.delete(r.key[slot]);
      r.free(slot);
    }
    this.stats.evicted_values += n;
    b.reset();
  }

  #evictSingle(slot: number): void {
    const r = this.ring;
    const run = this.#writeSingle(r.id[slot], r.bytes, r.pos[slot], r.len[slot]);
    this.index.update(r.id[slot], run, 0, r.len[slot], 0, r.expires[slot], r.ttl[slot]);
    this.swappedBytes += r.len[slot];
    this.#resident.delete(r.key[slot]);
    r.free(slot);
    this.stats.evicted_values++;
  }

  #writeSingle(id: number, src: Uint8Array, from: number, length: number): number {
    const b = this.#builder;
    b.reset();
    b.reserveSingle(length);
    b.add(id, src, from, length);
    try {
      return this.runs.write(b.finish(), 1);
    } finally {
      b.reset();
    }
  }

  #unresidentClean(slot: number): void {
    const r = this.ring;
    this.index.update(r.id[slot], r.cleanRun[slot], r.cleanStart[slot], r.len[slot], 0, r.expires[slot], r.ttl[slot]);
    this.swappedBytes += r.len[slot];
    this.#resident.delete(r.key[slot]);
    r.free(slot);
    this.stats.evicted_values++;
  }

  // A swapped value read by get() becomes resident (when there is room: a full swap area only
  // means it is served from swap and stays there).
  #swapIn(key: string, id: number, bytes: Uint8Array, run: number, start: number, exp: number, ttl: number): void {
    const length = bytes.byteLength;
    try {
      this.#makeRoom(length);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_TMEM_SWAP_FULL') {
        this.index.update(id, run, start, length, 0, exp, ttl);
        return;
      }
      throw err;
    }
    const r = this.ring;
    const slot = r.append(length, id, key);
    r.bytes.set(bytes, r.pos[slot]);
    r.expires[slot] = exp;
    r.ttl[slot] = ttl;
    if (this.#keepClean) {
      r.cleanRun[slot] = run;
      r.cleanStart[slot] = start;
    } else {
      this.runs.release(run);
    }
    this.swappedBytes -= length;
    this.index.update(id, slot, 0, length, RESIDENT, exp, ttl);
    this.#resident.set(key, slot);
    this.hitBytes = r.bytes.subarray(r.pos[slot], r.pos[slot] + length);
    this.hitSlot = slot;
  }

  // Over maxBytes: drop the oldest runs (least recently used values), then resident values from
  // the ring's tail, never `keep` (the value just set).
  #enforceMaxBytes(keep: string): void {
    const keepRun = this.#resident.has(keep) || this.index.find(keep) < 0 ? -1 : this.index.meta[M_RUN];
    while (this.totalBytes > this.maxBytes) {
      const run = this.runs.oldest();
      if (run >= 0 && run !== keepRun) {
        this.#dropRun(run);
        continue;
      }
      let slot = this.ring.tailSlot();
      while (slot >= 0 && this.ring.key[slot] === keep) slot = this.ring.nextSlot(slot);
      if (slot < 0) return;
      this.#removeResident(slot, 'evict');
    }
  }

  #dropRun(run: number): void {
    const ids = this.runs.members(run);
    let n: number;
    if (this.track.keys || this.track.values) {
      n = 0;
      for (const id of ids) {
        if (!this.index.findId(id) || this.index.meta[M_FLAGS] & RESIDENT || this.index.meta[M_RUN] !== run) continue;
        const m = this.index.meta;
        const key = this.index.keyOf(id);
        const bytes = this.track.values ? this.runs.read(run, m[M_START], m[M_LENGTH]).slice() : null;
        this.swappedBytes -= m[M_LENGTH];
        this.index.remove(id);
        this.#report(key, bytes ? { bytes, obj: undefined } : null, 'evict');
        n++;
      }
    } else {
      n = this.index.removeIfRun(ids, ids.length, run, this.#lengths);
      for (let i = 0; i < n; i++) this.swappedBytes -= this.#lengths[i];
    }
    this.runs.free(run);
    this.stats.dropped_values += n;
  }

  #removeResident(slot: number, reason: DisposeReason): void {
    const r = this.ring;
    const key = r.key[slot];
    const old = this.track.values ? { bytes: r.bytes.slice(r.pos[slot], r.pos[slot] + r.len[slot]), obj: r.obj[slot] } : null;
    this.index.remove(r.id[slot]);
    this.#dropSlot(slot);
    this.#count(reason);
    if (old || this.track.keys) this.#report(key, old, reason);
  }

  #removeSwapped(key: string, id: number, run: number, length: number, reason: DisposeReason, bytes: Uint8Array): void {
    const old = this.track.values ? { bytes: bytes.slice(), obj: undefined } : null;
    this.index.remove(id);
    this.runs.release(run);
    this.swappedBytes -= length;
    this.#count(reason);
    if (old || this.track.keys) this.#report(key, old, reason);
  }

  #dropSlot(slot: number): void {
    const r = this.ring;
    if (r.cleanRun[slot] !== NO_RUN) this.runs.release(r.cleanRun[slot]);
    this.#resident.delete(r.key[slot]);
    r.free(slot);
    r.maybeDiscard();
  }

  #count(reason: DisposeReason): void {
    if (reason === 'expire') this.stats.expired_values++;
    else if (reason === 'evict') this.stats.dropped_values++;
  }

  #report(key: string, old: { bytes: Uint8Array | null; obj: unknown } | null, reason: DisposeReason): void {
    this.removed.push({ key, bytes: old ? old.bytes : null, obj: old ? old.obj : undefined, reason });
  }

  // The current value of `key` as a copy (for dispose), or null.
  #valueOf(key: string): { bytes: Uint8Array | null; obj: unknown } | null {
    const slot = this.#resident.get(key);
    const r = this.ring;
    if (slot !== undefined) return { bytes: r.bytes.slice(r.pos[slot], r.pos[slot] + r.len[slot]), obj: r.obj[slot] };
    if (this.index.find(key) < 0) return null;
    const m = this.index.meta;
    return { bytes: this.runs.read(m[M_RUN], m[M_START], m[M_LENGTH]).slice(), obj: undefined };
  }

  #idOf(key: string): number {
    const slot = this.#resident.get(key);
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
