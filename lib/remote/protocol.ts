// Messages between the main thread (tier.ts) and the remote tier's worker (worker.ts). Typed
// arrays travel by copy on the way in and by transfer on the way back.
import type { Kind } from './format';
import type { RemoteConfig } from './options';
import type { SyncEndpoint } from './sync-channel';

export interface WorkerData {
  config: RemoteConfig;
  /** Counters (at countersAt) and the loss table (at lossesAt). */
  shared: SharedArrayBuffer;
  countersAt: number;
  lossesAt: number;
  sync: SyncEndpoint;
}

export type Request =
  | { op: 'write'; id: number; kind: Kind; idents: Uint32Array; payloads: Uint8Array; lengths: Uint32Array }
  | { op: 'read'; id: number; kind: Kind; handles: Float64Array; idents: Uint32Array }
  | { op: 'delete'; id: number; kind: Kind; handles: Float64Array }
  | { op: 'check'; id: number }
  | { op: 'sweep'; id: number }
  | { op: 'close'; id: number; purge: boolean };

/** A request before the tier numbers it. */
export type RequestBody = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export interface WriteReply {
  count: number;
  results: Uint8Array;
  handles: Float64Array;
}

export interface ReadReply {
  status: Uint8Array;
  lengths: Uint32Array;
  /** Payloads of the Ok pages, back to back in page order. */
  packed: Uint8Array;
}

export type WorkerEvent =
  | { id: number; reply: WriteReply | ReadReply | number | null }
  | { id: number; error: string }
  /** Attached to the cluster (at start, or later after a degraded start), or not. */
  | { event: 'ready' | 'attached'; attached: boolean; namespace: string | null }
  /** A group's canary was gone: its pages so far are lost. */
  | { event: 'lost'; group: number };
