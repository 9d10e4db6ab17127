// The ephemeral pool of the pure-JS zcache (cleancache pages), and the rule that makes it the
// cheapest room in the frame pool. It shares the frame cap with the persistent pool but never a
// frame: it is a pool of its own in the allocator, with its own LRU of entries (eph-index.ts). Any
// store that needs a frame at the cap first evicts ephemeral pages, least recently used first,
// until one of their frames is free (an emptied zspage or zbud frame; the allocator compacts
// ephemeral classes as soon as a zspage's worth of slots is free); only when none is left do the
// persistent rules apply (refuse, hysteresis, writeback). An ephemeral put never evicts a
// persistent page and never starts writeback: with no ephemeral page to evict it is dropped.
// Ephemeral pages are clean, so they are never written anywhere.
import { placeInFreeSlot } from '../../util/slots';
import type { ZcacheConfig } from '../options';
import type { CleancacheOps } from '../types';
import { PAGE_SIZE } from '../types';
import { EPH, type PoolId } from './allocator';
import { isObject, SAME } from './area-index';
import { fillPage, sameFilledValue } from './codec';
import type { ZcacheContext } from './context';
import { EphIndex } from './eph-index';
import { KEY_WORDS } from './eph-inodes';

/** A cleancache pool: shared pools have a uuid and count their initSharedFs calls. */
interface EphPool {
  uuid: string | null;
  users: number;
}

export class EphemeralPool {
  readonly #ctx: ZcacheContext;
  // The index of its pages, its pools by id, shared pool ids by uuid.
  readonly #index = new EphIndex();
  #pools: (EphPool | null)[] = [];
  readonly #uuids = new Map<string, number>();
  readonly #maxCompressed: number;
  readonly #ignoreNonactivePuts: boolean;

  /** The cleancache ops vector (its method names clash with frontswap's, so it is an object of its own). */
  readonly ops: CleancacheOps = {
    initFs: (pageSize) => this.#initFs(pageSize),
    initSharedFs: (uuid, pageSize) => this.#initSharedFs(uuid, pageSize),
    getPage: (pool, key, index, into, exclusive) => this.#getPage(pool, key, index, into, exclusive),
    putPage: (pool, key, index, page, wasActive) => this.#putPage(pool, key, index, page, wasActive),
    invalidatePage: (pool, key, index) => this.#invalidatePage(pool, key, index),
    invalidateInode: (pool, key) => this.#invalidateInode(pool, key),
    invalidateFs: (pool) => this.#invalidateFs(pool),
  };

  constructor(ctx: ZcacheContext, config: ZcacheConfig) {
    this.#ctx = ctx;
    this.#maxCompressed = config.maxCompressedBytes;
    this.#ignoreNonactivePuts = config.ignoreNonactivePuts;
  }

  /** Pages held. */
  get pages(): number {
    return this.#index.pages;
  }

  get metadataBytes(): number {
    return this.#index.metadataBytes;
  }

  /**
   * allocator.alloc in pool `pool`; when no frame can be had, ephemeral pages are evicted until one
   * can (for either pool). Never touches a persistent page. -1 when nothing is left to evict.
   */
  allocFor(size: number, pool: PoolId, owner: number): number {
    const alloc = this.#ctx.alloc;
    let at = alloc.alloc(size, pool, owner);
    while (at < 0 && alloc.framesOf(EPH) > 0 && this.evict(pool !== EPH) > 0) at = alloc.alloc(size, pool, owner);
    return at;
  }

  /** The allocator moved the object of entry `e` to `location`. */
  relocate(e: number, location: number): void {
    this.#index.setVal(e, location);
  }

  /**
   * Drops ephemeral pages, least recently used first (a referenced one gets a second chance), until
   * a frame of theirs is freed or none is left. Returns the pages dropped.
   */
  evict(forPersistent: boolean): number {
    const alloc = this.#ctx.alloc;
    const c = this.#ctx.counters;
    const ix = this.#index;
    const before = alloc.framesOf(EPH);
    let n = 0;
    while (alloc.framesOf(EPH) === before) {
      const e = ix.lru.take(ix.holdsObject);
      if (e < 0) break;
      this.#drop(e);
      n++;
    }
    const freed = before - alloc.framesOf(EPH);
    c.evicted_eph_pageframes += freed;
    c.evicted_eph_zpages += n;
    if (forPersistent) c.pers_ate_eph += freed;
    return n;
  }

  /** Forgets every page and pool at close; the frames go with the allocator. */
  release(): void {
    this.#index.reset();
    this.#pools = [];
    this.#uuids.clear();
  }

  // ---- CleancacheOps (the hook layer validated every argument; the key buffer is reused) --------

  #initFs(pageSize: number): number {
    this.#ctx.checkOpen();
    this.#checkPageSize(pageSize);
    return placeInFreeSlot(this.#pools, { uuid: null, users: 1 }, null);
  }

  #initSharedFs(uuid: string, pageSize: number): number {
    this.#ctx.checkOpen();
    this.#checkPageSize(pageSize);
    if (typeof uuid !== 'string' || uuid.length === 0) throw new TypeError(`uuid must be a non-empty string`);
    const id = this.#uuids.get(uuid);
    if (id !== undefined) {
      this.#pools[id]!.users++;
      return id;
    }
    const added = placeInFreeSlot(this.#pools, { uuid, users: 1 }, null);
    this.#uuids.set(uuid, added);
    return added;
  }

  #getPage(pool: number, key: Uint32Array, index: number, into: Uint8Array, exclusive: boolean): boolean {
    this.#checkPageOp(pool, key, 'into', into);
    const ix = this.#index;
    const ino = ix.findInode(pool, key);
    if (ino < 0) return false;
    const e = ix.findPage(ino, index);
    if (e < 0) return false;
    const val = ix.val(e);
    const meta = ix.meta(e);
    if (meta === SAME) {
      fillPage(into, 0, val);
    } else {
      const alloc = this.#ctx.alloc;
      const src = alloc.map(val, meta);
      if (!this.#ctx.codec.decompress(src, alloc.mapOffset, meta, into)) {
        // A clean page can be read again from its file: drop it and miss rather than fail.
        this.#ctx.counters.decompress_fail++;
        this.#drop(e);
        return false;
      }
      // Shared pools keep the page: it gets a second chance on the LRU.
      if (!exclusive) ix.lru.reference(e);
    }
    this.#ctx.counters.eph_gets++;
    if (exclusive) this.#drop(e);
    return true;
  }

  #putPage(pool: number, key: Uint32Array, index: number, page: Uint8Array, wasActive: boolean): void {
    this.#checkPageOp(pool, key, 'page', page);
    const c = this.#ctx.counters;
    const ix = this.#index;
    // Room in the index first, so that nothing can fail once the pool has changed.
    ix.reserve();
    c.eph_puts++;
    // Coherency: whatever happens to the new page, the older copy is gone.
    const old = ix.findInode(pool, key);
    if (old >= 0) {
      const e = ix.findPage(old, index);
      if (e >= 0) this.#drop(e);
    }
    if (this.#ignoreNonactivePuts && !wasActive) {
      c.eph_nonactive_puts_ignored++;
      return;
    }
    let meta: number;
    let val: number;
    const fill = sameFilledValue(page, 0);
    if (fill >= 0) {
      meta = SAME;
      val = fill;
    } else {
      const codec = this.#ctx.codec;
      let len: number;
      try {
        len = codec.compress(page);
      } catch {
        return;
      }
      // compress_poor: not kept (ephemeral pages are never stored raw; the running-mean rule is
      // the persistent pool's, as in zcache).
      if (len > this.#maxCompressed || len >= PAGE_SIZE) return;
      // May evict ephemeral pages (never persistent ones); -1: dropped. The owner is set below,
      // once the entry exists (nothing can move the object before).
      const at = this.allocFor(len, EPH, 0);
      if (at < 0) return;
      this.#ctx.alloc.write(at, codec.out, 0, len);
      meta = len;
      val = at;
    }
    // Looked up again: an eviction above may have taken the inode's last page, and the inode with it.
    let ino = ix.findInode(pool, key);
    if (ino < 0) ino = ix.addInode(pool, key);
    const e = ix.addPage(ino, index, meta, val);
    if (isObject(meta)) this.#ctx.alloc.setOwner(val, e);
  }

  #invalidatePage(pool: number, key: Uint32Array, index: number): void {
    this.#ctx.checkOpen();
    if (!this.#pools[pool]) return;
    const ix = this.#index;
    const ino = ix.findInode(pool, key);
    if (ino < 0) return;
    const e = ix.findPage(ino, index);
    if (e < 0) return;
    this.#drop(e);
    this.#ctx.counters.eph_invalidates++;
  }

  #invalidateInode(pool: number, key: Uint32Array): void {
    this.#ctx.checkOpen();
    if (!this.#pools[pool]) return;
    const ino = this.#index.findInode(pool, key);
    if (ino >= 0) this.#ctx.counters.eph_invalidates += this.#dropInode(ino);
  }

  /** Drops the pool's pages and frees its id; a shared pool only once its last initSharedFs is matched. */
  #invalidateFs(pool: number): void {
    this.#ctx.checkOpen();
    const p = this.#pools[pool];
    if (!p) return;
    if (--p.users > 0) return;
    const ix = this.#index;
    for (let ino = ix.poolFirstInode(pool); ino >= 0; ino = ix.poolFirstInode(pool)) {
      this.#ctx.counters.eph_invalidates += this.#dropInode(ino);
    }
    this.#pools[pool] = null;
    if (p.uuid !== null) this.#uuids.delete(p.uuid);
    while (this.#pools.length > 0 && this.#pools[this.#pools.length - 1] === null) this.#pools.pop();
    // Give back the memory of an index that grew large.
    if (ix.pages === 0) ix.reset();
  }

  // ---- internals -------------------------------------------------------------------------------

  #checkPageSize(pageSize: number): void {
    if (pageSize !== PAGE_SIZE) throw new RangeError(`zcache-js: page size must be ${PAGE_SIZE}, got ${pageSize}`);
  }

  // The checks getPage and putPage make (the other ops ignore an unknown pool instead).
  #checkPageOp(pool: number, key: Uint32Array, name: string, page: Uint8Array): void {
    this.#ctx.checkOpen();
    if (!this.#pools[pool]) throw new RangeError(`zcache-js: no cleancache pool ${pool}`);
    if (!(key instanceof Uint32Array) || key.length !== KEY_WORDS) throw new TypeError(`key must be a Uint32Array of ${KEY_WORDS} words`);
    if (page.length !== PAGE_SIZE) throw new RangeError(`${name} must be ${PAGE_SIZE} bytes, got ${page.length}`);
  }

  // Drops every page of an inode (the inode goes with its last page). Returns the pages dropped.
  #dropInode(ino: number): number {
    const ix = this.#index;
    let n = 0;
    for (let e = ix.inoFirstPage(ino); e >= 0; ) {
      const next = ix.entNextInInode(e);
      this.#drop(e);
      n++;
      e = next;
    }
    return n;
  }

  #drop(e: number): void {
    const ix = this.#index;
    if (isObject(ix.meta(e))) this.#ctx.alloc.free(ix.val(e));
    ix.removePage(e);
  }
}
