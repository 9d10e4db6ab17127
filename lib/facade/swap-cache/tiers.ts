// The machinery under SwapCache, in three layers: Tiers (this file: the state and removing a
// value), Moves (moves.ts: values between the resident ring and swap runs, within the budgets)
// and Store (store.ts: get/set/delete and ttl). SwapCache (../swap-cache.ts) validates
// arguments, serializes, and implements the lru-cache-style API on top of Store.
//
// Every key is in the key index (native or typed arrays). A resident value also has a ring slot
// (the index record says RESIDENT and holds the slot) and an entry in `resident`, a Map from key
// to slot that is the only per-key JS state, and only for resident keys. A swapped value is a
// (run, start, length) in the index record.
//
// Invariants: the resident tier never holds more than the ring's capacity (residentBytes);
// values larger than a quarter of it are never resident; every operation that can fail (swap
// space, I/O, memory for the index) happens before the old state is let go, so a failed call
// leaves each key with a value it had (eviction may have moved other values to swap, which
// changes where they are, never what they are).
import type { SwapArea } from '../../swap/area';
import { createKeyIndex, M_LENGTH, M_RUN, M_START, type KeyIndex, type KeyIndexKind } from './key-index';
import { NO_RUN, ResidentRing } from './resident-ring';
import { SwapRuns } from './runs';

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
  /** Drop the swap file's page cache as traffic goes through it. */
  dropFileCache: boolean;
  now: () => number;
}

export class Tiers {
  readonly index: KeyIndex;
  readonly ring: ResidentRing;
  readonly runs: SwapRuns;
  readonly maxBytes: number;
  /** Values longer than this skip the resident tier. */
  readonly residentMax: number;
  swappedBytes = 0;
  /** What left the cache during the last call, when `track` says someone wants to know. */
  removed: Removed[] = [];
  /** Whether removals must be reported with keys (in-flight fetches) and values (dispose). */
  track: { keys: boolean; values: boolean } = { keys: false, values: false };
  stats = { gets_resident: 0, gets_pool: 0, gets_file: 0, misses: 0, evicted_values: 0, dropped_values: 0, expired_values: 0, compacted_runs: 0 };
  /** Key -> ring slot of every resident value. */
  protected resident = new Map<string, number>();
  // Map mode keeps the swap copy of a value read back (the kernel's swap cache); with maxBytes
  // runs are dropped oldest first, and a copy in an old run would break that order.
  protected keepClean: boolean;

  constructor(config: StoreConfig) {
    this.index = createKeyIndex(config.keyIndex, config.maxKeyBytes);
    try {
      this.ring = new ResidentRing(config.residentBytes);
    } catch (err) {
      this.index.close();
      throw err;
    }
    this.runs = new SwapRuns(config.area, config.dropFileCache);
    this.maxBytes = config.maxBytes;
    this.keepClean = config.maxBytes === Infinity;
    this.residentMax = Math.floor(this.ring.capacity / 4);
  }

  get size(): number {
    return this.index.size;
  }

  get totalBytes(): number {
    return this.ring.liveBytes + this.swappedBytes;
  }

  residentSlot(key: string): number | undefined {
    return this.resident.get(key);
  }

  protected removeResident(slot: number, reason: DisposeReason): void {
    const r = this.ring;
    const key = r.key[slot];
    const old = this.track.values ? { bytes: r.bytes.slice(r.pos[slot], r.pos[slot] + r.len[slot]), obj: r.obj[slot] } : null;
    this.index.remove(r.id[slot]);
    this.dropSlot(slot);
    this.count(reason);
    if (old || this.track.keys) this.report(key, old, reason);
  }

  protected removeSwapped(key: string, id: number, run: number, length: number, reason: DisposeReason, bytes: Uint8Array): void {
    const old = this.track.values ? { bytes: bytes.slice(), obj: undefined } : null;
    this.index.remove(id);
    this.runs.release(run, length);
    this.swappedBytes -= length;
    this.count(reason);
    if (old || this.track.keys) this.report(key, old, reason);
  }

  protected dropSlot(slot: number): void {
    const r = this.ring;
    if (r.cleanRun[slot] !== NO_RUN) this.runs.release(r.cleanRun[slot], r.len[slot]);
    this.resident.delete(r.key[slot]);
    r.free(slot);
    r.maybeDiscard();
  }

  protected count(reason: DisposeReason): void {
    if (reason === 'expire') this.stats.expired_values++;
    else if (reason === 'evict') this.stats.dropped_values++;
  }

  protected report(key: string, old: { bytes: Uint8Array | null; obj: unknown } | null, reason: DisposeReason): void {
    this.removed.push({ key, bytes: old ? old.bytes : null, obj: old ? old.obj : undefined, reason });
  }

  // The current value of `key` as a copy (for dispose), or null.
  protected currentValue(key: string): { bytes: Uint8Array | null; obj: unknown } | null {
    const slot = this.resident.get(key);
    const r = this.ring;
    if (slot !== undefined) return { bytes: r.bytes.slice(r.pos[slot], r.pos[slot] + r.len[slot]), obj: r.obj[slot] };
    if (this.index.find(key) < 0) return null;
    const m = this.index.meta;
    return { bytes: this.runs.read(m[M_RUN], m[M_START], m[M_LENGTH]).slice(), obj: undefined };
  }
}
