// Namespace upkeep in the worker: attach (slot map + namespace claim), the lease, the sweeper, the
// canary check and the periodic timers.
//
// Lease. A namespace is claimed with SET t{S}:lease NX PX ttl, then registered with HSETNX in
// tmem:namespaces (a name still registered belongs to a dead process not swept yet: pick
// another). The lease is renewed every ttl/4 with SET XX; writes stop once the lease could have
// expired (renewal time + ttl − the longest batch), so no page is written into a namespace another
// process may be sweeping. A renewal that finds the lease gone (the process stalled past its TTL)
// moves on to a fresh namespace for new pages; pages of the old one load while they last
// (verified like any other) and are removed at close.
//
// Sweeper. A registered namespace whose lease has expired belongs to a process that died without
// closing. Its keys live in 257 known slots (256 groups + the lease), so the sweep lists those
// slots (CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT, not a SCAN of the whole keyspace), deletes what
// carries the namespace's prefix, and unregisters it once every slot was reached. A sweep that did
// not reach everything (a node without a master, a listing or delete that timed out) is tried
// again every SWEEP_RETRY_MS until one does, not only at the next sweepIntervalMs. Deletes are
// idempotent: two processes sweeping the same namespace at once do no harm.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Engine } from './engine';
import { C } from './counters';
import { GROUPS, GroupKeys, leaseKey, namespaceId, namespaceName, REGISTRY_KEY, slotOf } from './keys';
import { RemoteFailure } from './store';

const TOPOLOGY_INTERVAL_MS = 1000;
const DELETE_RETRY_MS = 500;
const SWEEP_RETRY_MS = 2000;
const CLAIM_ATTEMPTS = 8;
const DELETE_CHUNK = 512;

type Reply = unknown | RemoteFailure;

const isOk = (r: Reply): boolean => Buffer.isBuffer(r) && r.toString() === 'OK';

export class Maintenance {
  readonly #engine: Engine;
  readonly #owner = `${process.pid}@${hostname()}`;
  #timers: NodeJS.Timeout[] = [];
  #busy = new Set<string>();
  #closed = false;
  /** The last sweep left something behind (see SWEEP_RETRY_MS). */
  #sweepUnfinished = false;
  /** Called when a start without the cluster is followed by a successful attach. */
  onAttached: () => void = () => {};

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** One command on the master of `key`'s slot. */
  async #onMasterOf(key: string, command: (string | number)[]): Promise<Reply> {
    const node = this.#engine.store.topology.slotMaster[slotOf(key)];
    if (node < 0) return new RemoteFailure('clusterdown', `slot of ${key} is not served`);
    const [r] = await this.#engine.store.exec(node, [command], this.#engine.config.connectTimeoutMs);
    return r;
  }

  /** Gets the slot map and claims a namespace; false while the cluster cannot be reached. */
  async attach(): Promise<boolean> {
    await this.#engine.refreshTopology(true);
    if (this.#engine.store.topology.masters.length === 0) return false;
    return this.#claim();
  }

  get attached(): boolean {
    return this.#engine.current !== null && this.#engine.writableUntil > 0;
  }

  async #claim(): Promise<boolean> {
    const { leaseTtlMs } = this.#engine.config;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const id = randomBytes(4).readUInt32LE(0);
      const name = namespaceName(id);
      const lease = leaseKey(name);
      const start = Date.now();
      const set = await this.#onMasterOf(lease, ['SET', lease, this.#owner, 'NX', 'PX', leaseTtlMs]);
      if (set instanceof RemoteFailure) return false;
      if (!isOk(set)) continue;
      const registered = await this.#onMasterOf(REGISTRY_KEY, ['HSETNX', REGISTRY_KEY, name, `${this.#owner} ${new Date(start).toISOString()}`]);
      if (registered !== 1) {
        await this.#onMasterOf(lease, ['DEL', lease]);
        if (registered instanceof RemoteFailure) return false;
        continue;
      }
      this.#engine.adopt(id);
      this.#leaseRenewed(start);
      return true;
    }
    return false;
  }

  /**
   * Writes may go on until the lease could expire, less the longest a batch can take (at most a
   * quarter of the lease: it is renewed every quarter).
   */
  #leaseRenewed(start: number): void {
    const { leaseTtlMs, waitTimeoutMs, connectTimeoutMs } = this.#engine.config;
    this.#engine.writableUntil = start + leaseTtlMs - Math.min(waitTimeoutMs + connectTimeoutMs, leaseTtlMs / 4);
  }

  async renewLease(): Promise<void> {
    const ns = this.#engine.current;
    if (!ns) return;
    const start = Date.now();
    const r = await this.#onMasterOf(ns.keys.lease, ['SET', ns.keys.lease, this.#owner, 'XX', 'PX', this.#engine.config.leaseTtlMs]);
    if (isOk(r)) this.#leaseRenewed(start);
    else if (r === null) {
      this.#engine.counters.add(C.remote_lease_lost);
      this.#engine.writableUntil = 0;
      await this.#claim();
    }
  }

  /** Checks every canary of the current namespace; returns the number of groups found wiped. */
  async checkCanaries(): Promise<number> {
    const engine = this.#engine;
    const ns = engine.current;
    if (!ns) return 0;
    const byNode = new Map<number, number[]>();
    for (let g = 0; g < GROUPS; g++) {
      if (!ns.canary[g]) continue;
      const node = engine.store.topology.slotMaster[ns.keys.slots[g]];
      if (node < 0) continue;
      if (byNode.has(node)) byNode.get(node)!.push(g);
      else byNode.set(node, [g]);
    }
    let lost = 0;
    await Promise.all(
      [...byNode].map(async ([node, groups]) => {
        const epochs = groups.map((g) => ns.epoch[g]);
        const replies = await engine.store.exec(node, groups.map((g) => ['EXISTS', ns.keys.canaries[g]]), engine.config.connectTimeoutMs);
        replies.forEach((r, k) => {
          if (r === 0 && ns.canary[groups[k]] && ns.epoch[groups[k]] === epochs[k]) {
            engine.recordLoss(ns, groups[k], epochs[k]);
            lost++;
          }
        });
      }),
    );
    return lost;
  }

  /** Removes the namespaces of dead processes; returns the number of keys deleted. */
  async sweep(): Promise<number> {
    const engine = this.#engine;
    const listed = await this.#onMasterOf(REGISTRY_KEY, ['HGETALL', REGISTRY_KEY]);
    this.#sweepUnfinished = !Array.isArray(listed);
    if (!Array.isArray(listed)) return 0;
    const ours = new Set(engine.namespaces.map((ns) => ns.name));
    let removed = 0;
    for (let i = 0; i < listed.length; i += 2) {
      const name = String(listed[i]);
      if (ours.has(name) || namespaceId(name) < 0) continue;
      const lease = leaseKey(name);
      if ((await this.#onMasterOf(lease, ['EXISTS', lease])) !== 0) continue;
      const r = await this.purge(name);
      removed += r.removed;
      engine.counters.add(C.remote_orphans_swept, r.removed);
      if (!r.complete) this.#sweepUnfinished = true;
      else if ((await this.#onMasterOf(REGISTRY_KEY, ['HDEL', REGISTRY_KEY, name])) === 1) {
        engine.counters.add(C.remote_namespaces_swept);
      }
    }
    return removed;
  }

  /** Deletes every key of namespace `name` (pages, canaries, lease); complete when every slot was reached. */
  async purge(name: string): Promise<{ removed: number; complete: boolean }> {
    const engine = this.#engine;
    const keys = new GroupKeys(name);
    const prefixes = new Set(keys.prefixes);
    const mine = (k: string) => k === keys.lease || prefixes.has(k.slice(0, k.indexOf('}') + 1));
    const byNode = new Map<number, number[]>();
    let complete = true;
    for (const slot of new Set([...keys.slots, slotOf(keys.lease)])) {
      const node = engine.store.topology.slotMaster[slot];
      if (node < 0) complete = false;
      else if (byNode.has(node)) byNode.get(node)!.push(slot);
      else byNode.set(node, [slot]);
    }
    let removed = 0;
    await Promise.all(
      [...byNode].map(async ([node, slots]) => {
        const listed = await engine.store.keysInSlots(node, slots, engine.config.loadTimeoutMs);
        if (listed instanceof RemoteFailure) {
          complete = false;
          return;
        }
        const doomed = listed.flat().filter(mine);
        for (let i = 0; i < doomed.length; i += DELETE_CHUNK) {
          const r = await engine.store.del(node, doomed.slice(i, i + DELETE_CHUNK), engine.config.loadTimeoutMs);
          if (r instanceof RemoteFailure) complete = false;
          else removed += r;
        }
      }),
    );
    return { removed, complete };
  }

  /** Runs `task` unless the previous run of the same name is still going. */
  #once(name: string, task: () => Promise<unknown>): void {
    if (this.#busy.has(name) || this.#closed) return;
    this.#busy.add(name);
    task()
      .catch(() => {})
      .finally(() => this.#busy.delete(name));
  }

  /**
   * Starts the periodic work, with a first sweep when `attached`. Until attached, the topology tick
   * keeps trying to attach.
   */
  start(attached: boolean): void {
    const { config } = this.#engine;
    const every = (name: string, ms: number, task: () => Promise<unknown>) => {
      if (ms > 0) this.#timers.push(setInterval(() => this.#once(name, task), ms));
    };
    every('topology', TOPOLOGY_INTERVAL_MS, async () => {
      if (this.attached) return this.#engine.refreshTopology(true);
      if (!(await this.attach())) return;
      this.onAttached();
      await this.sweep();
    });
    every('lease', config.leaseTtlMs / 4, () => this.renewLease());
    every('canary', config.canaryIntervalMs, () => this.checkCanaries());
    every('sweep', config.sweepIntervalMs, () => this.sweep());
    if (config.sweepIntervalMs > 0) every('sweep', SWEEP_RETRY_MS, async () => this.#sweepUnfinished && this.sweep());
    every('deletes', DELETE_RETRY_MS, () => this.#engine.deletes.retry());
    if (attached) this.#once('sweep', () => this.sweep());
  }

  /** Stops the timers; with `purge`, removes every key of this process's namespaces and unregisters them. */
  async close(purge: boolean): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (!purge) return;
    for (const ns of this.#engine.namespaces) {
      const r = await this.purge(ns.name);
      if (r.complete) await this.#onMasterOf(REGISTRY_KEY, ['HDEL', REGISTRY_KEY, ns.name]);
    }
  }
}
