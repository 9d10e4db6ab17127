// The cleancache hook layer (DESIGN §5), after mm/cleancache.c. A file cache hands clean pages it
// is about to drop to the backend (put) and asks for them before going to storage (get). Pages are
// ephemeral: a put may be dropped at any moment and a get may miss, so callers always keep a way
// to read the data again.
//
// Filesystems (pools) may be created before any backend is loaded; they get placeholder ids that
// are bound to real backend pools when one registers, and unbound again when it goes away.
import type { CleancacheOps } from '../backends/types';
import { PAGE_SIZE } from '../backends/types';
import { debugfs } from '../debugfs/tree';
import { TmemError } from '../util/errors';
import { placeInFreeSlot } from '../util/slots';
import { checkBoolean, checkInteger, checkOptionKeys, checkOptionsObject, checkPage, checkWords, describe, plainBytes, typedArrayKind, unshared } from '../util/validate';

/** A file key: an inode-like number, or a file handle of up to six 32-bit words. */
export type FileKey = number | Uint32Array | readonly number[];

export const FILEKEY_WORDS = 6;
/** Page indexes are 32-bit, as in the kernel's cleancache: the first 16 TiB of a file. */
export const MAX_PAGE_INDEX = 0xffffffff;

interface Pool {
  /** Backend pool id while a backend is registered, else -1. */
  backendId: number;
  /** Set for shared pools: pools created with the same uuid are one pool. */
  uuid: string | null;
  /** initFs/initSharedFs calls not yet matched by invalidateFs. */
  users: number;
}

export class Cleancache {
  #ops: CleancacheOps | null = null;
  #pools: (Pool | undefined)[] = [];
  #key = new Uint32Array(FILEKEY_WORDS);
  #succGets = 0;
  #failedGets = 0;
  #puts = 0;
  #invalidates = 0;

  get enabled(): boolean {
    return this.#ops !== null;
  }

  counters(): Record<string, number> {
    return { succ_gets: this.#succGets, failed_gets: this.#failedGets, puts: this.#puts, invalidates: this.#invalidates };
  }

  /** Binds every existing pool (placeholder ids) to the backend. */
  registerOps(ops: CleancacheOps): void {
    if (this.#ops) throw new TmemError('ERR_TMEM_BACKEND_LOADED', 'cleancache already has a backend registered');
    const bound: number[] = [];
    try {
      for (const pool of this.#pools) {
        if (!pool) continue;
        pool.backendId = pool.uuid === null ? ops.initFs(PAGE_SIZE) : ops.initSharedFs(pool.uuid, PAGE_SIZE);
        bound.push(pool.backendId);
      }
    } catch (err) {
      for (const id of bound) ops.invalidateFs(id);
      for (const pool of this.#pools) if (pool) pool.backendId = -1;
      throw err;
    }
    this.#ops = ops;
  }

  /** Unbinds every pool; their pages are gone with the backend. */
  unregisterOps(): void {
    this.#ops = null;
    for (const pool of this.#pools) if (pool) pool.backendId = -1;
  }

  /** A private pool for one filesystem (or one cache); pages are removed by a successful get. */
  initFs(pageSize = PAGE_SIZE): number {
    this.#checkPageSize(pageSize);
    const backendId = this.#ops ? this.#ops.initFs(pageSize) : -1;
    return placeInFreeSlot(this.#pools, { backendId, uuid: null, users: 1 }, undefined);
  }

  /** A pool shared by every caller giving the same uuid; a get leaves the page in place. */
  initSharedFs(uuid: string, pageSize = PAGE_SIZE): number {
    if (typeof uuid !== 'string' || uuid.length === 0 || uuid.length > 128) {
      throw new TypeError(`uuid must be a non-empty string of at most 128 characters, got ${describe(uuid)}`);
    }
    this.#checkPageSize(pageSize);
    const existing = this.#pools.findIndex((p) => p?.uuid === uuid);
    if (existing >= 0) {
      this.#pools[existing]!.users++;
      return existing;
    }
    const backendId = this.#ops ? this.#ops.initSharedFs(uuid, pageSize) : -1;
    return placeInFreeSlot(this.#pools, { backendId, uuid, users: 1 }, undefined);
  }

  /** Fills `into` and returns true when the backend still has the page. */
  getPage(pool: number, key: FileKey, index: number, into: Uint8Array): boolean {
    const p = this.#pool(pool);
    const k = this.#fileKey(key);
    checkInteger('index', index, 0, MAX_PAGE_INDEX);
    const page = checkPage('into', into);
    const ops = this.#ops;
    if (p.backendId >= 0 && ops!.getPage(p.backendId, k, index, ops!.inPlaceViews ? page : plainBytes(page), p.uuid === null)) {
      this.#succGets++;
      return true;
    }
    this.#failedGets++;
    return false;
  }

  /**
   * Offers a clean page. `wasActive` tells the backend whether the page had been in active use
   * (backends may ignore puts of pages that never were). The put may be dropped.
   */
  putPage(pool: number, key: FileKey, index: number, page: Uint8Array, options?: { wasActive?: boolean }): void {
    const p = this.#pool(pool);
    const k = this.#fileKey(key);
    checkInteger('index', index, 0, MAX_PAGE_INDEX);
    // Options first: a getter of theirs runs before the page is measured, not after.
    const o = checkOptionsObject('putPage', options);
    checkOptionKeys('putPage', o, ['wasActive']);
    const wasActive = o.wasActive === undefined ? true : checkBoolean('wasActive', o.wasActive);
    const checked = checkPage('page', page);
    if (p.backendId < 0) return;
    const ops = this.#ops!;
    ops.putPage(p.backendId, k, index, ops.inPlaceViews ? checked : unshared(plainBytes(checked)), wasActive);
    this.#puts++;
  }

  invalidatePage(pool: number, key: FileKey, index: number): void {
    const p = this.#pool(pool);
    const k = this.#fileKey(key);
    checkInteger('index', index, 0, MAX_PAGE_INDEX);
    if (p.backendId < 0) return;
    this.#ops!.invalidatePage(p.backendId, k, index);
    this.#invalidates++;
  }

  invalidateInode(pool: number, key: FileKey): void {
    const p = this.#pool(pool);
    const k = this.#fileKey(key);
    if (p.backendId < 0) return;
    this.#ops!.invalidateInode(p.backendId, k);
    this.#invalidates++;
  }

  /** Drops the pool (for a shared pool, once its last user lets go). The id is invalid afterwards. */
  invalidateFs(pool: number): void {
    const p = this.#pool(pool);
    if (--p.users > 0) return;
    if (p.backendId >= 0) this.#ops!.invalidateFs(p.backendId);
    this.#pools[pool] = undefined;
  }

  #pool(id: number): Pool {
    checkInteger('pool', id, 0, 2 ** 31);
    const pool = this.#pools[id];
    if (!pool) throw new TmemError('ERR_TMEM_UNKNOWN_POOL', `no cleancache pool ${id}`);
    return pool;
  }

  #checkPageSize(pageSize: number): void {
    checkInteger('pageSize', pageSize, PAGE_SIZE, PAGE_SIZE);
  }

  // Normalises a key into the reused six-word buffer (no allocation per call). Each word of the
  // caller's key is read once; a Uint32Array key is read through a plain view of its memory.
  #fileKey(key: FileKey): Uint32Array {
    const k = this.#key;
    k.fill(0);
    if (typeof key === 'number') {
      checkInteger('key', key, 0, Number.MAX_SAFE_INTEGER);
      k[0] = key % 2 ** 32;
      k[1] = Math.floor(key / 2 ** 32);
      return k;
    }
    const words: ArrayLike<unknown> | null = typedArrayKind(key) === 'Uint32Array' ? checkWords('key', key) : Array.isArray(key) ? key : null;
    if (words === null) {
      throw new TypeError(`key must be a non-negative integer or up to ${FILEKEY_WORDS} 32-bit words, got ${describe(key)}`);
    }
    const n = words.length;
    if (n === 0 || n > FILEKEY_WORDS) throw new RangeError(`a file handle key has 1 to ${FILEKEY_WORDS} words, got ${n}`);
    for (let i = 0; i < n; i++) k[i] = checkInteger(`key[${i}]`, words[i], 0, 0xffffffff);
    return k;
  }
}

/** The process-wide cleancache front end. */
export const cleancache = new Cleancache();
debugfs.register('cleancache', () => cleancache.counters());
