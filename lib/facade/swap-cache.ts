// SwapCache: a Map-like key → bytes store with a resident byte budget in the V8 heap. Values
// that fall out of the resident LRU are packed back to back into pages and swapped out through a
// swap area (frontswap → the loaded backend → the swap file); `get` brings them back. Nothing is
// dropped until `delete`/`clear`.
//
// Like the kernel's swap cache, a value that was swapped in keeps its swap copy while it stays
// unchanged, so evicting it again costs nothing; a `set` or `delete` releases the copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_SIZE } from '../backends/types';
import { ensureBackend, type BackendChoice } from '../backends/registry';
import { debugfs } from '../debugfs/tree';
import { swapon, type SwapArea } from '../swap/area';
import { TmemError } from '../util/errors';
import { OwnedPath } from '../util/owned-paths';
import { checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
import { resolveSerializer, type Serializer, type SerializerOption } from './serializer';
import { ownCopy, SwapGroups, type Group } from './swap-groups';

export interface SwapCacheOptions<V> {
  /** Bytes of values kept resident in the V8 heap. Default 64 MiB. */
  residentBytes?: number;
  /** Swap area to use; default: a new swap file in a private temporary directory, removed by close(). */
  area?: SwapArea;
  /** Path for the swap file when no `area` is given. */
  path?: string;
  /** Slots of the swap file when no `area` is given. Default 262,144 (1 GiB). */
  pages?: number;
  /** How values are turned into bytes: 'v8', 'json', or your own. Default none: values must be Uint8Array. */
  serializer?: SerializerOption<V>;
  /** Longest key accepted, in UTF-16 code units. Default 1024. */
  maxKeyLength?: number;
  /**
   * Backend to load if none is loaded yet: 'default' (zcache, or zcache-js where the addon is
   * missing), a name, or 'none' to leave cold values to the swap file alone. Default 'default'.
   */
  backend?: BackendChoice;
}

const OPTION_KEYS = ['residentBytes', 'area', 'path', 'pages', 'serializer', 'maxKeyLength', 'backend'];
/** Cold values are written out in runs of about this many bytes, so one batch call carries many. */
const EVICT_RUN_BYTES = 64 * 1024;

interface Entry {
  /** The value's bytes while resident, else null. */
  bytes: Uint8Array | null;
  length: number;
  /** Where its swap copy lives, or null. */
  group: Group | null;
  start: number;
}

let nextId = 0;

export class SwapCache<V = Uint8Array> {
  readonly residentBudget: number;
  readonly maxKeyLength: number;
  #entries = new Map<string, Entry>();
  /** Resident entries, least recently used first (Map keeps insertion order). */
  #lru = new Map<string, Entry>();
  #area: SwapArea;
  #ownsArea: string | null;
  /** The private temp dir, registered so that the end of a terminated worker removes it too. */
  #tempDir: OwnedPath | null = null;
  #groups: SwapGroups;
  #serializer: Serializer<V>;
  #residentBytes = 0;
  #swappedBytes = 0;
  #stats = { gets_resident: 0, gets_pool: 0, gets_file: 0, misses: 0, evicted_values: 0 };
  #closed = false;
  #unregisterStats: () => void;
  #onExit = () => this.#removeOwnedFile();

  constructor(options: SwapCacheOptions<V> = {}) {
    const o = checkOptionsObject('SwapCache', options);
    checkOptionKeys('SwapCache', o, OPTION_KEYS);
    this.residentBudget = o.residentBytes === undefined ? 64 << 20 : checkInteger('residentBytes', o.residentBytes, 0, 2 ** 52);
    this.maxKeyLength = o.maxKeyLength === undefined ? 1024 : checkInteger('maxKeyLength', o.maxKeyLength, 1, 2 ** 20);
    this.#serializer = resolveSerializer<V>(o.serializer as SerializerOption<V> | undefined);
    ensureBackend(o.backend ?? 'default');
    if (o.area !== undefined) {
      if (o.path !== undefined || o.pages !== undefined) throw new TypeError('give either area or path/pages, not both');
      if (!(o.area instanceof Object) || !('writePages' in o.area)) throw new TypeError(`area must be a SwapArea, got ${describe(o.area)}`);
      this.#area = o.area as SwapArea;
      this.#ownsArea = null;
    } else {
      const pages = o.pages === undefined ? 1 << 18 : (o.pages as number);
      const dir = o.path === undefined ? mkdtempSync(join(tmpdir(), 'tmem-swapcache-')) : null;
      const path = dir ? join(dir, 'swapfile') : (o.path as string);
      try {
        if (dir) this.#tempDir = OwnedPath.directory(dir);
        this.#area = swapon(path, { pages });
      } catch (err) {
        if (dir) rmSync(dir, { recursive: true, force: true });
        this.#tempDir?.release();
        throw err;
      }
      this.#ownsArea = dir ?? path;
      process.once('exit', this.#onExit);
    }
    this.#groups = new SwapGroups(this.#area);
    this.#unregisterStats = debugfs.register(`swapcache/${nextId++}`, () => this.stats());
  }

  /** Number of keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of values held in the V8 heap. */
  get residentBytes(): number {
    return this.#residentBytes;
  }

  /** Bytes of values that live only in swap (not resident). */
  get swappedBytes(): number {
    return this.#swappedBytes;
  }

  /** The swap area values are swapped to. */
  get area(): SwapArea {
    return this.#area;
  }

  /** Bytes the compressed pool holds for this cache's swap area. */
  get compressedBytes(): number {
    return this.#area.poolUsage.compressedBytes;
  }

  /** Swap pages of this cache's area that are held only in the swap file. */
  get filePages(): number {
    return this.#area.filePages;
  }

  /** Accounting, also shown in debugfs under swapcache/<n>/. */
  stats(): Record<string, number> {
    const pool = this.#area.poolUsage;
    return {
      keys: this.#entries.size,
      resident_bytes: this.#residentBytes,
      swapped_bytes: this.#swappedBytes,
      swap_pages: this.#groups.pages,
      pool_pages: pool.pages,
      compressed_bytes: pool.compressedBytes,
      file_pages: this.#area.usedPages - pool.pages,
      ...this.#stats,
    };
  }

  has(key: string): boolean {
    this.#live();
    return this.#entries.has(this.#checkKey(key));
  }

  /** The value, or undefined. Swapped values are read back (from the pool or the file). */
  get(key: string): V | undefined {
    this.#live();
    const entry = this.#entries.get(this.#checkKey(key));
    if (!entry) {
      this.#stats.misses++;
      return undefined;
    }
    if (entry.bytes) {
      this.#stats.gets_resident++;
      this.#lru.delete(key);
      this.#lru.set(key, entry);
      return this.#serializer.deserialize(entry.bytes);
    }
    const { bytes, fromFile } = this.#groups.read(entry.group!, entry.start, entry.length);
    if (fromFile) this.#stats.gets_file++;
    else this.#stats.gets_pool++;
    // It keeps its swap copy (clean), so a later eviction of it writes nothing. When there is no
    // swap space to make room, the value is served from swap and stays there: a get never fails
    // for lack of space.
    try {
      this.#evict(this.#residentBytes + bytes.byteLength - this.residentBudget, key);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_TMEM_SWAP_FULL') return this.#serializer.deserialize(bytes);
      throw err;
    }
    this.#swappedBytes -= entry.length;
    this.#attach(key, entry, bytes);
    return this.#serializer.deserialize(bytes);
  }

  /**
   * Stores `value`. When making room needs swap space the area does not have, the call fails with
   * ERR_TMEM_SWAP_FULL and the key keeps its old value.
   */
  set(key: string, value: V): this {
    this.#live();
    this.#checkKey(key);
    const bytes = this.#serializer.serialize(value);
    const capacity = (this.#area.pages - 1) * PAGE_SIZE;
    if (bytes.byteLength > capacity) {
      throw new RangeError(`value of ${bytes.byteLength} bytes is larger than the swap area (${capacity} bytes)`);
    }
    const copy = ownCopy(bytes); // the caller may reuse its buffer
    const old = this.#entries.get(key);
    const entry: Entry = { bytes: null, length: copy.byteLength, group: null, start: 0 };
    // Everything that can fail (swap space) happens before the old value is let go.
    if (copy.byteLength > this.residentBudget) {
      entry.group = this.#groups.write([copy]); // too big to be resident at all
    } else {
      const oldResident = old?.bytes ? old.bytes.byteLength : 0;
      this.#evict(this.#residentBytes - oldResident + copy.byteLength - this.residentBudget, key);
    }
    if (old) this.#drop(key, old);
    if (entry.group) this.#swappedBytes += entry.length;
    else this.#attach(key, entry, copy);
    this.#entries.set(key, entry);
    return this;
  }

  delete(key: string): boolean {
    this.#live();
    const entry = this.#entries.get(this.#checkKey(key));
    if (!entry) return false;
    this.#drop(key, entry);
    this.#entries.delete(key);
    return true;
  }

  /** Removes every key and releases all swap space. */
  clear(): void {
    this.#live();
    for (const [key, entry] of this.#entries) this.#drop(key, entry);
    this.#entries.clear();
  }

  keys(): IterableIterator<string> {
    this.#live();
    return this.#entries.keys();
  }

  /** Entries in insertion order; swapped values are read back one at a time as the iteration reaches them. */
  *entries(): IterableIterator<[string, V]> {
    for (const key of [...this.keys()]) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Frees all swap space; swaps off and removes the swap file if the cache created it. */
  close(): void {
    if (this.#closed) return;
    this.clear();
    this.#closed = true;
    this.#unregisterStats();
    if (this.#ownsArea) {
      this.#area.swapoff();
      this.#removeOwnedFile();
      process.removeListener('exit', this.#onExit);
    }
  }

  #attach(key: string, entry: Entry, bytes: Uint8Array): void {
    entry.bytes = bytes;
    this.#residentBytes += bytes.byteLength;
    this.#lru.set(key, entry);
  }

  // Moves least recently used values (never `protect`) out of the heap until `need` bytes are
  // released; values without a swap copy are written out together in runs.
  #evict(need: number, protect: string): void {
    while (need > 0) {
      const run: [string, Entry][] = [];
      let runBytes = 0;
      let released = 0;
      for (const [key, entry] of this.#lru) {
        if (key === protect) continue;
        if (released + runBytes >= need && (runBytes === 0 || runBytes >= EVICT_RUN_BYTES)) break;
        if (entry.group) {
          // Clean: its swap copy is still good, so dropping the resident bytes is enough.
          released += this.#unresident(key, entry);
        } else {
          run.push([key, entry]);
          runBytes += entry.length;
        }
      }
      if (run.length > 0) {
        const group = this.#groups.write(run.map(([, e]) => e.bytes!));
        let start = 0;
        for (const [key, entry] of run) {
          entry.group = group;
          entry.start = start;
          start += entry.length;
          released += this.#unresident(key, entry);
        }
        this.#stats.evicted_values += run.length;
      }
      if (released === 0) return; // nothing left to evict
      need -= released;
    }
  }

  #unresident(key: string, entry: Entry): number {
    const n = entry.bytes!.byteLength;
    entry.bytes = null;
    this.#lru.delete(key);
    this.#residentBytes -= n;
    this.#swappedBytes += n;
    return n;
  }

  #drop(key: string, entry: Entry): void {
    if (entry.bytes) {
      this.#residentBytes -= entry.bytes.byteLength;
      this.#lru.delete(key);
    } else {
      this.#swappedBytes -= entry.length;
    }
    if (entry.group) this.#groups.release(entry.group);
    entry.group = null;
    entry.bytes = null;
  }

  #checkKey(key: string): string {
    if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${describe(key)}`);
    if (key.length > this.maxKeyLength) throw new RangeError(`key of ${key.length} characters is longer than maxKeyLength (${this.maxKeyLength})`);
    return key;
  }

  #live(): void {
    if (this.#closed) throw new TmemError('ERR_TMEM_CLOSED', 'SwapCache is closed');
  }

  #removeOwnedFile(): void {
    if (this.#ownsArea) rmSync(this.#ownsArea, { recursive: true, force: true });
    this.#tempDir?.release();
  }
}
