// The port between the remote tier and a Redis Cluster client. The tier (engine.ts) decides what
// goes where; a store only talks to nodes, so another client (node-redis, a RESP client in the
// addon) can replace the ioredis adapter behind the same contract and the same tests.
//
// Nodes are small integers, stable for the store's lifetime (an address seen again keeps its index).
// Every call names the node it goes to: the tier owns placement and its retry loop, because no
// client's built-in redirection loop is a durability mechanism (MOVED after a failover, a hung
// master that never answers, a WAIT that ran on a fresh connection).

export const SLOTS = 16384;

/** Why a call failed, as the tier branches on it. */
export type FailureKind =
  | 'moved' // the slot lives elsewhere now: refresh the topology
  | 'ask' // the slot is being migrated and this key already moved: ask the target once
  | 'tryagain' // multi-key command on a slot in migration
  | 'clusterdown' // the slot (or the cluster) is not served right now
  | 'noreplicas' // min-replicas-to-write refused the write
  | 'nomem' // OOM: the node is at maxmemory with noeviction
  | 'readonly' // write to a replica (a demoted master)
  | 'loading' // the node is loading its dataset
  | 'timeout' // no reply before the deadline (hung or overloaded node)
  | 'connection' // not connected, refused, reset
  | 'other';

export class RemoteFailure {
  constructor(
    readonly kind: FailureKind,
    readonly message: string,
    /** For 'moved' and 'ask': the node the reply pointed at. */
    readonly target = -1,
  ) {}
}

export interface Topology {
  /** Master of each slot, -1 where no node serves it. */
  readonly slotMaster: Int32Array;
  /** Masters serving at least one slot. */
  readonly masters: readonly number[];
  /** Replicas of each master (indexed by node), as the cluster reports them. */
  readonly replicasOf: ReadonlyMap<number, readonly number[]>;
  /** Bumped whenever a refresh changed the slot map or the replica sets. */
  readonly epoch: number;
}

export interface WriteBatch {
  /** The group's canary: SET when `guardValue` is given, otherwise it must EXIST for the batch to count. */
  guardKey: string;
  guardValue: Uint8Array | null;
  /** Keys and values, all in the guard's slot. */
  keys: readonly string[];
  values: readonly Uint8Array[];
  /** WAIT for this many replicas (0: no WAIT). */
  replicas: number;
  waitTimeoutMs: number;
  /** Deadline for the whole pipeline. */
  timeoutMs: number;
}

export type WriteResult =
  /** Every write replied OK on one connection and WAIT reached `replicas`. */
  | { readonly outcome: 'ok'; readonly acked: number }
  /** Written, but WAIT counted fewer replicas: not durable, the pages stay local. */
  | { readonly outcome: 'wait-short'; readonly acked: number }
  /** The canary the batch depends on is gone: the group was wiped. */
  | { readonly outcome: 'guard-missing' }
  /** Anything else; the keys may or may not exist now. */
  | { readonly outcome: 'failed'; readonly failure: RemoteFailure };

export interface ReadOptions {
  /** Read from a replica (a READONLY connection). */
  replica: boolean;
  /** Use the connection reserved for blocking loads, so they never queue behind batch traffic. */
  urgent: boolean;
  /** Send ASKING first (the slot is being migrated to this node). */
  asking: boolean;
  timeoutMs: number;
}

/** Per key: the value, null when there is none, or why the key could not be read. */
export type ReadReply = Buffer | null | RemoteFailure;

export interface RemoteStore {
  /** The slot map as of the last refresh. */
  readonly topology: Topology;
  /** Asks the cluster for its slot map (any node that answers first) and connects to new nodes. */
  refresh(): Promise<Topology>;
  /** One pipeline on one connection: [fence, canary, MSET, WAIT, fence]. Never retried inside. */
  batchWrite(node: number, batch: WriteBatch): Promise<WriteResult>;
  /** Values of `keys` from one node, in order (one MGET per slot, pipelined). */
  batchRead(node: number, keys: readonly string[], options: ReadOptions): Promise<ReadReply[]>;
  /** Deletes `keys` (any slots of this node); resolves with the number removed. */
  del(node: number, keys: readonly string[], timeoutMs: number): Promise<number | RemoteFailure>;
  /** Every key in each of `slots` on `node` (the sweeper's scan: a namespace's keys live in 257 known slots). */
  keysInSlots(node: number, slots: readonly number[], timeoutMs: number): Promise<string[][] | RemoteFailure>;
  /** Commands in one pipeline on `node`; per command its reply or failure. */
  exec(node: number, commands: readonly (readonly (string | number | Uint8Array)[])[], timeoutMs: number): Promise<(unknown | RemoteFailure)[]>;
  close(): Promise<void>;
}

/** Classifies an error from a Redis reply or the client. */
export function classify(error: unknown): RemoteFailure {
  const message = error instanceof Error ? error.message : String(error);
  const word = message.split(' ', 1)[0];
  switch (word) {
    case 'MOVED':
    case 'ASK':
      return new RemoteFailure(word === 'MOVED' ? 'moved' : 'ask', message);
    case 'TRYAGAIN':
      return new RemoteFailure('tryagain', message);
    case 'CLUSTERDOWN':
      return new RemoteFailure('clusterdown', message);
    case 'NOREPLICAS':
      return new RemoteFailure('noreplicas', message);
    case 'OOM':
      return new RemoteFailure('nomem', message);
    case 'READONLY':
      return new RemoteFailure('readonly', message);
    case 'LOADING':
      return new RemoteFailure('loading', message);
  }
  if (/timed out/i.test(message)) return new RemoteFailure('timeout', message);
  if (/ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|closed|writeable|connect|max retries/i.test(message)) {
    return new RemoteFailure('connection', message);
  }
  return new RemoteFailure('other', message);
}

/** The `host:port` of a MOVED or ASK reply. */
export function redirectAddress(message: string): string | null {
  const m = /^(?:MOVED|ASK) \d+ (\S+)$/.exec(message);
  return m ? m[1] : null;
}
