// Options of the remote tier (`remote: {...}` on a zcache backend), validated up front so a
// misspelt or out-of-range option fails before any thread or connection exists.
import { checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';

export interface RemoteNode {
  host: string;
  port: number;
}

export interface RemoteOptions {
  /** Seed nodes of the Redis Cluster; the rest of the cluster is discovered from them. */
  nodes: RemoteNode[];
  /**
   * Replicas that must acknowledge a batch (WAIT) before its pages count as remote and may leave
   * local memory. Default 1: survives the loss of any one node per shard. 0 trusts the master
   * alone (a master crash before replication loses the batch).
   */
  replicas?: number;
  /** WAIT timeout in ms; a batch not acknowledged in time stays local. Default 250. */
  waitTimeoutMs?: number;
  /** A read the master has not answered in this many ms goes to a replica too. Default 100. */
  readTimeoutMs?: number;
  /**
   * Total time a load keeps trying (replicas, topology refresh, failover) before it reports the
   * page unreachable. Should exceed the cluster's node timeout plus the election (≈ 1–2 s). Default 5000.
   */
  loadTimeoutMs?: number;
  /** Connection timeout in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Most pages in one batch write (one MSET). Default 64. */
  batchPages?: number;
  /** Lifetime of the namespace lease in ms, refreshed every quarter of it; a process silent this long is presumed dead and swept. Default 30000. */
  leaseTtlMs?: number;
  /** How often every group's canary is checked, in ms; 0 checks only on writes. Default 2000. */
  canaryIntervalMs?: number;
  /** How often namespaces of dead processes are looked for, in ms; 0 only at attach. Default 60000. */
  sweepIntervalMs?: number;
}

export type RemoteConfig = Required<RemoteOptions>;

export const REMOTE_DEFAULTS: Omit<RemoteConfig, 'nodes'> = {
  replicas: 1,
  waitTimeoutMs: 250,
  readTimeoutMs: 100,
  loadTimeoutMs: 5000,
  connectTimeoutMs: 1000,
  batchPages: 64,
  leaseTtlMs: 30_000,
  canaryIntervalMs: 2000,
  sweepIntervalMs: 60_000,
};

const LIMITS: Record<keyof typeof REMOTE_DEFAULTS, [number, number]> = {
  replicas: [0, 16],
  waitTimeoutMs: [1, 60_000],
  readTimeoutMs: [1, 60_000],
  loadTimeoutMs: [1, 600_000],
  connectTimeoutMs: [1, 60_000],
  batchPages: [1, 1024],
  leaseTtlMs: [1000, 86_400_000],
  canaryIntervalMs: [0, 3_600_000],
  sweepIntervalMs: [0, 86_400_000],
};

function parseNode(value: unknown, i: number): RemoteNode {
  const o = checkOptionsObject(`remote.nodes[${i}]`, value);
  checkOptionKeys(`remote.nodes[${i}]`, o, ['host', 'port']);
  if (typeof o.host !== 'string' || o.host === '') throw new TypeError(`remote.nodes[${i}].host must be a host name or address, got ${describe(o.host)}`);
  return { host: o.host, port: checkInteger(`remote.nodes[${i}].port`, o.port, 1, 65535) };
}

export function parseRemoteOptions(value: unknown): RemoteConfig {
  if (value === undefined) throw new TypeError('remote options are required (at least { nodes: [{ host, port }] })');
  const o = checkOptionsObject('remote', value);
  checkOptionKeys('remote', o, ['nodes', ...Object.keys(REMOTE_DEFAULTS)]);
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) {
    throw new TypeError(`remote.nodes must be a non-empty array of { host, port }, got ${describe(o.nodes)}`);
  }
  const config = { nodes: o.nodes.map(parseNode), ...REMOTE_DEFAULTS };
  for (const key of Object.keys(REMOTE_DEFAULTS) as (keyof typeof REMOTE_DEFAULTS)[]) {
    if (o[key] !== undefined) config[key] = checkInteger(`remote.${key}`, o[key], ...LIMITS[key]);
  }
  return config;
}
