// The remote tier as the main thread sees it: RAMster's remote pages on a Redis Cluster. A worker
// thread (worker.ts) owns the connections; batch calls are messages to it and never block the
// event loop; readPagesSync() blocks the calling thread for one round trip (sync-channel.ts), for
// the swap layer's synchronous readPage.
//
// Pages are opaque payloads (what the pool holds: LZ4 blocks or raw pages, ≤ 4096 bytes) with an
// identity (frontswap: type, offset; cleancache: pool, six key words, index). A page written
// successfully gets a handle (version · 256 + group, an exact integer in a double) that the local
// index keeps instead of the page, like RAMster's remote pampd; loads and deletes go by handle and
// identity, and a load returns the payload only after its CRC, identity and version checked out.
//
// Phase B (wiring into the backends) hooks in as described in lib/remote/README.md.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TmemError } from '../util/errors';
import { checkInteger, describe } from '../util/validate';
import { COUNTER_BYTES, Counters, C } from './counters';
import { IDENT_WORDS, Kind, MAX_PAYLOAD, ReadStatus } from './format';
import { handleGroup, handleVersion } from './keys';
import { LossTable } from './namespace';
import { parseRemoteOptions, type RemoteConfig, type RemoteOptions } from './options';
import type { ReadReply, RequestBody, WorkerData, WorkerEvent, WriteReply } from './protocol';
import { SYNC_MAX_PAGES, SyncCaller } from './sync-channel';

export { Kind, ReadStatus } from './format';

/** Slack on top of loadTimeoutMs before a blocking load gives up on the worker itself. */
const SYNC_SLACK_MS = 1000;

const STATUS_TEXT: Record<ReadStatus, string> = {
  [ReadStatus.Ok]: 'loaded',
  [ReadStatus.Missing]: 'its master has no such key (lost or rolled back by a failover)',
  [ReadStatus.Unavailable]: 'no copy could be reached before loadTimeoutMs',
  [ReadStatus.Corrupt]: 'the value failed its CRC32C check',
  [ReadStatus.Mismatch]: 'the value belongs to another page, version or namespace',
  [ReadStatus.Lost]: 'its group was wiped (the canary was gone)',
};

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * The compiled worker script. Under the TypeScript sources (the test runner), the worker still
 * has to be JavaScript: it is taken from dist/, so run `npm run build` first.
 */
function workerScript(): string {
  const file = __filename.endsWith('.ts') ? join(__dirname, '..', '..', 'dist', 'remote', 'worker.js') : join(__dirname, 'worker.js');
  if (!existsSync(file)) throw new TmemError('ERR_TMEM_UNSUPPORTED', `remote tier worker ${file} is missing (npm run build)`);
  return file;
}

/**
 * `view` alone in a buffer of its own. postMessage copies a typed array's whole underlying buffer,
 * so a 64-page view into a large buffer would otherwise send all of it. (Not view.slice(): on a
 * Buffer that is another view, not a copy.)
 */
function compact<T extends Uint8Array | Uint32Array | Float64Array>(view: T): T {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return view;
  if (view instanceof Float64Array) return new Float64Array(view) as T;
  if (view instanceof Uint32Array) return new Uint32Array(view) as T;
  return new Uint8Array(view) as T;
}

function checkKind(kind: unknown): Kind {
  if (kind !== Kind.Pers && kind !== Kind.Eph) throw new TypeError(`kind must be Kind.Pers (0) or Kind.Eph (1), got ${describe(kind)}`);
  return kind;
}

function checkTyped<T extends ArrayBufferView>(name: string, value: unknown, type: new (n: number) => T, length: number): T {
  if (!(value instanceof type)) throw new TypeError(`${name} must be a ${type.name}, got ${describe(value)}`);
  if ((value as unknown as { length: number }).length !== length) {
    throw new RangeError(`${name} must have ${length} elements, got ${(value as unknown as { length: number }).length}`);
  }
  return value;
}

function checkHandles(handles: unknown): Float64Array {
  if (!(handles instanceof Float64Array)) throw new TypeError(`handles must be a Float64Array, got ${describe(handles)}`);
  for (let i = 0; i < handles.length; i++) checkInteger(`handles[${i}]`, handles[i], 256, Number.MAX_SAFE_INTEGER);
  return handles;
}

export class RemoteTier extends EventEmitter {
  readonly config: RemoteConfig;
  readonly #worker: Worker;
  readonly #counters: Counters;
  readonly #losses: LossTable;
  readonly #sync: SyncCaller;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #namespace: string | null = null;
  #attached = false;
  #closed = false;
  #dead: Error | null = null;
  readonly #one = { handle: new Float64Array(1), length: new Uint32Array(1), status: new Uint8Array(1) };

  private constructor(config: RemoteConfig) {
    super();
    this.config = config;
    const shared = new SharedArrayBuffer(COUNTER_BYTES + LossTable.BYTES);
    this.#counters = new Counters(shared, 0);
    this.#losses = new LossTable(shared, COUNTER_BYTES);
    this.#sync = new SyncCaller();
    const workerData: WorkerData = { config, shared, countersAt: 0, lossesAt: COUNTER_BYTES, sync: this.#sync.endpoint };
    this.#worker = new Worker(workerScript(), { workerData, transferList: [this.#sync.endpoint.port] });
    this.#worker.unref();
    this.#worker.on('message', (m: WorkerEvent) => this.#onMessage(m));
    const fail = (error: Error) => {
      this.#dead ??= error;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new TmemError('ERR_TMEM_CLOSED', `remote tier worker exited (${code})`)));
  }

  /**
   * Starts the tier: the worker, the slot map, a namespace with its lease, a first sweep. When the
   * cluster cannot be reached it still resolves, degraded (`attached` false, `ramster/remote_available`
   * 0, one line on stderr): writes then keep failing fast and pages stay local, and the worker keeps
   * trying to attach in the background.
   */
  static async open(options: RemoteOptions): Promise<RemoteTier> {
    const tier = new RemoteTier(parseRemoteOptions(options));
    await new Promise<void>((resolve, reject) => {
      tier.once('ready', resolve);
      tier.#worker.once('error', reject);
      tier.#worker.once('exit', () => reject(tier.#dead));
    });
    if (!tier.#attached) {
      const seeds = tier.config.nodes.map((n) => `${n.host}:${n.port}`).join(', ');
      process.stderr.write(`tmem: remote tier: no cluster at ${seeds}; pages stay in the pool and swap files until it answers\n`);
    }
    return tier;
  }

  #onMessage(m: WorkerEvent): void {
    if ('event' in m) {
      if (m.event === 'lost') this.emit('lost', m.group);
      else {
        this.#attached = m.attached;
        this.#namespace = m.namespace;
        this.emit(m.event);
      }
      return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('error' in m) p.reject(new TmemError('ERR_TMEM_IO', `remote tier: ${m.error}`));
    else p.resolve(m.reply);
  }

  /** Posts a request; the worker keeps the process alive only while requests are pending. */
  #request<T>(request: RequestBody): Promise<T> {
    if (this.#closed) return Promise.reject(new TmemError('ERR_TMEM_CLOSED', 'remote tier is closed'));
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  /** True once a namespace is claimed on the cluster (false after a degraded start, until it answers). */
  get attached(): boolean {
    return this.#attached;
  }

  /** This process's namespace on the cluster (its keys start with `t{<namespace>.`). */
  get namespace(): string | null {
    return this.#namespace;
  }

  /** True while writes can go to the cluster. */
  get available(): boolean {
    return this.#counters.values[C.remote_available] === 1;
  }

  /**
   * Writes pages to the cluster in batches. `payloads` holds them back to back, `lengths[i]`
   * (1-4096) bytes each; `idents` holds IDENT_WORDS[kind] words per page. For each page that is
   * now remote (acknowledged by its master and `replicas` replicas), results[i] = 1 and handles[i]
   * is its handle; the others stayed local (results[i] = 0). Resolves with the number written.
   */
  writePages(kind: Kind, idents: Uint32Array, payloads: Uint8Array, lengths: Uint32Array, results: Uint8Array, handles: Float64Array): Promise<number> {
    checkKind(kind);
    if (!(lengths instanceof Uint32Array)) throw new TypeError(`lengths must be a Uint32Array, got ${describe(lengths)}`);
    const n = lengths.length;
    checkTyped('idents', idents, Uint32Array, n * IDENT_WORDS[kind]);
    checkTyped('results', results, Uint8Array, n);
    checkTyped('handles', handles, Float64Array, n);
    if (!(payloads instanceof Uint8Array)) throw new TypeError(`payloads must be a Uint8Array, got ${describe(payloads)}`);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (lengths[i] < 1 || lengths[i] > MAX_PAYLOAD) throw new RangeError(`lengths[${i}] must be between 1 and ${MAX_PAYLOAD}, got ${lengths[i]}`);
      total += lengths[i];
    }
    if (payloads.length !== total) throw new RangeError(`payloads must be ${total} bytes (the sum of lengths), got ${payloads.length}`);
    return this.#request<WriteReply>({ op: 'write', kind, idents: compact(idents), payloads: compact(payloads), lengths: compact(lengths) }).then((r) => {
      results.set(r.results);
      handles.set(r.handles);
      return r.count;
    });
  }

  #checkRead(kind: Kind, handles: Float64Array, idents: Uint32Array, into: Uint8Array, lengths: Uint32Array, status: Uint8Array): number {
    checkKind(kind);
    const n = checkHandles(handles).length;
    checkTyped('idents', idents, Uint32Array, n * IDENT_WORDS[kind]);
    checkTyped('into', into, Uint8Array, n * MAX_PAYLOAD);
    checkTyped('lengths', lengths, Uint32Array, n);
    checkTyped('status', status, Uint8Array, n);
    return n;
  }

  /**
   * Loads pages without blocking: page i's payload goes to into[i * 4096 ...] with its length in
   * lengths[i] and status[i] = ReadStatus.Ok; any other status means the page is not available
   * (Missing, Lost, Corrupt, Mismatch: lost for good; Unavailable: not reachable before
   * loadTimeoutMs). Resolves with the number of Ok pages.
   */
  async readPages(kind: Kind, handles: Float64Array, idents: Uint32Array, into: Uint8Array, lengths: Uint32Array, status: Uint8Array): Promise<number> {
    const n = this.#checkRead(kind, handles, idents, into, lengths, status);
    const r = await this.#request<ReadReply>({ op: 'read', kind, handles: compact(handles), idents: compact(idents) });
    let ok = 0;
    for (let i = 0, at = 0; i < n; i++) {
      status[i] = r.status[i];
      lengths[i] = r.lengths[i];
      if (r.status[i] !== ReadStatus.Ok) continue;
      into.set(r.packed.subarray(at, at + r.lengths[i]), i * MAX_PAYLOAD);
      at += r.lengths[i];
      ok++;
    }
    return ok;
  }

  /**
   * Same as readPages, but blocks the calling thread until the pages are loaded (one round trip
   * to the cluster per 64 pages) or loadTimeoutMs (+1 s) passed, then Unavailable. For the swap
   * layer's synchronous readPage; everything else should use readPages.
   */
  readPagesSync(kind: Kind, handles: Float64Array, idents: Uint32Array, into: Uint8Array, lengths: Uint32Array, status: Uint8Array): number {
    const n = this.#checkRead(kind, handles, idents, into, lengths, status);
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', 'remote tier is closed');
    const channel = this.#sync.channel;
    const words = IDENT_WORDS[kind];
    let ok = 0;
    for (let from = 0; from < n; from += SYNC_MAX_PAGES) {
      const count = Math.min(SYNC_MAX_PAGES, n - from);
      channel.handles.set(handles.subarray(from, from + count));
      channel.idents.set(idents.subarray(from * words, (from + count) * words));
      this.#counters.add(C.remote_blocking_loads, count);
      const answered = !this.#dead && this.#sync.call(kind, count, this.config.loadTimeoutMs + SYNC_SLACK_MS);
      if (!answered) this.#counters.add(C.remote_blocking_load_timeouts, count);
      for (let i = 0; i < count; i++) {
        const s = answered ? channel.status[i] : ReadStatus.Unavailable;
        status[from + i] = s;
        lengths[from + i] = s === ReadStatus.Ok ? channel.lengths[i] : 0;
        if (s !== ReadStatus.Ok) continue;
        into.set(channel.payload.subarray(i * MAX_PAYLOAD, i * MAX_PAYLOAD + channel.lengths[i]), (from + i) * MAX_PAYLOAD);
        ok++;
      }
    }
    return ok;
  }

  /**
   * One page, blocking (readPagesSync for a single page, without allocating): fills `into` (4096
   * bytes) with the payload and returns its length, or throws ERR_TMEM_REMOTE_LOST naming why the
   * page cannot be had — never other bytes.
   */
  readPageSync(kind: Kind, handle: number, idents: Uint32Array, into: Uint8Array): number {
    this.#one.handle[0] = handle;
    this.readPagesSync(kind, this.#one.handle, idents, into, this.#one.length, this.#one.status);
    const status = this.#one.status[0] as ReadStatus;
    if (status !== ReadStatus.Ok) {
      throw new TmemError('ERR_TMEM_REMOTE_LOST', `remote page (handle ${handle}) is ${ReadStatus[status].toLowerCase()}: ${STATUS_TEXT[status]}`);
    }
    return this.#one.length[0];
  }

  /** Deletes the remote copies (invalidate, after an exclusive load, after repatriation). Failed deletes are retried in the background. */
  async deletePages(kind: Kind, handles: Float64Array): Promise<void> {
    checkKind(kind);
    checkHandles(handles);
    await this.#request({ op: 'delete', kind, handles: compact(handles) });
  }

  /** True when the page's group was found wiped after it was written (known lost without a load). */
  isLost(handle: number): boolean {
    return this.#losses.lost(handleGroup(handle), handleVersion(handle));
  }

  /** Checks every group's canary now; resolves with the number of groups found wiped ('lost' events follow). */
  checkCanaries(): Promise<number> {
    return this.#request({ op: 'check' });
  }

  /** Removes the keys of dead processes' namespaces now; resolves with the number of keys deleted. */
  sweep(): Promise<number> {
    return this.#request({ op: 'sweep' });
  }

  /** The `ramster/` counters. */
  stats(): Record<string, number> {
    return this.#counters.snapshot();
  }

  /**
   * Stops the tier. With `purge` (default) every key of this process is deleted from the cluster
   * first: call it after the pages that matter were brought back.
   */
  async close(options: { purge?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    const purge = options.purge ?? true;
    if (!this.#dead) await this.#request({ op: 'close', purge }).catch(() => {});
    this.#closed = true;
    await this.#worker.terminate();
  }
}
