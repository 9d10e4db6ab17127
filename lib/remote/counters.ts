// The tier's counters (debugfs `ramster/`), kept in a SharedArrayBuffer: the worker thread that
// talks to the cluster updates them and the main thread reads them without a message round trip.
// Each slot has one writing thread (the worker, except the two blocking-load counters the main
// thread keeps), so plain aligned 64-bit stores suffice.
//
// Names follow RAMster's debugfs where the meaning carries over (pers_/eph_pages_remoted,
// remote_*_succ_get, remote_pages_flushed, ...); the rest are what a replicated store adds.

export const COUNTERS = [
  // pages that left for the cluster (acknowledged by the master and `replicas` replicas)
  'pers_pages_remoted',
  'eph_pages_remoted',
  // pages of batches that failed (or were not acknowledged): they stayed local
  'pers_pages_remote_failed',
  'eph_pages_remote_failed',
  // ... of which refused because a master was at maxmemory (OOM)
  'pers_pages_remote_nomem',
  'eph_pages_remote_nomem',
  // loads
  'remote_pers_pages_succ_get',
  'remote_pers_pages_unsucc_get',
  'remote_eph_pages_succ_get',
  'remote_eph_pages_unsucc_get',
  // remote copies deleted (invalidate, exclusive get) and deletes that failed (retried later)
  'remote_pages_flushed',
  'remote_page_flushes_failed',
  // pages held in the cluster now
  'remote_pers_pages',
  'remote_eph_pages',
  'remote_bytes_written',
  'remote_batches',
  // batches the master took but WAIT did not see on enough replicas
  'remote_wait_short',
  // loads whose value failed the CRC, or was another page / version / namespace
  'remote_crc_failed',
  'remote_version_mismatch',
  // loads that found no reachable copy before loadTimeoutMs
  'remote_unreachable_gets',
  'remote_replica_reads',
  // retries after MOVED, ASK, TRYAGAIN, CLUSTERDOWN or a dead connection
  'remote_failover_retries',
  // groups found wiped (master restarted empty, FLUSHALL): their pages are lost
  'remote_canary_lost',
  'remote_lease_lost',
  'remote_namespaces_swept',
  'remote_orphans_swept',
  'remote_delete_backlog',
  // 1 while the tier can write: it holds a valid lease and the cluster has masters
  'remote_available',
  'remote_masters',
  // blocking loads (the swap layer's synchronous readPage) and those that hit their deadline
  'remote_blocking_loads',
  'remote_blocking_load_timeouts',
] as const;

export type CounterName = (typeof COUNTERS)[number];

export const C = Object.fromEntries(COUNTERS.map((name, i) => [name, i])) as Record<CounterName, number>;

/** Round-trip histograms: 4 buckets per power of two of microseconds, for puts and gets. */
const SUB = 4;
const BUCKETS = 40 * SUB;
const HISTOGRAMS = ['put', 'get'] as const;

export const COUNTER_BYTES = (COUNTERS.length + HISTOGRAMS.length * BUCKETS) * 8;

function bucketOf(us: number): number {
  if (us < 1) return 0;
  const exp = Math.floor(Math.log2(us));
  const frac = Math.floor((us / 2 ** exp - 1) * SUB);
  return Math.min(BUCKETS - 1, exp * SUB + frac + 1);
}

/** Upper edge of a bucket in µs. */
function bucketEdge(b: number): number {
  if (b === 0) return 1;
  const exp = Math.floor((b - 1) / SUB);
  return 2 ** exp * (1 + ((b - 1) % SUB) / SUB + 1 / SUB);
}

export class Counters {
  readonly values: Float64Array;
  readonly #histograms: Float64Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    this.values = new Float64Array(buffer, byteOffset, COUNTERS.length);
    this.#histograms = new Float64Array(buffer, byteOffset + COUNTERS.length * 8, HISTOGRAMS.length * BUCKETS);
  }

  add(counter: number, n = 1): void {
    this.values[counter] += n;
  }

  set(counter: number, value: number): void {
    this.values[counter] = value;
  }

  /** Records one round trip of `us` microseconds. */
  rtt(kind: 'put' | 'get', us: number): void {
    this.#histograms[(kind === 'put' ? 0 : BUCKETS) + bucketOf(us)]++;
  }

  /** The `q` quantile (0-1) of recorded round trips in µs (a bucket's upper edge), 0 with none. */
  quantile(kind: 'put' | 'get', q: number): number {
    const base = kind === 'put' ? 0 : BUCKETS;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) total += this.#histograms[base + b];
    if (total === 0) return 0;
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#histograms[base + b];
      if (seen >= q * total) return Math.round(bucketEdge(b));
    }
    return Math.round(bucketEdge(BUCKETS - 1));
  }

  /** All counters by name, plus p50/p99 round trips. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    COUNTERS.forEach((name, i) => {
      out[name] = this.values[i];
    });
    for (const kind of HISTOGRAMS) {
      out[`remote_${kind}_rtt_p50_us`] = this.quantile(kind, 0.5);
      out[`remote_${kind}_rtt_p99_us`] = this.quantile(kind, 0.99);
    }
    return out;
  }
}
