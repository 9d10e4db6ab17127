// SwapCache's options: their types (lru-cache's names where the concept is the same) and their
// validation, which runs before the constructor touches anything.
import { ALLOCATORS } from '../../backends/options';
import type { BackendChoice } from '../../backends/registry';
import { TmemError } from '../../util/errors';
import { MAX_AREA_PAGES, SwapArea } from '../../swap/area';
import { checkBoolean, checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../../util/validate';
import { resolveSerializer, type Serializer, type SerializerOption } from '../serializer';
import { MAX_TTL } from './expiry';
import type { KeyIndexKind } from './key-index';
import type { DisposeReason } from './store';

export type { DisposeReason };

export interface FetcherOptions<V> {
  /** Aborted when the key is set, deleted or evicted while the fetch runs, or the cache closes. */
  signal: AbortSignal;
  /** The options fetch() was called with. */
  options: FetchOptions<V>;
  /** fetch()'s `context` option. */
  context: unknown;
}

export type FetchMethod<V> = (key: string, staleValue: V | undefined, options: FetcherOptions<V>) => Promise<V | undefined> | V | undefined;

export interface SwapCacheOptions<V> {
  /** Memory for resident values (their bytes plus 8 each), least recently used out first. Default 64 MiB. */
  residentBytes?: number;
  /**
   * Cap on the bytes of all values held, resident and swapped. Over it the least recently used
   * entries are dropped (dispose reason 'evict'). Default: none — everything is kept until the
   * swap area is full and set() throws ERR_TMEM_SWAP_FULL.
   */
  maxBytes?: number;
  /** Swap area to use; default: a new swap file in a private temporary directory, removed by close(). */
  area?: SwapArea;
  /** Path for the swap file when no `area` is given. */
  path?: string;
  /** Slots of the swap file when no `area` is given. Default 262,144 (1 GiB, sparse). */
  pages?: number;
  /** How values are turned into bytes: 'v8', 'json', or your own. Default none: values must be Uint8Array. */
  serializer?: SerializerOption<V>;
  /** Longest key accepted, in UTF-16 code units (at most 65,536). Default 1024. */
  maxKeyLength?: number;
  /**
   * Backend to load if none is loaded yet: 'default' (zcache, or zcache-js where the addon is
   * missing), a name, or 'none' to leave cold values to the swap file alone. Default 'default'.
   */
  backend?: BackendChoice;
  /** Default time to live of entries, in ms (0: none). At most 2^31 - 1. */
  ttl?: number;
  /** Return an expired value once (then remove it) instead of undefined; fetch() serves it while it refreshes. */
  allowStale?: boolean;
  /** A get() of an entry with a ttl starts its ttl again. */
  updateAgeOnGet?: boolean;
  /** Remove expired entries on a timer as they expire, instead of when they are read or a set() sweeps. */
  ttlAutopurge?: boolean;
  /** Called after a value leaves the cache: reason 'set' (replaced), 'delete', 'expire' or 'evict' (maxBytes). */
  dispose?: (value: V, key: string, reason: DisposeReason) => void;
  /** What fetch() calls for a missing or stale key. */
  fetchMethod?: FetchMethod<V>;
  /**
   * Drop the swap file's page cache every 8 MiB of swap traffic (needs the addon). It duplicates
   * the tiers above it and a memory cgroup charges it; false lets the kernel keep it, which makes
   * swap-file hits faster while memory is plentiful. Default true.
   */
  dropFileCache?: boolean;
  /** Key index implementation: 'native' (default when the addon loads) or 'js' (typed arrays). */
  keyIndex?: KeyIndexKind;
  /** Clock for ttl (a performance-like object). Default `performance`. */
  perf?: { now(): number };
}

export interface GetOptionsArg {
  allowStale?: boolean;
  updateAgeOnGet?: boolean;
}

export interface SetOptions {
  /** Time to live of this entry in ms (0: none); default the cache's ttl. */
  ttl?: number;
}

export interface FetchOptions<V> extends GetOptionsArg, SetOptions {
  /** Call fetchMethod even when a fresh value is cached. */
  forceRefresh?: boolean;
  /** Passed to fetchMethod as options.context. */
  context?: unknown;
  /** Aborting it aborts this fetch (and rejects its promise). */
  signal?: AbortSignal;
  /** @internal */
  readonly __value?: V;
}

const OPTION_KEYS = [
  'residentBytes',
  'maxBytes',
  'area',
  'path',
  'pages',
  'serializer',
  'maxKeyLength',
  'backend',
  'ttl',
  'allowStale',
  'updateAgeOnGet',
  'ttlAutopurge',
  'dispose',
  'fetchMethod',
  'keyIndex',
  'perf',
  'dropFileCache',
];

export interface Parsed<V> {
  residentBytes: number;
  maxBytes: number;
  area: SwapArea | null;
  path: string | null;
  pages: number;
  serializer: Serializer<V> | null;
  custom: boolean;
  maxKeyLength: number;
  backend: BackendChoice;
  ttl: number;
  allowStale: boolean;
  updateAgeOnGet: boolean;
  ttlAutopurge: boolean;
  dispose: SwapCacheOptions<V>['dispose'] | null;
  fetchMethod: FetchMethod<V> | null;
  keyIndex: KeyIndexKind | null;
  dropFileCache: boolean;
  now: () => number;
}

const optBool = (name: string, v: unknown): boolean => (v === undefined ? false : checkBoolean(name, v));

function optFunction<F>(name: string, v: unknown): F | null {
  if (v === undefined) return null;
  if (typeof v !== 'function') throw new TypeError(`${name} must be a function, got ${describe(v)}`);
  return v as F;
}

export const checkTtl = (name: string, v: unknown, dflt: number): number => (v === undefined ? dflt : checkInteger(name, v, 0, MAX_TTL));

export function parseOptions<V>(options: unknown): Parsed<V> {
  const o = checkOptionsObject('SwapCache', options);
  checkOptionKeys('SwapCache', o, OPTION_KEYS);
  let area: SwapArea | null = null;
  if (o.area !== undefined) {
    if (o.path !== undefined || o.pages !== undefined) throw new TypeError('give either area or path/pages, not both');
    if (!(o.area instanceof SwapArea)) throw new TypeError(`area must be a SwapArea, got ${describe(o.area)}`);
    if (!o.area.active) throw new TypeError('area was swapped off');
    area = o.area;
  }
  if (o.path !== undefined && (typeof o.path !== 'string' || o.path.length === 0)) {
    throw new TypeError(`path must be a non-empty string, got ${describe(o.path)}`);
  }
  const backend = o.backend ?? 'default';
  if (typeof backend !== 'string') throw new TypeError(`backend must be a string, got ${describe(backend)}`);
  if (backend !== 'default' && backend !== 'none' && !(backend in ALLOCATORS)) {
    throw new TmemError('ERR_TMEM_UNKNOWN_BACKEND', `unknown backend '${backend}' (available: default, none, ${Object.keys(ALLOCATORS).join(', ')})`);
  }
  if (o.keyIndex !== undefined && o.keyIndex !== 'native' && o.keyIndex !== 'js') {
    throw new TypeError(`keyIndex must be 'native' or 'js', got ${describe(o.keyIndex)}`);
  }
  let now = () => performance.now();
  if (o.perf !== undefined) {
    const perf = o.perf as { now?: unknown } | null;
    if (perf === null || typeof perf !== 'object' || typeof perf.now !== 'function') {
      throw new TypeError(`perf must be an object with a now() method, got ${describe(o.perf)}`);
    }
    now = () => (perf as { now(): number }).now();
  }
  return {
    residentBytes: o.residentBytes === undefined ? 64 << 20 : checkInteger('residentBytes', o.residentBytes, 0, 2 ** 32),
    maxBytes: o.maxBytes === undefined ? Infinity : checkInteger('maxBytes', o.maxBytes, 1, Number.MAX_SAFE_INTEGER),
    area,
    path: (o.path as string | undefined) ?? null,
    pages: o.pages === undefined ? 1 << 18 : checkInteger('pages', o.pages, 2, MAX_AREA_PAGES),
    serializer: o.serializer === undefined ? null : resolveSerializer<V>(o.serializer as SerializerOption<V>),
    custom: typeof o.serializer === 'object',
    maxKeyLength: o.maxKeyLength === undefined ? 1024 : checkInteger('maxKeyLength', o.maxKeyLength, 1, 2 ** 16),
    backend: backend as BackendChoice,
    ttl: checkTtl('ttl', o.ttl, 0),
    allowStale: optBool('allowStale', o.allowStale),
    updateAgeOnGet: optBool('updateAgeOnGet', o.updateAgeOnGet),
    ttlAutopurge: optBool('ttlAutopurge', o.ttlAutopurge),
    dispose: optFunction('dispose', o.dispose),
    fetchMethod: optFunction('fetchMethod', o.fetchMethod),
    keyIndex: (o.keyIndex as KeyIndexKind | undefined) ?? null,
    dropFileCache: o.dropFileCache === undefined ? true : checkBoolean('dropFileCache', o.dropFileCache),
    now,
  };
}
