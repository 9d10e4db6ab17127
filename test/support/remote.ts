// Shared pieces of the remote tier's cluster tests: a cluster per test file, tiers closed after
// each test, and batches of pages whose bytes can be checked after they come back.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { IDENT_WORDS, Kind, MAX_PAYLOAD, ReadStatus } from '../../lib/remote/format';
import type { RemoteOptions } from '../../lib/remote/options';
import { RemoteTier } from '../../lib/remote/tier';
import { startRedisCluster, type ClusterOptions, type RedisCluster } from './redis-cluster.mjs';
import { rng } from './rng';

/** Starts one cluster for the file (stopped after it) and closes every tier a test opened. */
export function remoteHarness(options: ClusterOptions = {}): {
  readonly cluster: RedisCluster;
  open(extra?: Partial<RemoteOptions>): Promise<RemoteTier>;
} {
  let cluster: RedisCluster | null = null;
  const open: RemoteTier[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(options);
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get cluster() {
      return cluster!;
    },
    // A WAIT timeout far above a loopback round trip, so a busy machine does not turn tests of
    // other things into tests of "pages stay local when WAIT is short".
    async open(extra = {}) {
      const tier = await RemoteTier.open({ nodes: cluster!.seeds, waitTimeoutMs: 2000, ...extra });
      open.push(tier);
      return tier;
    },
  };
}

/** Pages of lengths 1-4096 with seeded random bytes, identities (area type, offset = index). */
export class PageBatch {
  readonly idents: Uint32Array;
  readonly lengths: Uint32Array;
  readonly starts: Uint32Array;
  readonly payloads: Uint8Array;
  /** Per page, after write(): 1 when it is remote, and its handle. */
  readonly results: Uint8Array;
  readonly handles: Float64Array;

  constructor(
    readonly count: number,
    seed: number,
    readonly kind: Kind = Kind.Pers,
  ) {
    const r = rng(seed);
    const words = IDENT_WORDS[kind];
    this.idents = new Uint32Array(count * words);
    this.lengths = new Uint32Array(count);
    this.starts = new Uint32Array(count);
    this.results = new Uint8Array(count);
    this.handles = new Float64Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      for (let w = 0; w < words; w++) this.idents[i * words + w] = w === words - 1 ? i : seed + w;
      this.lengths[i] = i % 17 === 0 ? MAX_PAYLOAD : i % 13 === 0 ? 1 : 1 + Math.floor(r() * 2000);
      this.starts[i] = total;
      total += this.lengths[i];
    }
    this.payloads = new Uint8Array(total);
    for (let i = 0; i < total; i++) this.payloads[i] = Math.floor(r() * 256);
  }

  payload(i: number): Uint8Array {
    return this.payloads.subarray(this.starts[i], this.starts[i] + this.lengths[i]);
  }

  /** Writes pages [from, to) in one call, filling their results and handles; resolves with how many are remote. */
  write(tier: RemoteTier, from = 0, to = this.count): Promise<number> {
    const words = IDENT_WORDS[this.kind];
    const end = to === from ? this.starts[from] ?? 0 : this.starts[to - 1] + this.lengths[to - 1];
    return tier.writePages(
      this.kind,
      this.idents.subarray(from * words, to * words),
      this.payloads.subarray(this.starts[from] ?? 0, end),
      this.lengths.subarray(from, to),
      this.results.subarray(from, to),
      this.handles.subarray(from, to),
    );
  }

  /** Indices of the pages written. */
  written(): number[] {
    return range(this.count).filter((i) => this.results[i] === 1);
  }

  /**
   * Loads the pages at `which` (indices into this batch) by handle (this batch's, or `handles`),
   * blocking or not, and checks that every Ok page has exactly its bytes. Returns the statuses.
   */
  async read(tier: RemoteTier, which: number[], mode: 'sync' | 'async', handles = this.handles): Promise<Uint8Array> {
    const words = IDENT_WORDS[this.kind];
    const h = new Float64Array(which.map((i) => handles[i]));
    const idents = new Uint32Array(which.length * words);
    which.forEach((i, k) => idents.set(this.idents.subarray(i * words, (i + 1) * words), k * words));
    const into = new Uint8Array(which.length * MAX_PAYLOAD);
    const lengths = new Uint32Array(which.length);
    const status = new Uint8Array(which.length);
    if (mode === 'sync') tier.readPagesSync(this.kind, h, idents, into, lengths, status);
    else await tier.readPages(this.kind, h, idents, into, lengths, status);
    which.forEach((i, k) => {
      if (status[k] !== ReadStatus.Ok) return;
      const got = into.subarray(k * MAX_PAYLOAD, k * MAX_PAYLOAD + lengths[k]);
      if (Buffer.compare(got, this.payload(i)) !== 0) throw new Error(`page ${i} came back with wrong bytes`);
    });
    return status;
  }
}

/** Indices 0..n-1. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** How many entries of `status` equal `s`. */
export const countOf = (status: Uint8Array, s: ReadStatus): number => status.reduce((a, x) => a + (x === s ? 1 : 0), 0);
