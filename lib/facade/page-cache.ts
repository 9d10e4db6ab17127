// PageCache: a page cache over real files for services that re-read data from slow storage. A
// resident LRU of pages lives in JS memory up to a byte budget; clean pages evicted from it are
// put to cleancache (zcache's ephemeral pool when a backend is loaded), and a re-read asks
// cleancache before the disk. With no backend loaded it is just a resident LRU over pread.
//
// Staleness: every read first stats the path. A different inode (the file was replaced) or a
// changed size or mtime (changed behind our back) invalidates all of the file's pages, resident
// and in cleancache, before anything is served. Writes and truncates through the handle
// invalidate exactly the pages they touch.
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../backends/types';
import { ensureBackend, type BackendChoice } from '../backends/registry';
import { cleancache } from '../cleancache/cleancache';
import { debugfs } from '../debugfs/tree';
import { TmemError } from '../util/errors';
import { checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
import { ResidentPages } from './resident-pages';

export interface PageCacheOptions {
  /** Bytes of pages kept resident in JS memory. Default 64 MiB. */
  residentBytes?: number;
  /**
   * Backend to load if none is loaded yet: 'default' (zcache, or zcache-js where the addon is
   * missing), a name, or 'none' (then this is a resident LRU over pread). Default 'default'.
   */
  backend?: BackendChoice;
}

// ctime and birth time catch what size and mtime miss: a reused inode number, an in-place change
// that kept the size.
interface Identity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
}

function identityOf(st: fs.BigIntStats): Identity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, birthtimeNs: st.birthtimeNs };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.birthtimeNs === b.birthtimeNs
  );
}

let nextCacheId = 0;

export class PageCache {
  readonly residentBudget: number;
  /** @internal */ readonly resident: ResidentPages;
  /** @internal */ readonly pool: number;
  /** @internal */ readonly files = new Map<number, CachedFile>();
  /** @internal Last identity seen per inode, so a reopen can reuse (or must drop) its cleancache pages. */
  readonly known = new Map<string, Identity>();
  /** @internal */ readonly counters = { reads: 0, hits_resident: 0, hits_cleancache: 0, reads_disk: 0, invalidated_files: 0 };
  #nextFileId = 1;
  #closed = false;
  #unregisterStats: () => void;

  constructor(options: PageCacheOptions = {}) {
    const o = checkOptionsObject('PageCache', options);
    checkOptionKeys('PageCache', o, ['residentBytes', 'backend']);
    this.residentBudget = o.residentBytes === undefined ? 64 << 20 : checkInteger('residentBytes', o.residentBytes, PAGE_SIZE, 2 ** 40);
    ensureBackend(o.backend ?? 'default');
    this.resident = new ResidentPages(this.residentBudget);
    this.pool = cleancache.initFs(PAGE_SIZE);
    this.#unregisterStats = debugfs.register(`pagecache/${nextCacheId++}`, () => this.stats());
  }

  /** Opens `path` for cached reads (and writes through). The file must exist. */
  open(path: string): CachedFile {
    this.#live();
    if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
    const file = new CachedFile(this, path, this.#nextFileId++);
    this.files.set(file.id, file);
    return file;
  }

  stats(): Record<string, number> {
    return { ...this.counters, resident_pages: this.resident.count, open_files: this.files.size };
  }

  /** Closes every file and drops the cleancache pool. */
  close(): void {
    if (this.#closed) return;
    for (const file of [...this.files.values()]) file.close();
    cleancache.invalidateFs(this.pool);
    this.#unregisterStats();
    this.#closed = true;
  }

  /** @internal Offers a page leaving the resident LRU to cleancache. */
  readonly evict = (fileId: number, index: number, page: Uint8Array, referenced: boolean): void => {
    const file = this.files.get(fileId);
    if (file) cleancache.putPage(this.pool, file.key, index, page, { wasActive: referenced });
  };

  #live(): void {
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', 'PageCache is closed');
  }
}

export class CachedFile {
  readonly path: string;
  /** @internal */ readonly id: number;
  /** @internal cleancache key: inode and device, as a six-word file handle. */
  readonly key = new Uint32Array(6);
  #cache: PageCache;
  #fd: number;
  #identity!: Identity;
  #closed = false;

  /** @internal use PageCache.open() */
  constructor(cache: PageCache, path: string, id: number) {
    this.#cache = cache;
    this.path = path;
    this.id = id;
    this.#fd = fs.openSync(path, 'r+');
    this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), false);
  }

  /** Current size of the file in bytes. */
  get size(): number {
    this.#live();
    this.#revalidate();
    return Number(this.#identity.size);
  }

  /** Reads up to `length` bytes at `position` (fewer at end of file) into a new Buffer. */
  read(position: number, length: number): Buffer {
    this.#live();
    checkInteger('position', position, 0, Number.MAX_SAFE_INTEGER);
    checkInteger('length', length, 0, 2 ** 31 - 1);
    this.#revalidate();
    const size = Number(this.#identity.size);
    const end = Math.min(position + length, size);
    if (end <= position) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(end - position);
    const cache = this.#cache;
    cache.counters.reads++;
    for (let index = Math.floor(position / PAGE_SIZE); index * PAGE_SIZE < end; index++) {
      const page = cache.resident.page(this.#fetch(index));
      const from = Math.max(position, index * PAGE_SIZE);
      const to = Math.min(end, (index + 1) * PAGE_SIZE);
      out.set(page.subarray(from - index * PAGE_SIZE, to - index * PAGE_SIZE), from - position);
    }
    return out;
  }

  /** Writes `data` at `position` in the file and invalidates the pages it touches. Returns bytes written. */
  write(position: number, data: Uint8Array): number {
    this.#live();
    checkInteger('position', position, 0, Number.MAX_SAFE_INTEGER);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or Buffer, got ${describe(data)}`);
    this.#revalidate();
    let done = 0;
    while (done < data.byteLength) done += fs.writeSync(this.#fd, data, done, data.byteLength - done, position + done);
    if (data.byteLength > 0) {
      const first = Math.floor(position / PAGE_SIZE);
      const last = Math.floor((position + data.byteLength - 1) / PAGE_SIZE);
      for (let i = first; i <= last; i++) this.#invalidate(i);
    }
    this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), true);
    return done;
  }

  /** Truncates (or extends) the file; pages from the new end onward are invalidated. */
  truncate(length: number): void {
    this.#live();
    checkInteger('length', length, 0, Number.MAX_SAFE_INTEGER);
    this.#revalidate();
    const oldPages = Math.ceil(Number(this.#identity.size) / PAGE_SIZE);
    fs.ftruncateSync(this.#fd, length);
    for (let i = Math.floor(length / PAGE_SIZE); i < oldPages; i++) this.#invalidate(i);
    this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), true);
  }

  /** Closes the file. Its clean pages stay in cleancache for a later open of the unchanged file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.resident.removeFile(this.id);
    this.#cache.files.delete(this.id);
    fs.closeSync(this.#fd);
  }

  // The slot holding page `index`: resident, else from cleancache, else read from the file.
  #fetch(index: number): number {
    const cache = this.#cache;
    let slot = cache.resident.lookup(this.id, index);
    if (slot >= 0) {
      cache.counters.hits_resident++;
      return slot;
    }
    slot = cache.resident.insert(this.id, index, cache.evict);
    const page = cache.resident.page(slot);
    if (cleancache.getPage(cache.pool, this.key, index, page)) {
      cache.counters.hits_cleancache++;
      return slot;
    }
    let n = 0;
    try {
      while (n < PAGE_SIZE) {
        const got = fs.readSync(this.#fd, page, n, PAGE_SIZE - n, index * PAGE_SIZE + n);
        if (got === 0) break;
        n += got;
      }
    } catch (err) {
      cache.resident.remove(this.id, index);
      throw err;
    }
    page.fill(0, n);
    cache.counters.reads_disk++;
    return slot;
  }

  #invalidate(index: number): void {
    this.#cache.resident.remove(this.id, index);
    cleancache.invalidatePage(this.#cache.pool, this.key, index);
  }

  // Follows the path: a replaced or externally changed file loses all its cached pages first.
  #revalidate(): void {
    const st = fs.statSync(this.path, { bigint: true });
    if (sameIdentity(identityOf(st), this.#identity)) return;
    this.#cache.counters.invalidated_files++;
    this.#cache.resident.removeFile(this.id);
    cleancache.invalidateInode(this.#cache.pool, this.key);
    if (st.ino !== this.#identity.ino || st.dev !== this.#identity.dev) {
      fs.closeSync(this.#fd);
      this.#fd = fs.openSync(this.path, 'r+');
    }
    this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), false);
  }

  // Takes `id` as the file's identity. Unless the change was our own (`ours`, whose pages were
  // invalidated one by one), an inode whose last known identity differs loses its cleancache pages.
  #adopt(id: Identity, ours: boolean): void {
    const words = [id.ino & 0xffffffffn, id.ino >> 32n, id.dev & 0xffffffffn, id.dev >> 32n];
    for (let i = 0; i < 4; i++) this.key[i] = Number(words[i] & 0xffffffffn);
    const inode = `${id.dev}:${id.ino}`;
    const known = this.#cache.known.get(inode);
    if (!ours && known && !sameIdentity(known, id)) cleancache.invalidateInode(this.#cache.pool, this.key);
    this.#cache.known.set(inode, id);
    this.#identity = id;
  }

  #live(): void {
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', `file ${this.path} is closed`);
  }
}
