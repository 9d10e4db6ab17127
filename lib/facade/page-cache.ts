// PageCache: a page cache over real files for services that re-read data from slow storage. A
// resident LRU of pages lives in JS memory up to a byte budget; clean pages evicted from it are
// put to cleancache (zcache's ephemeral pool when a backend is loaded), and a re-read asks
// cleancache before the disk. With no backend loaded it is just a resident LRU over pread.
//
// Pages past the first 16 TiB of a file (page index above cleancache's 32 bits) are cached
// resident only.
//
// Staleness: every read first stats the path. A different inode (the file was replaced) or a
// changed size or mtime (changed behind our back) invalidates all of the file's pages, resident
// and in cleancache, before anything is served. Writes and truncates through the handle
// invalidate exactly the pages they touch.
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../backends/types';
import { ensureBackend, type BackendChoice } from '../backends/registry';
import { cleancache, MAX_PAGE_INDEX } from '../cleancache/cleancache';
import { debugfs } from '../debugfs/tree';
import { TmemError } from '../util/errors';
import { checkBytes, checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
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

/** The cleancache key of an inode: inode and device, as a six-word file handle. */
// A page cache caches regular files: a FIFO or a device opened read-write would block a write (a
// FIFO nobody reads) or serve bytes with no stable identity, so open() refuses anything else.
function openRegular(path: string): number {
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  if (fs.fstatSync(fd).isFile()) return fd;
  fs.closeSync(fd);
  throw new TmemError('ERR_TMEM_UNSUPPORTED', `${path} is not a regular file`);
}

function fileKeyOf(id: Identity, key: Uint32Array): Uint32Array {
  key[0] = Number(id.ino & 0xffffffffn);
  key[1] = Number((id.ino >> 32n) & 0xffffffffn);
  key[2] = Number(id.dev & 0xffffffffn);
  key[3] = Number((id.dev >> 32n) & 0xffffffffn);
  return key;
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
/** The resident pages are one Uint8Array: no larger than the largest one V8 makes. */
const MAX_RESIDENT_BYTES = Math.floor(bufferConstants.MAX_LENGTH / PAGE_SIZE) * PAGE_SIZE;
/** Inodes whose identity a PageCache remembers after their files are closed. */
const KNOWN_INODES = 65536;
/** Longest truncated tail whose clean pages are invalidated one by one. */
const TRUNCATE_PAGE_BY_PAGE = 1024;

export class PageCache {
  readonly residentBudget: number;
  /** @internal */ readonly resident: ResidentPages;
  /** @internal */ readonly pool: number;
  /** @internal */ readonly files = new Map<number, CachedFile>();
  /**
   * @internal Last identity seen per inode, so a reopen can reuse (or must drop) its cleancache
   * pages; most recently seen last, at most KNOWN_INODES (see remember()).
   */
  readonly known = new Map<string, Identity>();
  /** @internal */ readonly counters = { reads: 0, hits_resident: 0, hits_cleancache: 0, reads_disk: 0, invalidated_files: 0 };
  #nextFileId = 1;
  /** Key buffer for inodes forgotten by remember(). */
  readonly #forgetKey = new Uint32Array(6);
  #closed = false;
  #unregisterStats: () => void;

  constructor(options: PageCacheOptions = {}) {
    const o = checkOptionsObject('PageCache', options);
    checkOptionKeys('PageCache', o, ['residentBytes', 'backend']);
    this.residentBudget =
      o.residentBytes === undefined ? 64 << 20 : checkInteger('residentBytes', o.residentBytes, PAGE_SIZE, MAX_RESIDENT_BYTES);
    // Everything that can fail comes before the backend is loaded: a rejected constructor changes nothing.
    this.resident = new ResidentPages(this.residentBudget);
    ensureBackend(o.backend ?? 'default');
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

  /**
   * @internal Records the identity of an inode as the most recently seen. Past KNOWN_INODES, the
   * least recently seen inode is forgotten and its clean pages dropped, since a change to it
   * could no longer be noticed: a service that opens millions of distinct files keeps a bounded
   * map, not one entry per file it ever opened.
   */
  remember(inode: string, id: Identity): void {
    this.known.delete(inode);
    this.known.set(inode, id);
    if (this.known.size <= KNOWN_INODES) return;
    const [oldest, old] = this.known.entries().next().value!;
    this.known.delete(oldest);
    cleancache.invalidateInode(this.pool, fileKeyOf(old, this.#forgetKey));
  }

  /** @internal Offers a page leaving the resident LRU to cleancache. */
  readonly evict = (fileId: number, index: number, page: Uint8Array, referenced: boolean): void => {
    const file = this.files.get(fileId);
    if (file && index <= MAX_PAGE_INDEX) cleancache.putPage(this.pool, file.key, index, page, { wasActive: referenced });
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
    this.#fd = openRegular(path);
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
    const bytes = checkBytes('data', data);
    checkInteger('position + data.byteLength', position + bytes.byteLength, 0, Number.MAX_SAFE_INTEGER);
    this.#revalidate();
    // The pages go before the write: a write that fails part way has still changed the file.
    if (bytes.byteLength > 0) {
      const first = Math.floor(position / PAGE_SIZE);
      const last = Math.floor((position + bytes.byteLength - 1) / PAGE_SIZE);
      for (let i = first; i <= last; i++) this.#invalidate(i);
    }
    let done = 0;
    try {
      while (done < bytes.byteLength) done += fs.writeSync(this.#fd, bytes, done, bytes.byteLength - done, position + done);
    } finally {
      this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), true);
    }
    return done;
  }

  /** Truncates (or extends) the file; pages from the new end onward are invalidated. */
  truncate(length: number): void {
    this.#live();
    checkInteger('length', length, 0, Number.MAX_SAFE_INTEGER);
    this.#revalidate();
    const from = Math.floor(length / PAGE_SIZE);
    const oldPages = Math.ceil(Number(this.#identity.size) / PAGE_SIZE);
    this.#cache.resident.removeFile(this.id, from);
    // Page by page for a short tail; a long one (a sparse file can be terabytes) drops the file's
    // clean pages wholesale instead of looping over every index.
    if (oldPages - from <= TRUNCATE_PAGE_BY_PAGE) {
      for (let i = from; i < oldPages; i++) this.#invalidate(i);
    } else {
      cleancache.invalidateInode(this.#cache.pool, this.key);
    }
    try {
      fs.ftruncateSync(this.#fd, length);
    } finally {
      this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), true);
    }
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
    // The slot is claimed: whatever fails from here on must give it back, or the next read of
    // this page would be served the bytes left in it.
    try {
      if (index <= MAX_PAGE_INDEX && cleancache.getPage(cache.pool, this.key, index, page)) {
        cache.counters.hits_cleancache++;
        return slot;
      }
      let n = 0;
      while (n < PAGE_SIZE) {
        const got = fs.readSync(this.#fd, page, n, PAGE_SIZE - n, index * PAGE_SIZE + n);
        if (got === 0) break;
        n += got;
      }
      page.fill(0, n);
    } catch (err) {
      cache.resident.remove(this.id, index);
      throw err;
    }
    cache.counters.reads_disk++;
    return slot;
  }

  #invalidate(index: number): void {
    this.#cache.resident.remove(this.id, index);
    if (index <= MAX_PAGE_INDEX) cleancache.invalidatePage(this.#cache.pool, this.key, index);
  }

  // Follows the path: a replaced or externally changed file loses all its cached pages first.
  #revalidate(): void {
    const st = fs.statSync(this.path, { bigint: true });
    if (sameIdentity(identityOf(st), this.#identity)) return;
    this.#cache.counters.invalidated_files++;
    this.#cache.resident.removeFile(this.id);
    cleancache.invalidateInode(this.#cache.pool, this.key);
    if (st.ino !== this.#identity.ino || st.dev !== this.#identity.dev) {
      // Open the new file before letting go of the old one: if the open fails, #fd must not be
      // left naming a closed descriptor that the next open in the process (a swap file) reuses.
      const fd = openRegular(this.path);
      fs.closeSync(this.#fd);
      this.#fd = fd;
    }
    this.#adopt(identityOf(fs.fstatSync(this.#fd, { bigint: true })), false);
  }

  // Takes `id` as the file's identity. Unless the change was our own (`ours`, whose pages were
  // invalidated one by one), an inode whose last known identity differs loses its cleancache pages.
  #adopt(id: Identity, ours: boolean): void {
    fileKeyOf(id, this.key);
    const inode = `${id.dev}:${id.ino}`;
    const known = this.#cache.known.get(inode);
    if (!ours && known && !sameIdentity(known, id)) cleancache.invalidateInode(this.#cache.pool, this.key);
    this.#cache.remember(inode, id);
    this.#identity = id;
  }

  #live(): void {
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', `file ${this.path} is closed`);
  }
}
