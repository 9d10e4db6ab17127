// SwapCache: a key → value cache that holds far more than the process keeps in memory. Hot values
// stay resident in a ring buffer of `residentBytes`; the rest are packed into runs and swapped
// out through a swap area (frontswap → the compressed pool → the swap file); the keys live in an
// index outside the V8 heap. The API follows lru-cache (ttl, allowStale, updateAgeOnGet,
// fetch/fetchMethod, peek, dispose, maxBytes) so that moving from it is a rename.
//
// This file validates arguments, (de)serializes, and runs dispose and fetch; where values are and
// how they move is swap-cache/store.ts.
import { PAGE_SIZE } from '../backends/types';
import type { SwapArea } from '../swap/area';
import { TmemError } from '../util/errors';
import { describe } from '../util/validate';
import { deserializeValue, plainBytes, serializeValue, type Serializer } from './serializer';
import { swapCacheAddon } from './swap-cache/addon';
import { Fetches } from './swap-cache/fetches';
import { M_FLAGS, M_LENGTH, M_RUN, M_START, RESIDENT } from './swap-cache/key-index';
import { iterateKeys, openStore, registerStats, type Owned } from './swap-cache/open';
import { checkTtl, parseOptions, type FetchOptions, type GetOptionsArg, type Parsed, type SetOptions, type SwapCacheOptions } from './swap-cache/options';
import { Store, Tier, type GetOptions } from './swap-cache/store';
import { copyValue } from './swap-cache/value-copies';

export type { DisposeReason, FetchMethod, FetchOptions, FetcherOptions, GetOptionsArg, SetOptions, SwapCacheOptions } from './swap-cache/options';

// Retries of getAsync when the value moved while its read was in flight, before it reads synchronously.
const ASYNC_RETRIES = 8;

export class SwapCache<V = Uint8Array> {
  readonly residentBudget: number;
  readonly maxKeyLength: number;
  /** The maxBytes option (Infinity when not set). */
  readonly maxBytes: number;
  #o: Parsed<V>;
  #store: Store;
  #area: SwapArea;
  #owned: Owned | null;
  #serializer: Serializer<V> | null;
  #fetches: Fetches<V> | null = null;
  #closed = false;
  #unregisterStats: () => void;
  #purgeTimer: NodeJS.Timeout | null = null;
  #getOpts: GetOptions = { allowStale: false, updateAgeOnGet: false, peek: false };

  constructor(options: SwapCacheOptions<V> = {}) {
    const o = parseOptions<V>(options);
    this.#o = o;
    this.residentBudget = o.residentBytes;
    this.maxKeyLength = o.maxKeyLength;
    this.maxBytes = o.maxBytes;
    this.#serializer = o.serializer;
    const opened = openStore(o);
    this.#store = opened.store;
    this.#area = opened.area;
    this.#owned = opened.owned;
    this.#store.track.values = o.dispose !== null;
    this.#store.autoSweep = !o.allowStale;
    if (o.fetchMethod) {
      this.#fetches = new Fetches<V>(o.fetchMethod, {
        store: (key, value, opts) => this.set(key, value, opts),
        dropStale: (key) => this.#ifOpen(() => this.delete(key)),
        onChange: (n) => {
          this.#store.track.keys = n > 0;
        },
      });
    }
    this.#unregisterStats = registerStats(() => this.stats());
  }

  /** Number of keys (expired entries not yet removed included, as in lru-cache). */
  get size(): number {
    return this.#store.size;
  }

  /** Bytes of values held resident. */
  get residentBytes(): number {
    return this.#store.ring.liveBytes;
  }

  /** Bytes of values that live only in swap (not resident). */
  get swappedBytes(): number {
    return this.#store.swappedBytes;
  }

  /** Bytes of all values held, resident and swapped (what maxBytes caps; lru-cache's name). */
  get calculatedSize(): number {
    return this.#store.totalBytes;
  }

  /** The swap area values are swapped to. */
  get area(): SwapArea {
    return this.#area;
  }

  /** Bytes the compressed pool holds for this cache's swap area. */
  get compressedBytes(): number {
    return this.#area.poolUsage.compressedBytes;
  }

  /** Swap pages of this cache's area that are held only in the swap file. */
  get filePages(): number {
    return this.#area.filePages;
  }

  /** Bytes of memory the key index uses (outside the V8 heap). */
  get indexBytes(): number {
    return this.#store.index.memoryBytes() + this.#store.runs.memoryBytes();
  }

  /** Accounting and per-tier counters, also in debugfs under swapcache/<n>/. */
  stats(): Record<string, number> {
    const s = this.#store;
    const pool = this.#area.active ? this.#area.poolUsage : { pages: 0, compressedBytes: 0 };
    const used = this.#area.active ? this.#area.usedPages : 0;
    return {
      keys: s.size,
      resident_bytes: s.ring.liveBytes,
      resident_capacity: s.ring.capacity,
      resident_charged_bytes: s.ring.chargedBytes,
      swapped_bytes: s.swappedBytes,
      index_bytes: this.#closed ? 0 : this.indexBytes,
      swap_pages: s.runs.pages,
      pool_pages: pool.pages,
      compressed_bytes: pool.compressedBytes,
      file_pages: used - pool.pages,
      ...s.stats,
    };
  }

  has(key: string): boolean {
    this.#live();
    return this.#store.has(this.#checkKey(key));
  }

  /** The value, or undefined. Swapped values are read back (from the pool or the file). */
  get(key: string, options?: GetOptionsArg): V | undefined {
    const slot = this.#store.residentSlot(key);
    // The hot path: a resident value with no ttl in play, default options.
    if (slot !== undefined && options === undefined && !this.#store.timed && !this.#closed) {
      const r = this.#store.ring;
      r.ref[slot] = 1;
      this.#store.stats.gets_resident++;
      const obj = r.obj[slot];
      if (obj !== undefined) return obj as V;
      return this.#decode(r.bytes.subarray(r.pos[slot], r.pos[slot] + r.len[slot]));
    }
    this.#live();
    this.#checkKey(key);
    return this.#get(key, this.#getOptions(options, false));
  }

  /** Like get(), without updating recency or bringing a swapped value back into memory. */
  peek(key: string, options?: { allowStale?: boolean }): V | undefined {
    this.#live();
    this.#checkKey(key);
    return this.#get(key, this.#getOptions(options, true));
  }

  /**
   * get() whose swap-file reads run on the libuv thread pool, so a slow disk never stalls the
   * event loop; resident and pool hits are answered at once. Correct against set/delete of the
   * key (or of any other) while the read is in flight: it answers with the value the key has
   * when the read completes.
   */
  async getAsync(key: string, options?: GetOptionsArg): Promise<V | undefined> {
    this.#live();
    this.#checkKey(key);
    const o = this.#getOptions(options, false);
    const s = this.#store;
    for (let attempt = 0; attempt < ASYNC_RETRIES; attempt++) {
      const id = s.residentSlot(key) === undefined ? s.index.find(key) : -1;
      const m = s.index.meta;
      if (id < 0 || (s.timed && s.remainingTtl(key) === 0)) return this.#get(key, o);
      const run = m[M_RUN];
      const start = m[M_START];
      const read = await s.runs.readAsync(run, start, m[M_LENGTH]);
      this.#live();
      if (read === null || s.residentSlot(key) !== undefined || s.index.find(key) !== id) continue;
      if (m[M_FLAGS] & RESIDENT || m[M_RUN] !== run || m[M_START] !== start) continue;
      if (s.adopt(key, id, read.bytes, read.fromFile, o) === Tier.Miss) return undefined;
      return this.#value(s.hitBytes!, s.hitObj, s.hitSlot);
    }
    return this.#get(key, o);
  }

  /**
   * Stores `value`. When making room needs swap space the area does not have, the call fails with
   * ERR_TMEM_SWAP_FULL and the key keeps its old value.
   */
  set(key: string, value: V, options?: SetOptions): this {
    this.#live();
    this.#checkKey(key);
    const ttl = options === undefined ? this.#o.ttl : checkTtl('ttl', (options as SetOptions | null)?.ttl, this.#o.ttl);
    const bytes = this.#serializer ? serializeValue(this.#serializer, value) : this.#checkBytes(value);
    const capacity = (this.#area.pages - 1) * PAGE_SIZE;
    if (bytes.byteLength > capacity) {
      throw new RangeError(`value of ${bytes.byteLength} bytes is larger than the swap area (${capacity} bytes)`);
    }
    if (bytes.byteLength > this.maxBytes) {
      throw new RangeError(`value of ${bytes.byteLength} bytes is larger than maxBytes (${this.maxBytes})`);
    }
    this.#fetches?.abort(key, new TmemError('ERR_TMEM_CLOSED', `fetch of '${key}' superseded by set()`));
    this.#store.set(key, bytes, this.#serializer ? value : undefined, ttl);
    this.#afterChange();
    return this;
  }

  delete(key: string): boolean {
    this.#live();
    this.#checkKey(key);
    this.#fetches?.abort(key, new TmemError('ERR_TMEM_CLOSED', `fetch of '${key}' superseded by delete()`));
    const found = this.#store.delete(key);
    this.#afterChange();
    return found;
  }

  /** Removes every key (dispose is called for each, reading swapped values back) and releases all swap space. */
  clear(): void {
    this.#live();
    this.#fetches?.abortAll(new TmemError('ERR_TMEM_CLOSED', 'fetch superseded by clear()'));
    this.#store.clear(this.#o.dispose !== null);
    swapCacheAddon()?.trimMalloc();
    this.#afterChange();
  }

  /**
   * The value of `key`; when it is missing or expired, what fetchMethod gives (cached, unless it
   * is undefined). Concurrent fetches of a key share one fetchMethod call. With allowStale an
   * expired value is returned at once while it is refreshed in the background.
   */
  async fetch(key: string, options: FetchOptions<V> = {}): Promise<V | undefined> {
    this.#live();
    this.#checkKey(key);
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${describe(options)}`);
    const allowStale = options.allowStale ?? this.#o.allowStale;
    if (!this.#fetches) return this.getAsync(key, { allowStale, updateAgeOnGet: options.updateAgeOnGet });
    if (options.ttl !== undefined) checkTtl('ttl', options.ttl, 0);
    if (!options.forceRefresh && this.#store.has(key)) {
      const value = await this.getAsync(key, { updateAgeOnGet: options.updateAgeOnGet });
      if (value !== undefined) return value;
    }
    // Missing, expired (its stale value is handed to fetchMethod) or a forced refresh.
    const stale = this.peek(key, { allowStale: true });
    const hadStale = stale !== undefined;
    const promise = this.#fetches.start(key, stale, hadStale, options);
    if (hadStale && allowStale) return stale;
    return promise;
  }

  /** Milliseconds until `key` expires: Infinity without a ttl, 0 when absent (lru-cache's name). */
  getRemainingTTL(key: string): number {
    this.#live();
    return this.#store.remainingTtl(this.#checkKey(key));
  }

  /** Removes every expired entry now; returns whether any was. */
  purgeStale(): boolean {
    this.#live();
    let any = false;
    while (this.#store.sweep(1024) > 0) {
      any = true;
      this.#afterChange();
    }
    return any;
  }

  /** Keys: resident ones first, most recently used first, then swapped ones (index order). Expired entries are skipped. */
  keys(): IterableIterator<string> {
    this.#live();
    return iterateKeys(this.#store, () => this.#live());
  }

  /** [key, value] pairs in keys() order; values are read as peek() does (no recency change, no swap-in). */
  *entries(): IterableIterator<[string, V]> {
    for (const key of this.keys()) {
      const value = this.peek(key);
      if (value !== undefined) yield [key, value];
    }
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(fn: (value: V, key: string, cache: this) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /**
   * Frees the index, the resident memory and all swap space; swaps off and removes the swap file
   * and directory if the cache created them. dispose is not called. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#purgeTimer) clearTimeout(this.#purgeTimer);
    this.#fetches?.abortAll(new TmemError('ERR_TMEM_CLOSED', 'SwapCache was closed'));
    this.#store.close();
    swapCacheAddon()?.trimMalloc();
    this.#unregisterStats();
    if (this.#owned) this.#removeOwned();
  }

  // ---- internals ----

  #get(key: string, o: GetOptions): V | undefined {
    const s = this.#store;
    const tier = s.get(key, o);
    const value = tier === Tier.Miss ? undefined : this.#value(s.hitBytes!, s.hitObj, s.hitSlot);
    this.#afterChange();
    return value;
  }

  #value(bytes: Uint8Array, obj: unknown, slot: number): V {
    if (obj !== undefined) return obj as V;
    const value = this.#decode(bytes);
    if (this.#serializer && slot >= 0) this.#store.ring.obj[slot] = value;
    return value;
  }

  #decode(bytes: Uint8Array): V {
    if (this.#serializer) return deserializeValue(this.#serializer, bytes);
    return copyValue(bytes) as unknown as V;
  }

  #getOptions(options: { allowStale?: boolean; updateAgeOnGet?: boolean } | undefined, peek: boolean): GetOptions {
    const o = this.#getOpts;
    o.peek = peek;
    o.allowStale = this.#o.allowStale;
    o.updateAgeOnGet = this.#o.updateAgeOnGet && !peek;
    if (options === undefined) return o;
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${describe(options)}`);
    if (options.allowStale !== undefined) o.allowStale = options.allowStale === true;
    if (!peek && options.updateAgeOnGet !== undefined) o.updateAgeOnGet = options.updateAgeOnGet === true;
    return o;
  }

  // Runs dispose for what left the cache and aborts fetches of keys that went; schedules the
  // ttlAutopurge timer.
  #afterChange(): void {
    const s = this.#store;
    if (this.#o.ttlAutopurge) this.#schedulePurge();
    if (s.removed.length === 0) return;
    const removed = s.removed;
    s.removed = [];
    let first: unknown = null;
    for (const r of removed) {
      this.#fetches?.abort(r.key, new TmemError('ERR_TMEM_CLOSED', `fetch of '${r.key}' superseded (${r.reason})`));
      if (!this.#o.dispose || r.bytes === null) continue;
      try {
        const value = r.obj !== undefined ? (r.obj as V) : this.#decode(r.bytes);
        this.#o.dispose(value, r.key, r.reason);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }

  #schedulePurge(): void {
    if (this.#purgeTimer || !this.#store.timed || this.#closed) return;
    const wait = Math.max(1, this.#store.nextExpiry() - this.#store.now());
    this.#purgeTimer = setTimeout(() => {
      this.#purgeTimer = null;
      if (this.#closed) return;
      this.purgeStale();
      this.#schedulePurge();
    }, Math.min(wait, 2 ** 31 - 1));
    this.#purgeTimer.unref();
  }

  #checkBytes(value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`value must be a Uint8Array or Buffer (or set a serializer), got ${describe(value)}`);
    }
    return plainBytes(value);
  }

  #checkKey(key: string): string {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${describe(key)}`);
    if (key.length > this.maxKeyLength) throw new RangeError(`key of ${key.length} characters is longer than maxKeyLength (${this.maxKeyLength})`);
    if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new TypeError('key must be a well-formed string (no lone surrogates)');
    return key;
  }

  #live(): true {
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', 'SwapCache is closed');
    return true;
  }

  #ifOpen(fn: () => void): void {
    if (!this.#closed) fn();
  }

  #removeOwned(): void {
    if (this.#area.active) this.#area.swapoff();
    this.#owned?.dir?.release();
  }
}
