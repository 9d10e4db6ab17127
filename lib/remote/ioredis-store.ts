// The RemoteStore port on ioredis: plain (non-cluster) connections to each node, with the slot map
// and all routing kept by the tier. Per node up to three connections, created when first needed:
//   bulk     batch writes, async reads, deletes, topology and maintenance
//   urgent   blocking loads only, so a load never waits behind a 64-page MSET
//   replica  READONLY, for reads from a replica while its master is down or hung
// Master reads never go over a READONLY connection: a demoted master would answer them from its
// (possibly lagging) replica copy, and a "no such key" from it would look like a definite miss.
//
// Every connection fails fast instead of queueing: no offline queue, no resend of unanswered
// commands after a reconnect (a resent MSET/WAIT pair could run on a fresh connection, where WAIT
// proves nothing), and a deadline on every call.
import Redis, { type RedisOptions } from 'ioredis';
import type { RemoteNode } from './options';
import {
  classify,
  redirectAddress,
  RemoteFailure,
  SLOTS,
  type ReadOptions,
  type ReadReply,
  type RemoteStore,
  type Topology,
  type WriteBatch,
  type WriteResult,
} from './store';
import { slotOf } from './keys';

type Lane = 'bulk' | 'urgent' | 'replica';

interface Link {
  readonly host: string;
  readonly port: number;
  readonly conns: Partial<Record<Lane, Conn>>;
}

const EMPTY: Topology = { slotMaster: new Int32Array(SLOTS).fill(-1), masters: [], replicasOf: new Map(), epoch: 0 };

/** Resolves with `promise`, or with a 'timeout' failure after `ms` (the promise's outcome is then ignored). */
function deadline<T>(promise: Promise<T>, ms: number): Promise<T | RemoteFailure> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RemoteFailure>((resolve) => {
    timer = setTimeout(() => resolve(new RemoteFailure('timeout', `no reply in ${ms} ms`)), ms);
  });
  return Promise.race([promise.catch(classify), timeout]).finally(() => clearTimeout(timer));
}

interface Conn {
  readonly redis: Redis;
  /** Settles when the connection (re)connects; replaced at every close. */
  ready: Promise<void>;
}

function openConn(options: RedisOptions): Conn {
  const redis = new Redis(options);
  const conn: Conn = { redis, ready: Promise.resolve() };
  let armed = false;
  const arm = () => {
    if (armed) return; // one listener, however many reconnect attempts fail
    armed = true;
    conn.ready = new Promise((resolve) =>
      redis.once('ready', () => {
        armed = false;
        resolve();
      }),
    );
  };
  arm();
  redis.on('close', arm);
  // Failures are seen (and classified) by the calls; the event only says "not connected".
  redis.on('error', () => {});
  return conn;
}

/**
 * True when the connection is ready. One still being set up gets up to `ms` to finish; one that
 * lost its node and waits to reconnect fails at once, so the caller moves on to a replica or
 * another master instead of waiting out the reconnect delay.
 */
async function whenReady(conn: Conn, ms: number): Promise<boolean> {
  const status = conn.redis.status;
  if (status === 'ready') return true;
  if (status !== 'wait' && status !== 'connecting' && status !== 'connect') return false;
  return (await deadline(conn.ready, ms)) === undefined;
}

export class IoredisStore implements RemoteStore {
  #links: Link[] = [];
  #byAddress = new Map<string, number>();
  #topology: Topology = EMPTY;
  #signature = '';
  #closed = false;

  constructor(
    seeds: readonly RemoteNode[],
    private readonly connectTimeoutMs: number,
  ) {
    for (const s of seeds) this.nodeOf(s.host, s.port);
  }

  get topology(): Topology {
    return this.#topology;
  }

  /** The node index of an address, adding it when new. */
  nodeOf(host: string, port: number): number {
    const address = `${host}:${port}`;
    let i = this.#byAddress.get(address);
    if (i === undefined) {
      i = this.#links.push({ host, port, conns: {} }) - 1;
      this.#byAddress.set(address, i);
    }
    return i;
  }

  /** `host:port` of a node, for messages. */
  address(node: number): string {
    const l = this.#links[node];
    return `${l.host}:${l.port}`;
  }

  #conn(node: number, lane: Lane): Conn {
    const link = this.#links[node];
    let conn = link.conns[lane];
    if (!conn) {
      conn = openConn({
        host: link.host,
        port: link.port,
        protocol: 2,
        disableClientInfo: true,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        enableReadyCheck: false,
        readOnly: lane === 'replica',
        connectTimeout: this.connectTimeoutMs,
        retryStrategy: (times) => Math.min(times * 100, 1000),
      });
      link.conns[lane] = conn;
    }
    return conn;
  }

  /** Runs a pipeline on one lane of a node within `timeoutMs`; per command [error, reply]. */
  async #pipeline(node: number, lane: Lane, commands: (string | number | Uint8Array)[][], timeoutMs: number): Promise<[Error | null, unknown][] | RemoteFailure> {
    if (this.#closed) return new RemoteFailure('connection', 'remote store closed');
    const conn = this.#conn(node, lane);
    const start = Date.now();
    if (!(await whenReady(conn, Math.min(timeoutMs, this.connectTimeoutMs)))) {
      return new RemoteFailure('connection', `${this.address(node)} is not connected (${conn.redis.status})`);
    }
    const p = conn.redis.pipeline();
    for (const c of commands) (p as unknown as { callBuffer(...a: unknown[]): void }).callBuffer(...c);
    const result = await deadline(p.exec() as Promise<[Error | null, unknown][] | null>, Math.max(1, timeoutMs - (Date.now() - start)));
    if (result instanceof RemoteFailure) return result;
    return result ?? new RemoteFailure('connection', 'pipeline discarded');
  }

  /** Turns a failure's MOVED/ASK target into a node index (added when new). */
  #withTarget(failure: RemoteFailure): RemoteFailure {
    if (failure.kind !== 'moved' && failure.kind !== 'ask') return failure;
    const address = redirectAddress(failure.message);
    if (!address) return failure;
    const colon = address.lastIndexOf(':');
    return new RemoteFailure(failure.kind, failure.message, this.nodeOf(address.slice(0, colon), Number(address.slice(colon + 1))));
  }

  #failure(error: Error): RemoteFailure {
    return this.#withTarget(classify(error));
  }

  /** Asks the known masters for the slot map, then every known node if no master answers. */
  async refresh(): Promise<Topology> {
    const ask = async (node: number) => {
      const r = await this.#pipeline(node, 'bulk', [['CLUSTER', 'SLOTS']], this.connectTimeoutMs);
      if (r instanceof RemoteFailure) throw r;
      if (r[0][0]) throw this.#failure(r[0][0]);
      return { node, slots: r[0][1] as unknown[][] };
    };
    const masters = this.#topology.masters;
    const others = [...this.#links.keys()].filter((n) => !masters.includes(n));
    for (const candidates of [masters, others]) {
      if (candidates.length === 0) continue;
      try {
        const answer = await Promise.any(candidates.map(ask));
        this.#install(answer.node, answer.slots);
        return this.#topology;
      } catch {
        // none of these answered: try the next set
      }
    }
    throw new RemoteFailure('connection', `no cluster node answered (${[...this.#links.keys()].map((n) => this.address(n)).join(', ')})`);
  }

  /** Builds the topology from a CLUSTER SLOTS reply ([start, end, [host, port, id], ...replicas]). */
  #install(from: number, slots: unknown[][]): void {
    const slotMaster = new Int32Array(SLOTS).fill(-1);
    const replicasOf = new Map<number, number[]>();
    const nodeAt = (entry: unknown): number => {
      const [host, port] = entry as [Buffer, number];
      const h = host.toString();
      return this.nodeOf(h === '' || h === '?' ? this.#links[from].host : h, Number(port));
    };
    for (const range of slots) {
      const master = nodeAt(range[2]);
      slotMaster.fill(master, Number(range[0]), Number(range[1]) + 1);
      replicasOf.set(master, range.slice(3).map(nodeAt));
    }
    const masters = [...replicasOf.keys()].sort((a, b) => a - b);
    const signature = JSON.stringify([...replicasOf.entries()].sort((a, b) => a[0] - b[0])) + Buffer.from(slotMaster.buffer).toString('base64');
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#topology = { slotMaster, masters, replicasOf, epoch: this.#topology.epoch + 1 };
  }

  async batchWrite(node: number, batch: WriteBatch): Promise<WriteResult> {
    const mset: (string | Uint8Array)[] = ['MSET'];
    for (let i = 0; i < batch.keys.length; i++) mset.push(batch.keys[i], batch.values[i]);
    const commands: (string | number | Uint8Array)[][] = [
      ['CLIENT', 'ID'],
      batch.guardValue ? ['SET', batch.guardKey, batch.guardValue] : ['EXISTS', batch.guardKey],
      mset,
    ];
    if (batch.replicas > 0) commands.push(['WAIT', batch.replicas, batch.waitTimeoutMs]);
    commands.push(['CLIENT', 'ID']);
    const r = await this.#pipeline(node, 'bulk', commands, batch.timeoutMs);
    if (r instanceof RemoteFailure) return { outcome: 'failed', failure: r };
    for (const [error] of r) if (error) return { outcome: 'failed', failure: this.#failure(error) };
    // The same client id before and after proves one connection ran all of it: WAIT counts the
    // replication offset of *this* connection, so after a reconnect it would vouch for nothing.
    if (r[0][1] !== r[r.length - 1][1]) return { outcome: 'failed', failure: new RemoteFailure('connection', 'reconnected inside a batch') };
    if (!batch.guardValue && r[1][1] !== 1) return { outcome: 'guard-missing' };
    const acked = batch.replicas > 0 ? Number(r[3][1]) : 0;
    return acked >= batch.replicas ? { outcome: 'ok', acked } : { outcome: 'wait-short', acked };
  }

  async batchRead(node: number, keys: readonly string[], options: ReadOptions): Promise<ReadReply[]> {
    // One MGET per slot (a multi-key command must stay in one slot), in key order.
    const bySlot = new Map<number, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const slot = slotOf(keys[i]);
      const list = bySlot.get(slot);
      if (list) list.push(i);
      else bySlot.set(slot, [i]);
    }
    const out: ReadReply[] = new Array(keys.length);
    const retry = await this.#read(node, [...bySlot.values()], keys, options, out);
    // An MGET over a slot in migration whose keys are partly moved gets TRYAGAIN: single GETs
    // get each key's own answer (its value, or ASK towards the target).
    if (retry.length > 0) await this.#read(node, retry.map((i) => [i]), keys, options, out);
    return out;
  }

  /** Reads each group of key indices with one MGET; returns the indices whose MGET got TRYAGAIN. */
  async #read(node: number, groups: number[][], keys: readonly string[], options: ReadOptions, out: ReadReply[]): Promise<number[]> {
    const commands: (string | number | Uint8Array)[][] = [];
    for (const g of groups) {
      if (options.asking) commands.push(['ASKING']);
      commands.push(['MGET', ...g.map((i) => keys[i])]);
    }
    const lane: Lane = options.replica ? 'replica' : options.urgent ? 'urgent' : 'bulk';
    const r = await this.#pipeline(node, lane, commands, options.timeoutMs);
    const step = options.asking ? 2 : 1;
    const retry: number[] = [];
    groups.forEach((g, j) => {
      if (r instanceof RemoteFailure) {
        for (const i of g) out[i] = r;
        return;
      }
      const [error, values] = r[j * step + step - 1];
      const failure = error ? this.#failure(error) : null;
      if (failure?.kind === 'tryagain' && g.length > 1) retry.push(...g);
      else g.forEach((i, k) => (out[i] = failure ?? (values as (Buffer | null)[])[k] ?? null));
    });
    return retry;
  }

  async del(node: number, keys: readonly string[], timeoutMs: number): Promise<number | RemoteFailure> {
    const bySlot = new Map<number, string[]>();
    for (const k of keys) {
      const slot = slotOf(k);
      const list = bySlot.get(slot);
      if (list) list.push(k);
      else bySlot.set(slot, [k]);
    }
    const r = await this.#pipeline(node, 'bulk', [...bySlot.values()].map((ks) => ['UNLINK', ...ks]), timeoutMs);
    if (r instanceof RemoteFailure) return r;
    let removed = 0;
    for (const [error, n] of r) {
      if (error) return this.#failure(error);
      removed += Number(n);
    }
    return removed;
  }

  async keysInSlots(node: number, slots: readonly number[], timeoutMs: number): Promise<string[][] | RemoteFailure> {
    const counts = await this.#pipeline(node, 'bulk', slots.map((slot) => ['CLUSTER', 'COUNTKEYSINSLOT', slot]), timeoutMs);
    if (counts instanceof RemoteFailure) return counts;
    const out: string[][] = slots.map(() => []);
    const busy: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const [error, n] = counts[i];
      if (error) return this.#failure(error);
      if (Number(n) > 0) busy.push(i);
    }
    if (busy.length === 0) return out;
    const r = await this.#pipeline(node, 'bulk', busy.map((i) => ['CLUSTER', 'GETKEYSINSLOT', slots[i], Number(counts[i][1])]), timeoutMs);
    if (r instanceof RemoteFailure) return r;
    for (let k = 0; k < busy.length; k++) {
      const [error, keys] = r[k];
      if (error) return this.#failure(error);
      out[busy[k]] = (keys as Buffer[]).map((key) => key.toString());
    }
    return out;
  }

  async exec(node: number, commands: readonly (readonly (string | number | Uint8Array)[])[], timeoutMs: number): Promise<(unknown | RemoteFailure)[]> {
    const r = await this.#pipeline(node, 'bulk', commands.map((c) => [...c]), timeoutMs);
    if (r instanceof RemoteFailure) return commands.map(() => r);
    return r.map(([error, reply]) => (error ? this.#failure(error) : reply));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const link of this.#links) {
      for (const conn of Object.values(link.conns)) conn?.redis.disconnect();
    }
  }
}
