// The contracts between the hook layers (frontswap, later cleancache) and a backend module.
// They mirror the kernel's frontswap_ops: the front end validates every argument and keeps the
// "is this offset in frontswap" bitmap, so a backend only ever sees well-formed calls.

import type { PageSeals } from '../swap/page-seals';
import type { RemoteOptions } from '../remote/options';

export const PAGE_SIZE = 4096;

/** What a backend learns about a swap area when it is initialised for it. */
export interface AreaInfo {
  /** Small integer naming the area, like a swap device's type. */
  readonly type: number;
  /** Number of page slots in the area; valid offsets are 0 .. pages-1. */
  readonly pages: number;
  /** Path of the swap file. */
  readonly path: string;
  /** Open file descriptor of the swap file, for writeback with pwrite. */
  readonly fd: number;
  /** The per-slot checksums (and encryption) every page written to the file must carry. */
  readonly seals: PageSeals;
}

/**
 * The frontswap ops vector. `offsets` in batch calls are validated by the caller; `pages` and
 * `into` hold `offsets.length` pages back to back.
 */
export interface FrontswapOps {
  /**
   * True when the backend reads every Uint8Array argument only through its internal slots (N-API
   * calls): single-page calls then hand it the caller's own array. Other backends always get
   * plain views of the caller's memory, never an object whose methods or getters a caller defined.
   */
  readonly inPlaceViews?: boolean;
  init(type: number, area: AreaInfo): void;
  /** Returns true when the backend now holds the page; false is a refusal (the old copy, if any, is gone). */
  store(type: number, offset: number, page: Uint8Array): boolean;
  /** Fills `into` and returns true on a hit. With `exclusive` the backend also drops its copy. */
  load(type: number, offset: number, into: Uint8Array, exclusive: boolean): boolean;
  invalidatePage(type: number, offset: number): void;
  invalidateArea(type: number): void;
  /** Stores each page; results[i] = 1 when page i was stored. Returns the number stored. */
  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results: Uint8Array): number;
  /** Loads each page; hits[i] = 1 when page i was found and written to its place in `into`. Returns the number of hits. */
  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number;
  invalidateBatch(type: number, offsets: Uint32Array): void;
  /**
   * loadBatch, never exclusive, that does not block the event loop (a remote tier fetches its
   * pages on its worker thread): the count at once when no page had to be fetched, else a promise.
   * Optional: without it, loadBatch serves async loads too.
   */
  loadBatchAsync?(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array): number | Promise<number>;
  /** What the pool holds for one area now: pages (same-filled included) and their compressed bytes. */
  areaStats?(type: number): { pages: number; compressedBytes: number };
}

/**
 * The cleancache ops vector (DESIGN §5). Pool ids are the backend's own. `key` is six 32-bit words
 * in a buffer the caller reuses: copy it to keep it. Pages are clean and ephemeral: the backend may
 * drop any of them at any time.
 */
export interface CleancacheOps {
  /** As FrontswapOps.inPlaceViews. */
  readonly inPlaceViews?: boolean;
  initFs(pageSize: number): number;
  /** Same uuid, same pool. */
  initSharedFs(uuid: string, pageSize: number): number;
  /** Fills `into` on a hit. With `exclusive` (private pools) the backend drops its copy. */
  getPage(pool: number, key: Uint32Array, index: number, into: Uint8Array, exclusive: boolean): boolean;
  /** Replaces any older copy; when the new page is not kept, the older copy is dropped too. */
  putPage(pool: number, key: Uint32Array, index: number, page: Uint8Array, wasActive: boolean): void;
  invalidatePage(pool: number, key: Uint32Array, index: number): void;
  invalidateInode(pool: number, key: Uint32Array): void;
  invalidateFs(pool: number): void;
}

/** Counter values by name, for one directory of the debugfs tree. */
export type CounterSet = Record<string, number>;

/** A loaded backend module: what `loadBackend` registers with the hook layers. */
export interface Backend {
  readonly name: string;
  readonly frontswap: FrontswapOps;
  /** Present when the backend also keeps clean file pages (zcache's ephemeral pool). */
  readonly cleancache?: CleancacheOps;
  /**
   * All of the backend's counters in one call, grouped by debugfs directory
   * (e.g. { zcache: {...}, zbud: {...} }).
   */
  stats(): Record<string, CounterSet>;
  /**
   * Compacts the pool now: moves objects out of sparsely used frames into denser ones and returns
   * the emptied frames to the OS. Returns the number of frames released (0 for allocators that
   * cannot move objects).
   */
  compact(): number;
  /** Resolves once no background writeback is in flight. */
  flush(): Promise<void>;
  /** Stops background writeback and releases everything the backend holds (the registry drains pages to the swap files first). */
  close(): Promise<void>;
}

/** Options common to both zcache backends (native `zcache` and pure-JS `zcache-js`). */
export interface ZcacheOptions {
  /**
   * Allocator placing compressed pages in the pool's frames: 'zsmalloc' (size classes, densest),
   * 'z3fold' (up to three per frame) or 'zbud' (up to two). Default: the backend's first in ALLOCATORS.
   */
  allocator?: 'zsmalloc' | 'z3fold' | 'zbud';
  /** Upper bound of the pool (page frames in use), in bytes. Default: 20% of available memory. */
  maxPoolBytes?: number;
  /** The cap as a percentage of the memory available to the process (cgroup v2 limit, else physical memory). */
  maxPoolPercent?: number;
  /** Once the pool was full, stores are refused until it is back under this percentage of the cap. Default 90. */
  acceptThresholdPercent?: number;
  /** Background writeback of cold pages to the swap files (default on), or false to only refuse stores when full. */
  writeback?: boolean | WritebackOptions;
  /** Pages that compress to more than this many bytes are refused ("compress_poor"). Default 3584 (7/8 page). */
  maxCompressedBytes?: number;
  /**
   * Pages compressing to more than this many bytes are refused while the running mean compressed size
   * is also above it (zcache's second rule). Default 2560 (5/8 page).
   */
  maxMeanCompressedBytes?: number;
  /** Store pages that compress poorly raw (a whole frame) instead of refusing them. Default false. */
  storeIncompressible?: boolean;
  /** Ignore cleancache puts whose page was never active (`putPage(..., { wasActive: false })`). Default false. */
  ignoreNonactivePuts?: boolean;
  /** Let takePage() drop the backend copy in the same call (frontswap exclusive gets). Default true. */
  exclusiveGets?: boolean;
  /**
   * RAMster's remote tier: cold compressed pages move to a Redis Cluster (README "Remote tier").
   * Needs `await loadBackend(...)` (the tier connects first) and writeback (remotify is its first step).
   */
  remote?: RemoteBackendOptions;
}

/** `remote` of a zcache backend: the tier's options plus writethrough. */
export interface RemoteBackendOptions extends RemoteOptions {
  /**
   * Also write each page that goes remote to its swap-file slot, so that a shard lost with all its
   * replicas costs a file read instead of the page (ERR_TMEM_REMOTE_LOST). Default false.
   */
  writethrough?: boolean;
}

/** Knobs of the writeback policy; see README "Writeback policy". */
export interface WritebackOptions {
  /** Background writeback starts when the pool reaches this percentage of the cap. Default 90. */
  highWatermarkPercent?: number;
  /** ... and stops under this one. Default 80. */
  lowWatermarkPercent?: number;
  /** Pages per background batch. Default 64. */
  batchPages?: number;
  /** Cap on pages being written back at once. Default 256. */
  maxInFlightPages?: number;
  /** Pause between batches in ms. Default 0. */
  intervalMs?: number;
  /** Pages written back synchronously by a store that finds the pool full. Default 32; 0 disables. */
  directReclaimPages?: number;
}

export type BackendFactory = (options: ZcacheOptions) => Promise<Backend> | Backend;
