// Reads the native pool's counters and its per-area usage so that they agree with each other.
//
// Writeback batches change the pool on the libuv thread pool while JavaScript reads it, one call
// at a time: a batch that lands between the read of swap/<type>/pool_pages and the read of
// zcache/stored_pages made a snapshot whose stored_pages was not the sum of the areas' pages.
// So the counters are read before and after the areas, until the two reads agree — a seqlock
// whose sequence is the counter vector itself (whatever a batch changes moves one of its
// monotonic counters: written_back_pages, reject_reclaim_fail, evicted_eph_*). JavaScript is
// blocked meanwhile, so only writeback threads can get in between, and a retry almost always
// succeeds at once.
//
// A debugfs snapshot asks for the counters (the backend's provider) and for every area's usage
// (the swap areas' providers): all of them are served from one read per snapshot
// (debugfs.snapshotId). Outside a snapshot each question gets a fresh read.
import { debugfs } from '../../debugfs/tree';
import type { NativePool } from '../../native/binding';

const MAX_AREAS = 32;
/** Attempts before giving up on a read both sides agree on (never seen to be needed). */
const MAX_TRIES = 1000;

export class PoolStatsReader {
  readonly #pool: NativePool;
  readonly #before: Float64Array;
  readonly #after: Float64Array;
  /** pages and compressed bytes of area t at [2t], [2t + 1]. */
  readonly #areas = new Float64Array(2 * MAX_AREAS);
  readonly #one = new Float64Array(2);
  /** The snapshot the last full read was made for (0: none). */
  #readFor = 0;
  /** Areas the pool has been initialised for, so a full read skips the rest. */
  readonly initialised = new Array<boolean>(MAX_AREAS).fill(false);

  constructor(pool: NativePool) {
    this.#pool = pool;
    this.#before = new Float64Array(pool.statNames.length);
    this.#after = new Float64Array(pool.statNames.length);
  }

  /** Every counter, in statNames order, consistent with areaUsage() within the same debugfs snapshot. */
  counters(): Float64Array {
    this.#readAll();
    return this.#after;
  }

  /** Pages and compressed bytes the pool holds for area `type`. */
  areaUsage(type: number): { pages: number; compressedBytes: number } {
    if (debugfs.snapshotId === 0) {
      this.#pool.areaStats(type, this.#one);
      return { pages: this.#one[0], compressedBytes: this.#one[1] };
    }
    this.#readAll();
    return { pages: this.#areas[2 * type], compressedBytes: this.#areas[2 * type + 1] };
  }

  #readAll(): void {
    const snapshot = debugfs.snapshotId;
    if (snapshot !== 0 && snapshot === this.#readFor) return;
    const pool = this.#pool;
    const before = this.#before;
    const after = this.#after;
    pool.stats(before);
    for (let tries = 0; ; tries++) {
      for (let t = 0; t < MAX_AREAS; t++) {
        if (!this.initialised[t]) {
          this.#areas[2 * t] = this.#areas[2 * t + 1] = 0;
          continue;
        }
        pool.areaStats(t, this.#one);
        this.#areas[2 * t] = this.#one[0];
        this.#areas[2 * t + 1] = this.#one[1];
      }
      pool.stats(after);
      if (tries === MAX_TRIES || sameValues(before, after)) break;
      before.set(after);
    }
    this.#readFor = snapshot;
  }
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
