// Loads the native addon (native/, built by binding.gyp) and declares its surface.
//
// The addon is optional: everything that needs it goes through loadNative(), which fails with
// ERR_TMEM_NATIVE_UNAVAILABLE rather than at import time, so the pure-JS backend keeps working on
// platforms without a build. Both the outcome and a failure are cached: a missing addon does not
// appear later in the process.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PageSeals } from '../swap/page-seals';
import { TmemError } from '../util/errors';

export const PAGE_SIZE = 4096;

/** What pool.store() returns: > 0 the page is held, < 0 why it was refused. */
export const StoreStatus = {
  /** Stored LZ4-compressed. */
  Compressed: 1,
  /** Every 32-bit word of the page was equal; kept as that word, no pool memory used. */
  SameFilled: 2,
  /** Stored uncompressed in a whole frame (storeIncompressible). */
  Raw: 3,
  /** Compressed size above maxCompressedBytes (or not smaller than a page). */
  CompressPoor: -1,
  /** Compressed size above maxMeanCompressedBytes while the pool's mean is above it too. */
  MeanCompressPoor: -2,
  /** No frame available: the pool is at maxPoolBytes. Starts the accept-threshold hysteresis. */
  AllocFail: -3,
  /** LZ4 failed (not expected to happen). */
  CompressFail: -4,
  /** The pool was full and is not yet back under acceptThresholdPercent of maxPoolBytes. */
  PoolFull: -5,
} as const;
export type StoreStatus = (typeof StoreStatus)[keyof typeof StoreStatus];

export interface NativeVersions {
  /** LZ4_versionString() of the linked liblz4 (the system's liblz4.a where the addon was built). */
  lz4: string;
  /** NAPI_VERSION the addon was built for. */
  napi: number;
}

export interface NativePoolOptions {
  /** Hard cap on page frames in use, in bytes (rounded down to whole 4 KiB frames). Default 64 GiB. */
  maxPoolBytes?: number;
  /** compress_poor cap, 0..4096. Default 3584. */
  maxCompressedBytes?: number;
  /** compress_poor cap that applies while the mean compressed size is above it, 0..4096. Default 2560. */
  maxMeanCompressedBytes?: number;
  /** Store pages that fail the maxCompressedBytes rule raw instead of refusing them. Default false. */
  storeIncompressible?: boolean;
  /**
   * Once a store found the pool at maxPoolBytes (AllocFail), stores needing pool memory are
   * refused (PoolFull) until the pool is below this percentage of maxPoolBytes, 0..100. Default 90.
   */
  acceptThresholdPercent?: number;
  /** Ignore ephPut calls with wasActive false (cleancache's hint); the older copy is still dropped. Default false. */
  ignoreNonactivePuts?: boolean;
  /** The object allocator: 'zsmalloc' (default), 'z3fold' or 'zbud'. */
  allocator?: 'zsmalloc' | 'z3fold' | 'zbud';
  /**
   * Compact size classes that frees pushed over the allocator's fragmentation threshold at the
   * end of the operation that freed (default true). With false only writeback and compact() do.
   */
  autoCompact?: boolean;
}

/**
 * A native zcache pool. Offsets are checked against the area's size; types are 0..31. Cheap
 * argument checks throw TypeError (code ERR_INVALID_ARG_TYPE) or RangeError (ERR_OUT_OF_RANGE,
 * ERR_TMEM_NO_AREA) and change nothing; every method except close() throws ERR_TMEM_CLOSED
 * after close().
 */
export interface NativePool {
  /**
   * Counter names in stats() order, as 'dir/name' paths: Pool.statNames, then the allocator's own
   * (zsmalloc/..., z3fold/... or zbud/...). One frozen array per allocator, shared by its pools.
   */
  readonly statNames: readonly string[];
  /** The allocator this pool was created with. */
  readonly allocator: 'zsmalloc' | 'z3fold' | 'zbud';
  /**
   * Creates the index of area `type` for offsets 0..pages-1. Throws ERR_TMEM_AREA_EXISTS if already
   * initialised. Writeback seals each page it writes into `seals` (kept referenced until invalidateArea).
   */
  initArea(type: number, pages: number, fd: number, seals: PageSeals): void;
  /** `page` must be 4096 bytes. An existing entry is dropped even when the store is refused. */
  store(type: number, offset: number, page: Uint8Array): StoreStatus;
  /** Fills `into` (4096 bytes) on a hit. With `exclusive` the entry is freed after the copy. */
  load(type: number, offset: number, into: Uint8Array, exclusive: boolean): boolean;
  invalidatePage(type: number, offset: number): void;
  /** Drops every entry of the area and forgets the area (initArea may be called again). */
  invalidateArea(type: number): void;
  /** pages.length === offsets.length * 4096, results.length === offsets.length. Returns the number stored. */
  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results: Int8Array): number;
  /** into.length === offsets.length * 4096, hits.length === offsets.length. Returns the number of hits. */
  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number;
  invalidateBatch(type: number, offsets: Uint32Array): void;
  // ---- Ephemeral pool (cleancache pages). `key` is a Uint32Array of exactly 6 words, read during
  // the call only. get/put of an unknown pool id throw RangeError (ERR_TMEM_UNKNOWN_POOL);
  // invalidations of one do nothing.
  /** A new private pool: the lowest free id. */
  ephInitFs(): number;
  /** The pool of `uuid` (non-empty), created on first use; every call adds a user. */
  ephInitSharedFs(uuid: string): number;
  /**
   * Fills `into` (4096 bytes) on a hit. `exclusive` drops the page after the copy; otherwise its
   * frame becomes the most recently used. A page that fails to decompress is dropped (a miss).
   */
  ephGet(pool: number, key: Uint32Array, index: number, into: Uint8Array, exclusive: boolean): boolean;
  /** Drops any older copy, then keeps `page` (4096 bytes) if it can: it may be dropped at any time. */
  ephPut(pool: number, key: Uint32Array, index: number, page: Uint8Array, wasActive: boolean): void;
  ephInvalidatePage(pool: number, key: Uint32Array, index: number): void;
  ephInvalidateInode(pool: number, key: Uint32Array): void;
  /** Drops one user of the pool; with the last, its pages go and the id is free for reuse. */
  ephInvalidateFs(pool: number): void;
  /** Fills out[i] with the counter named statNames[i]; out.length >= statNames.length. */
  stats(out: Float64Array): void;
  /**
   * What the pool holds for area `type` (0..31) now: out[0] = pages (same-filled included),
   * out[1] = the sum of their stored lengths (compressed length; 4096 for a raw page, 0 for a
   * same-filled one). Pages being written back count until their batch drops them. An
   * uninitialised area gives zeros. out.length >= 2.
   */
  areaStats(type: number, out: Float64Array): void;
  /**
   * Makes room: first drops the units (frames, zspages) of least recently used ephemeral pages
   * (no I/O) and compacts, then writes up to the rest of `maxPages` (1..2^20) least recently used
   * persistent pages (second chance) to their slots in their areas' swap files (the fd given to
   * initArea; areas with fd -1 are skipped), drops them from the pool and compacts again, on the
   * libuv thread pool. `callback(null, written)` runs on this thread, written counting the
   * ephemeral pages dropped plus the persistent pages written back; it is 0 when
   * nothing was cold enough, on an I/O error before any page was written, and after close().
   * Pages a failed pwrite did not write stay in the pool (reject_reclaim_fail, once per page of
   * the failed write). Same-filled pages
   * are never written back. A load of a written-back page misses: read the file.
   */
  writeback(maxPages: number, callback: (err: Error | null, written: number) => void): void;
  /** writeback() on the calling thread (direct reclaim); returns the number written. */
  writebackSync(maxPages: number): number;
  /** Remote tier: see RemotePool in lib/backends/remote/remote-pool.ts (pool.h, "Remote tier"). */
  remotePick(payloads: Uint8Array, lengths: Uint32Array, types: Uint32Array, offsets: Uint32Array): number;
  remoteFinish(ok: Uint8Array, committed: Uint8Array): number;
  decompress(payload: Uint8Array, into: Uint8Array): boolean;
  /** Bytes of page frames in use (zcache/pool_total_size), without a lock. */
  poolBytes(): number;
  /**
   * Compacts now: moves objects out of sparsely used zspages into dense ones (zsmalloc) and
   * returns the frames given back to the arena; 0 for allocators that cannot move objects
   * between frames. Handles stay valid; safe while writeback batches run.
   */
  compact(): number;
  /**
   * Frees the pool's native memory now. Idempotent. Waits for writeback batches already
   * writing; queued ones complete with 0.
   */
  close(): void;
}

export interface NativePoolConstructor {
  new (options?: NativePoolOptions): NativePool;
  /** The counters every pool has, whatever its allocator (a prefix of each pool's statNames). */
  readonly statNames: readonly string[];
}

/**
 * liblz4's raw block functions (native/napi/lz4_wrap.cc), for tests and the benchmark: the reference
 * the pure-JS codec (lib/lz4) is checked against. Capacities are the arrays' lengths; results are
 * liblz4's own.
 */
export interface NativeLz4 {
  /** LZ4_compress_default: the block length, 0 when `dst` is too small. */
  compress(src: Uint8Array, dst: Uint8Array): number;
  /** LZ4_decompress_safe: the bytes written to `dst`, or a negative number for a malformed block. */
  decompress(src: Uint8Array, dst: Uint8Array): number;
  /** LZ4_compressBound. */
  compressBound(n: number): number;
}

export interface NativeBinding {
  readonly PAGE_SIZE: 4096;
  versions(): NativeVersions;
  readonly Pool: NativePoolConstructor;
  /** CRC32C of the bytes (hardware instructions where the CPU has them); same values as lib/util/crc32c.ts. */
  crc32c(data: Uint8Array): number;
  /** Which CRC32C implementation crc32c uses: 'sse4.2', 'armv8' or 'table'. */
  readonly crc32cImpl: string;
  readonly lz4: NativeLz4;
}

let root: string | undefined;

/**
 * The directory holding tmem's package.json. This file runs both as dist/native/binding.js and,
 * under vitest, as lib/native/binding.ts, so the root is found by walking up, not by a fixed
 * number of '..'.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`tmem: no package.json above ${__dirname}`);
    dir = parent;
  }
  root = dir;
  return root;
}

let cached: { binding: NativeBinding } | { error: TmemError } | undefined;

/** The addon, loaded once. Throws ERR_TMEM_NATIVE_UNAVAILABLE (every time) if it cannot be loaded. */
export function loadNative(): NativeBinding {
  if (cached === undefined) {
    try {
      // node-gyp-build finds build/Release/*.node or a matching prebuild under prebuilds/.
      // TMEM_NATIVE_ADDON names another build of the same sources to load instead, such as the
      // ASan + UBSan one the sanitizer CI stage runs the suites on (native/build/sanitize-js.sh).
      const load = require('node-gyp-build') as (dir: string) => unknown;
      const other = process.env.TMEM_NATIVE_ADDON;
      cached = { binding: (other ? require(resolve(other)) : load(packageRoot())) as NativeBinding };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      cached = {
        error: new TmemError(
          'ERR_TMEM_NATIVE_UNAVAILABLE',
          `tmem: the native addon could not be loaded (${reason}). ` +
            "The pure-JS backend 'zcache-js' works without it.",
          { cause: err },
        ),
      };
    }
  }
  if ('error' in cached) throw cached.error;
  return cached.binding;
}
