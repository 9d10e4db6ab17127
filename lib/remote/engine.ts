// The remote tier's page logic, run in its worker thread (worker.ts): versions, the write
// protocol, loads with replica fallback and retries. Where batches go is placement.ts, deleting
// deletes.ts, namespace upkeep (lease, sweeper, canaries) maintenance.ts.
//
// Write: a batch goes to one group (one slot) on a healthy master as one pipeline
// [CLIENT ID, canary, MSET, WAIT replicas, CLIENT ID] (see ioredis-store.ts). Only "ok" makes the
// pages remote; anything else leaves them local, queues their keys for deletion if they may have
// been written, backs that master off and tries another placement (up to 3 attempts, each with
// new versions: a key is never written twice).
//
// Load: from the slot's master with a short deadline; on a timeout or connection failure from its
// replicas (READONLY); MOVED refreshes the slot map, ASK follows the migration; repeated until
// loadTimeoutMs. "No such key" is final only from the master (a replica may lag). Every value is
// verified (format.ts) before it counts.
import { performance } from 'node:perf_hooks';
import { C, type Counters } from './counters';
import { DeleteQueue } from './deletes';
import { Placement } from './placement';
import { HEADER_BYTES, IDENT_WORDS, identityOf, Kind, ReadStatus, verifyValue, writeHeader, MAX_VERSION } from './format';
import { handleGroup, handleOf, handleVersion } from './keys';
import { LossTable, Namespace } from './namespace';
import type { RemoteConfig } from './options';
import { RemoteFailure, type RemoteStore } from './store';

/** Status of a page not settled yet (never leaves the engine). */
const PENDING = 255;
const MAX_ATTEMPTS = 3;
const REFRESH_GAP_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReadResult {
  status: Uint8Array;
  /** Verified values (header + payload) of the pages with status Ok. */
  values: (Buffer | undefined)[];
}

export class Engine {
  readonly namespaces: Namespace[] = [];
  #nextVersion = 1;
  #refreshing: Promise<void> | null = null;
  #lastRefresh = 0;
  #writableUntil = 0;
  /** Called with a group whose canary was found missing. */
  onLoss: (group: number) => void = () => {};
  readonly deletes: DeleteQueue;
  readonly #placement = new Placement();

  constructor(
    readonly config: RemoteConfig,
    readonly store: RemoteStore,
    readonly counters: Counters,
    readonly losses: LossTable,
  ) {
    this.deletes = new DeleteQueue(store, counters, config.connectTimeoutMs, () => void this.refreshTopology());
  }

  /** Writes are allowed until then (ms since epoch): the lease is valid, with a margin. */
  get writableUntil(): number {
    return this.#writableUntil;
  }

  set writableUntil(ms: number) {
    this.#writableUntil = ms;
    this.#updateAvailability();
  }

  get current(): Namespace | null {
    return this.namespaces.at(-1) ?? null;
  }

  /** Starts a namespace for the versions from now on (at attach, and when the lease was lost). */
  adopt(id: number): Namespace {
    const ns = new Namespace(id, this.#nextVersion);
    this.namespaces.push(ns);
    return ns;
  }

  /** The namespace a version was written under. */
  namespaceOf(version: number): Namespace | null {
    for (let i = this.namespaces.length - 1; i >= 0; i--) {
      if (version >= this.namespaces[i].fromVersion) return this.namespaces[i];
    }
    return null;
  }

  /** Refreshes the slot map, at most once per REFRESH_GAP_MS; concurrent callers share one refresh. */
  refreshTopology(force = false): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (!force && performance.now() - this.#lastRefresh < REFRESH_GAP_MS) return Promise.resolve();
    this.#refreshing = this.store
      .refresh()
      .then(
        () => this.#updateAvailability(),
        () => this.counters.set(C.remote_available, 0),
      )
      .finally(() => {
        this.#lastRefresh = performance.now();
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  #updateAvailability(): void {
    const masters = this.store.topology.masters.length;
    this.counters.set(C.remote_masters, masters);
    this.counters.set(C.remote_available, masters > 0 && this.current && Date.now() < this.writableUntil ? 1 : 0);
  }

  /** The loss of `group` in the current namespace, seen by a batch or check made in `epoch`. */
  recordLoss(ns: Namespace, group: number, epoch: number): void {
    if (ns !== this.current || ns.epoch[group] !== epoch || !ns.canary[group]) return;
    ns.epoch[group]++;
    ns.canary[group] = 0;
    this.losses.record(group, ns.fromVersion, this.#nextVersion);
    this.counters.add(C.remote_canary_lost);
    this.onLoss(group);
  }

  /**
   * Writes `lengths.length` pages (payloads back to back in `payloads`, identities in `idents`).
   * results[i] = 1 and handles[i] = the page's handle for each page now remote. Returns how many.
   */
  async write(kind: Kind, idents: Uint32Array, payloads: Uint8Array, lengths: Uint32Array, results: Uint8Array, handles: Float64Array): Promise<number> {
    const n = lengths.length;
    const starts = new Uint32Array(n);
    for (let i = 1; i < n; i++) starts[i] = starts[i - 1] + lengths[i - 1];
    const chunks: Promise<void>[] = [];
    for (let from = 0; from < n; from += this.config.batchPages) {
      const to = Math.min(n, from + this.config.batchPages);
      chunks.push(this.#writeChunk(kind, idents, payloads, starts, lengths, from, to, results, handles));
    }
    await Promise.all(chunks);
    let done = 0;
    for (let i = 0; i < n; i++) done += results[i];
    return done;
  }

  async #writeChunk(
    kind: Kind,
    idents: Uint32Array,
    payloads: Uint8Array,
    starts: Uint32Array,
    lengths: Uint32Array,
    from: number,
    to: number,
    results: Uint8Array,
    handles: Float64Array,
  ): Promise<void> {
    const count = to - from;
    let nomem = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const ns = this.current;
      if (!ns || Date.now() >= this.writableUntil || this.#nextVersion + count > MAX_VERSION) break;
      const place = this.#placement.next(this.store.topology, ns);
      if (!place) break;
      const { node, group } = place;
      const epoch = ns.epoch[group];
      const setCanary = ns.canary[group] === 0;
      const first = this.#nextVersion;
      this.#nextVersion += count;
      let bytes = 0;
      for (let i = from; i < to; i++) bytes += HEADER_BYTES + lengths[i];
      const buffer = Buffer.allocUnsafe(bytes);
      const keys: string[] = [];
      const values: Buffer[] = [];
      const words = IDENT_WORDS[kind];
      for (let i = from, at = 0; i < to; i++) {
        const version = first + (i - from);
        const identity = identityOf(ns.seeds[kind], kind, idents, i * words);
        writeHeader(buffer, at, kind, version, identity, payloads, starts[i], lengths[i]);
        buffer.set(payloads.subarray(starts[i], starts[i] + lengths[i]), at + HEADER_BYTES);
        keys.push(ns.keys.page(group, version));
        values.push(buffer.subarray(at, at + HEADER_BYTES + lengths[i]));
        at += HEADER_BYTES + lengths[i];
      }
      const t0 = performance.now();
      const r = await this.store.batchWrite(node, {
        guardKey: ns.keys.canaries[group],
        guardValue: setCanary ? Buffer.from(`${process.pid}:${ns.epoch[group]}`) : null,
        keys,
        values,
        replicas: this.config.replicas,
        waitTimeoutMs: this.config.waitTimeoutMs,
        timeoutMs: this.config.waitTimeoutMs + this.config.connectTimeoutMs,
      });
      this.counters.rtt('put', (performance.now() - t0) * 1000);
      this.counters.add(C.remote_batches);
      if (r.outcome === 'ok') {
        if (setCanary && ns.epoch[group] === epoch) ns.canary[group] = 1;
        for (let i = from; i < to; i++) {
          results[i] = 1;
          handles[i] = handleOf(first + (i - from), group);
        }
        this.#placement.succeeded(node);
        this.counters.add(kind === Kind.Pers ? C.pers_pages_remoted : C.eph_pages_remoted, count);
        this.counters.add(kind === Kind.Pers ? C.remote_pers_pages : C.remote_eph_pages, count);
        this.counters.add(C.remote_bytes_written, bytes);
        return;
      }
      if (r.outcome === 'guard-missing') {
        this.recordLoss(ns, group, epoch);
      } else if (r.outcome === 'wait-short') {
        this.counters.add(C.remote_wait_short);
        this.#placement.failed(node);
      } else {
        const kindOf = r.failure.kind;
        if (kindOf === 'nomem') nomem = true;
        if (kindOf === 'moved') await this.refreshTopology(true);
        else this.#placement.failed(node);
        this.counters.add(C.remote_failover_retries);
        // Rejected before anything ran (the slot is elsewhere or not served): nothing to delete.
        if (kindOf === 'moved' || kindOf === 'ask' || kindOf === 'tryagain' || kindOf === 'clusterdown') continue;
      }
      this.deletes.queue(keys);
    }
    this.counters.add(kind === Kind.Pers ? C.pers_pages_remote_failed : C.eph_pages_remote_failed, count);
    if (nomem) this.counters.add(kind === Kind.Pers ? C.pers_pages_remote_nomem : C.eph_pages_remote_nomem, count);
  }

  /**
   * Loads pages by handle. `urgent` uses the connections reserved for blocking loads. Every Ok value
   * was verified against the page's identity and version.
   */
  async read(kind: Kind, handles: Float64Array, idents: Uint32Array, urgent: boolean): Promise<ReadResult> {
    const n = handles.length;
    const status = new Uint8Array(n).fill(PENDING);
    const values: (Buffer | undefined)[] = new Array(n);
    const keys: string[] = new Array(n);
    const slots = new Int32Array(n);
    const identity = new Uint32Array(n);
    const versions = new Float64Array(n);
    const ask = new Int32Array(n).fill(-1);
    const words = IDENT_WORDS[kind];
    for (let i = 0; i < n; i++) {
      const version = handleVersion(handles[i]);
      const group = handleGroup(handles[i]);
      const ns = this.namespaceOf(version);
      versions[i] = version;
      if (!ns) status[i] = ReadStatus.Mismatch;
      else if (this.losses.lost(group, version)) status[i] = ReadStatus.Lost;
      else {
        keys[i] = ns.keys.page(group, version);
        slots[i] = ns.keys.slots[group];
        identity[i] = identityOf(ns.seeds[kind], kind, idents, i * words);
      }
    }
    const settle = (i: number, value: Buffer) => {
      const s = verifyValue(value, kind, versions[i], identity[i]);
      status[i] = s;
      if (s === ReadStatus.Ok) values[i] = value;
    };
    const deadlineAt = performance.now() + this.config.loadTimeoutMs;
    for (let round = 0; ; round++) {
      const pending: number[] = [];
      for (let i = 0; i < n; i++) if (status[i] === PENDING) pending.push(i);
      if (pending.length === 0) break;
      const left = deadlineAt - performance.now();
      if (left <= 0) {
        for (const i of pending) status[i] = ReadStatus.Unavailable;
        break;
      }
      if (round > 0) {
        this.counters.add(C.remote_failover_retries);
        await Promise.all([this.refreshTopology(), sleep(Math.min(25 << Math.min(round, 4), left))]);
      }
      const timeoutMs = Math.max(1, Math.min(this.config.readTimeoutMs, deadlineAt - performance.now()));
      const fallback = await this.#readMasters(pending, keys, slots, ask, urgent, timeoutMs, settle, status);
      await this.#readReplicas(fallback, keys, slots, timeoutMs, settle);
    }
    let ok = 0;
    for (let i = 0; i < n; i++) {
      if (status[i] === ReadStatus.Ok) ok++;
      else if (status[i] === ReadStatus.Corrupt) this.counters.add(C.remote_crc_failed);
      else if (status[i] === ReadStatus.Mismatch) this.counters.add(C.remote_version_mismatch);
      else if (status[i] === ReadStatus.Unavailable) this.counters.add(C.remote_unreachable_gets);
    }
    this.counters.add(kind === Kind.Pers ? C.remote_pers_pages_succ_get : C.remote_eph_pages_succ_get, ok);
    this.counters.add(kind === Kind.Pers ? C.remote_pers_pages_unsucc_get : C.remote_eph_pages_unsucc_get, n - ok);
    return { status, values };
  }

  /** One round against the masters (or ASK targets); returns the pages to try on replicas. */
  async #readMasters(
    pending: number[],
    keys: string[],
    slots: Int32Array,
    ask: Int32Array,
    urgent: boolean,
    timeoutMs: number,
    settle: (i: number, value: Buffer) => void,
    status: Uint8Array,
  ): Promise<number[]> {
    const fallback: number[] = [];
    const byNode = new Map<number, number[]>();
    for (const i of pending) {
      const node = ask[i] >= 0 ? ask[i] : this.store.topology.slotMaster[slots[i]];
      if (node < 0) continue;
      const list = byNode.get(node);
      if (list) list.push(i);
      else byNode.set(node, [i]);
    }
    await Promise.all(
      [...byNode].map(async ([node, list]) => {
        // ASKING only matters for a slot being imported; harmless for the node's other keys.
        const asking = list.some((i) => ask[i] >= 0);
        const t0 = performance.now();
        const replies = await this.store.batchRead(node, list.map((i) => keys[i]), { replica: false, urgent, asking, timeoutMs });
        this.counters.rtt('get', (performance.now() - t0) * 1000);
        list.forEach((i, k) => {
          const r = replies[k];
          ask[i] = -1;
          if (r === null) status[i] = ReadStatus.Missing;
          else if (!(r instanceof RemoteFailure)) settle(i, r);
          else if (r.kind === 'ask' && r.target >= 0) ask[i] = r.target;
          else if (r.kind !== 'moved') fallback.push(i);
        });
      }),
    );
    return fallback;
  }

  /** Tries each page's replicas in turn; a page no replica has stays pending. */
  async #readReplicas(list: number[], keys: string[], slots: Int32Array, timeoutMs: number, settle: (i: number, value: Buffer) => void): Promise<void> {
    const topology = this.store.topology;
    let left = list;
    for (let r = 0; left.length > 0; r++) {
      const byNode = new Map<number, number[]>();
      for (const i of left) {
        const node = topology.replicasOf.get(topology.slotMaster[slots[i]])?.[r];
        if (node === undefined) continue;
        const l = byNode.get(node);
        if (l) l.push(i);
        else byNode.set(node, [i]);
      }
      if (byNode.size === 0) return;
      const next: number[] = [];
      await Promise.all(
        [...byNode].map(async ([node, group]) => {
          const replies = await this.store.batchRead(node, group.map((i) => keys[i]), { replica: true, urgent: true, asking: false, timeoutMs });
          group.forEach((i, k) => {
            const v = replies[k];
            if (v instanceof Buffer) {
              settle(i, v);
              this.counters.add(C.remote_replica_reads);
            } else next.push(i);
          });
        }),
      );
      left = next;
    }
  }

  /** Deletes the remote copies of pages (invalidate, exclusive load done, repatriated). */
  async del(kind: Kind, handles: Float64Array): Promise<void> {
    const keys: string[] = [];
    for (let i = 0; i < handles.length; i++) {
      const version = handleVersion(handles[i]);
      const ns = this.namespaceOf(version);
      if (ns) keys.push(ns.keys.page(handleGroup(handles[i]), version));
    }
    this.counters.add(kind === Kind.Pers ? C.remote_pers_pages : C.remote_eph_pages, -handles.length);
    const failed = await this.deletes.run(keys);
    this.counters.add(C.remote_pages_flushed, keys.length - failed.length);
    this.counters.add(C.remote_page_flushes_failed, failed.length);
    this.deletes.queue(failed);
  }
}
