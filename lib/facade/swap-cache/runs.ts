// Runs: how SwapCache swaps values out. Values leaving the resident tier are packed back to back
// into whole pages and written with one writePages call, through frontswap into the compressed
// pool, or to the swap file when the pool refuses them. A run's slots are freed when its last
// value is deleted, replaced or dropped, so small values do not each take a page of swap.
//
// A run ends with a trailer naming its values' key ids — [values][zeros][ids][count], the count
// in the last 4 bytes of the last page, at most 1023 ids so the trailer never spans more than
// two pages — so a run can be dropped (maxBytes) or compacted by reading its last page(s) and
// asking the key index which of those ids still point at it. Nothing in memory lists a run's
// members: the run table is a few typed arrays per run (its slots, pages, live values and a
// generation), about 90 bytes per 64 KiB run. Values bigger than a run get a run of their own,
// whose slot list is the only per-run JS object (one per value of at least 64 KiB).
//
// A run whose live values fall under a quarter of its pages (values replaced or deleted since)
// is queued as sparse; in map mode SwapCache compacts such runs, rewriting their live values into
// new runs, so swap space stays proportional to the data (see Moves.compactOne).
//
// Runs are kept in write order (oldest first), which is least-recently-used order: values leave
// the resident tier oldest first and come back to it when read. The generation of a run changes
// when it is freed, so an asynchronous read can tell that the slots it read were given away.
//
// Every 8 MiB of swap traffic the swap file's page cache is dropped (posix_fadvise, with the
// addon): the values it would cache are cached better above it, and a memory cgroup charges it.
import { PAGE_SIZE } from '../../backends/types';
import type { SwapArea } from '../../swap/area';
import { TmemError } from '../../util/errors';
import { swapCacheAddon } from './addon';

export const RUN_BYTES = 64 * 1024;
const RUN_PAGES = RUN_BYTES / PAGE_SIZE;
export const MAX_RUN_MEMBERS = 1023;
const DROP_FILE_CACHE_EVERY = 8 << 20;

function grown<T extends Uint8Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as { new (n: number): T })(length);
  b.set(a);
  return b;
}

/**
 * A FIFO of (run, generation) pairs in one typed array. Entries whose run has been freed since
 * are skipped when they reach the front, and dropped when the queue would otherwise grow.
 */
class RunQueue {
  #q = new Uint32Array(128);
  #head = 0;
  #len = 0;

  get byteLength(): number {
    return this.#q.byteLength;
  }

  push(run: number, gen: number, live: (run: number, gen: number) => boolean): void {
    const cap = this.#q.length / 2;
    if (this.#len === cap) {
      // Keep what is still live; grow only when more than half of it is.
      const kept: number[] = [];
      for (let i = 0; i < this.#len; i++) {
        const j = 2 * ((this.#head + i) % cap);
        if (live(this.#q[j], this.#q[j + 1])) kept.push(this.#q[j], this.#q[j + 1]);
      }
      const next = new Uint32Array(kept.length > cap ? 4 * cap : 2 * cap);
      next.set(kept);
      this.#q = next;
      this.#head = 0;
      this.#len = kept.length / 2;
    }
    const at = 2 * ((this.#head + this.#len++) % (this.#q.length / 2));
    this.#q[at] = run;
    this.#q[at + 1] = gen;
  }

  /** The first entry that is still live (dropping dead ones before it), or -1. */
  peek(live: (run: number, gen: number) => boolean): number {
    while (this.#len > 0) {
      const j = 2 * this.#head;
      if (live(this.#q[j], this.#q[j + 1])) return this.#q[j];
      this.pop();
    }
    return -1;
  }

  pop(): void {
    this.#head = (this.#head + 1) % (this.#q.length / 2);
    this.#len--;
  }

  clear(): void {
    this.#head = this.#len = 0;
  }
}

/** Assembles one run in memory that is reused for every run. */
export class RunBuilder {
  count = 0;
  bytes = 0;
  readonly ids = new Uint32Array(MAX_RUN_MEMBERS);
  #buf = new Uint8Array(RUN_BYTES);

  /** Whether a value of `length` bytes still fits in this run. */
  canAdd(length: number): boolean {
    return this.count < MAX_RUN_MEMBERS && this.bytes + length + 4 * (this.count + 2) <= RUN_BYTES;
  }

  /** Whether a value of `length` bytes needs a run of its own. */
  static single(length: number): boolean {
    return length + 8 > RUN_BYTES;
  }

  /** Copies src[from, from + length) in for key `id`; returns its start in the run. */
  add(id: number, src: Uint8Array, from: number, length: number): number {
    const start = this.bytes;
    this.#buf.set(src.subarray(from, from + length), start);
    this.ids[this.count++] = id;
    this.bytes += length;
    return start;
  }

  /** For a value that needs its own run: a buffer big enough, the value to be added at 0. */
  reserveSingle(length: number): void {
    const size = Math.ceil((length + 8) / PAGE_SIZE) * PAGE_SIZE;
    if (this.#buf.byteLength < size) this.#buf = new Uint8Array(size);
  }

  /** The run's pages, trailer written and the gap zeroed (no stale bytes reach the swap file). */
  finish(): Uint8Array {
    const trailer = 4 * (this.count + 1);
    const size = Math.ceil((this.bytes + trailer) / PAGE_SIZE) * PAGE_SIZE;
    const pages = this.#buf.subarray(0, size);
    pages.fill(0, this.bytes, size - trailer);
    const view = new DataView(pages.buffer, pages.byteOffset, size);
    for (let i = 0; i < this.count; i++) view.setUint32(size - trailer + 4 * i, this.ids[i], true);
    view.setUint32(size - 4, this.count, true);
    return pages;
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    if (this.#buf.byteLength > RUN_BYTES) this.#buf = new Uint8Array(RUN_BYTES);
  }
}

export class SwapRuns {
  /** Swap slots held by runs. */
  pages = 0;
  /** Whether the last read() took a page from the swap file. */
  lastFromFile = false;
  #area: SwapArea;
  #limit = 0;
  #slots = new Uint32Array(0);
  #big = new Map<number, Uint32Array>();
  #pageCount = new Uint32Array(0);
  #live = new Uint32Array(0);
  #liveBytes = new Uint32Array(0);
  #gen = new Uint32Array(0);
  #free: number[] = [];
  // Runs in write order, and runs that became sparse.
  #order = new RunQueue();
  #sparse = new RunQueue();
  #scratch = new Uint8Array(4 * PAGE_SIZE);
  #pageViews = [0, 1, 2, 3].map((i) => this.#scratch.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
  #offsets = new Uint32Array(RUN_PAGES);
  #sinceDrop = 0;

  #dropFileCache: boolean;

  constructor(area: SwapArea, dropFileCache: boolean) {
    this.#area = area;
    this.#dropFileCache = dropFileCache;
  }

  /**
   * Writes whole pages as a new run holding `members` values of `bytes` bytes in all; all or
   * nothing (ERR_TMEM_SWAP_FULL).
   */
  write(pages: Uint8Array, members: number, bytes: number): number {
    const n = pages.byteLength / PAGE_SIZE;
    const offsets = n <= RUN_PAGES ? this.#offsets : new Uint32Array(n);
    this.#area.writePages(pages, offsets);
    const run = this.#allocId();
    if (n <= RUN_PAGES) this.#slots.set(offsets.subarray(0, n), run * RUN_PAGES);
    else this.#big.set(run, offsets);
    this.#pageCount[run] = n;
    this.#live[run] = members;
    this.#liveBytes[run] = bytes;
    this.pages += n;
    this.#order.push(run, this.#gen[run], this.#isLive);
    this.#traffic(pages.byteLength);
    return run;
  }

  /** The value bytes [start, start + length) of `run`: a view valid until the next read. */
  read(run: number, start: number, length: number): Uint8Array {
    if (length === 0) {
      this.lastFromFile = false;
      return this.#scratch.subarray(0, 0);
    }
    const first = Math.floor(start / PAGE_SIZE);
    const n = Math.floor((start + length - 1) / PAGE_SIZE) - first + 1;
    const buf = this.#buffer(n);
    const reads = this.#area.fileReads;
    const slots = this.slotsOf(run);
    if (n <= this.#pageViews.length) {
      // Page by page into views made once: a batch whose pages are partly in the pool and
      // partly written back would make frontswap gather them through a buffer of its own.
      for (let i = 0; i < n; i++) this.#area.readPage(slots[first + i], this.#pageViews[i]);
    } else {
      this.#area.readPages(slots.subarray(first, first + n), buf);
    }
    this.lastFromFile = this.#area.fileReads !== reads;
    if (this.lastFromFile) this.#traffic(n * PAGE_SIZE);
    const off = start - first * PAGE_SIZE;
    return buf.subarray(off, off + length);
  }

  /**
   * Reads [start, start + length) of `run` with the swap file's pages read on the libuv thread
   * pool. Resolves to the bytes, or null when the run was freed while the read was in flight
   * (its slots may hold another run's pages by then).
   */
  async readAsync(run: number, start: number, length: number): Promise<{ bytes: Uint8Array; fromFile: boolean } | null> {
    if (length === 0) return { bytes: new Uint8Array(0), fromFile: false };
    const gen = this.#gen[run];
    const first = Math.floor(start / PAGE_SIZE);
    const last = Math.floor((start + length - 1) / PAGE_SIZE);
    const buf = new Uint8Array((last - first + 1) * PAGE_SIZE);
    const reads = this.#area.fileReads;
    const done = this.#area.readPagesAsync(Uint32Array.from(this.slotsOf(run).subarray(first, last + 1)), buf);
    const fromFile = this.#area.fileReads !== reads;
    if (fromFile) this.#traffic(buf.byteLength);
    await done;
    if (this.#gen[run] !== gen) return null;
    const off = start - first * PAGE_SIZE;
    return { bytes: buf.subarray(off, off + length), fromFile };
  }

  /** The key ids in the run's trailer: a view valid until the next read. */
  members(run: number): Uint32Array {
    const slots = this.slotsOf(run);
    const n = Math.min(2, slots.length);
    const buf = this.#buffer(n);
    this.#area.readPages(slots.subarray(slots.length - n), buf);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const count = view.getUint32(buf.byteLength - 4, true);
    if (count > MAX_RUN_MEMBERS || 4 * (count + 1) > buf.byteLength) {
      throw new TmemError('ERR_TMEM_CORRUPT', `swap run ${run} has a damaged trailer (count ${count})`);
    }
    const at = buf.byteLength - 4 * (count + 1);
    const ids = new Uint32Array(count);
    for (let i = 0; i < count; i++) ids[i] = view.getUint32(at + 4 * i, true);
    return ids;
  }

  /** The slots of a live run, first page first. */
  slotsOf(run: number): Uint32Array {
    const n = this.#pageCount[run];
    return n <= RUN_PAGES ? this.#slots.subarray(run * RUN_PAGES, run * RUN_PAGES + n) : this.#big.get(run)!;
  }

  generation(run: number): number {
    return this.#gen[run];
  }

  /**
   * A value of `length` bytes left the run (deleted, replaced, moved); the last one frees the
   * run, and one that leaves it under a quarter full queues it as sparse.
   */
  release(run: number, length: number): void {
    if (--this.#live[run] === 0) {
      this.free(run);
      return;
    }
    const capacity = this.#pageCount[run] * PAGE_SIZE;
    const before = this.#liveBytes[run];
    this.#liveBytes[run] = before - length;
    if (before * 4 >= capacity && (before - length) * 4 < capacity && this.#pageCount[run] <= RUN_PAGES) this.#sparse.push(run, this.#gen[run], this.#isLive);
  }

  /** The next queued run that is still sparse, or -1. */
  nextSparse(): number {
    const run = this.#sparse.peek(this.#isLive);
    if (run >= 0) this.#sparse.pop();
    return run;
  }

  /** All pages of a run (of at most 16 pages) into `into`, which must hold 64 KiB. */
  readWhole(run: number, into: Uint8Array): Uint8Array {
    const slots = this.slotsOf(run);
    const pages = into.subarray(0, slots.length * PAGE_SIZE);
    const reads = this.#area.fileReads;
    this.#area.readPages(slots, pages);
    if (this.#area.fileReads !== reads) this.#traffic(pages.byteLength);
    return pages;
  }

  /** Frees the run's slots whatever it still holds. */
  free(run: number): void {
    const slots = this.slotsOf(run);
    if (this.#area.active) this.#area.freePages(slots);
    this.pages -= slots.length;
    this.#big.delete(run);
    this.#pageCount[run] = 0;
    this.#live[run] = 0;
    this.#gen[run]++;
    this.#free.push(run);
  }

  /** The oldest live run, or -1. */
  oldest(): number {
    return this.#order.peek(this.#isLive);
  }

  /** Frees every run (without touching an area that was swapped off). */
  clear(): void {
    for (let run = 0; run < this.#limit; run++) if (this.#pageCount[run] > 0) this.free(run);
    this.#order.clear();
    this.#sparse.clear();
  }

  /** Bytes of the run table. */
  memoryBytes(): number {
    return this.#slots.byteLength + this.#pageCount.byteLength * 4 + this.#order.byteLength + this.#sparse.byteLength;
  }

  // Drops the swap file's page cache once enough has gone through it.
  #traffic(bytes: number): void {
    if (!this.#dropFileCache) return;
    this.#sinceDrop += bytes;
    if (this.#sinceDrop < DROP_FILE_CACHE_EVERY) return;
    this.#sinceDrop = 0;
    if (this.#area.active) swapCacheAddon()?.dropFileCache(this.#area.fd);
  }

  // Whether a queue entry still names the run it was made for.
  #isLive = (run: number, gen: number): boolean => this.#pageCount[run] > 0 && this.#gen[run] === gen;

  #allocId(): number {
    if (this.#free.length > 0) return this.#free.pop()!;
    const run = this.#limit++;
    if (run === this.#pageCount.length) {
      const n = Math.max(64, run * 2);
      this.#slots = grown(this.#slots, n * RUN_PAGES);
      this.#pageCount = grown(this.#pageCount, n);
      this.#live = grown(this.#live, n);
      this.#liveBytes = grown(this.#liveBytes, n);
      this.#gen = grown(this.#gen, n);
    }
    return run;
  }

  // The scratch for reads; growing it replaces it, but only beyond the pages the views cover.
  #buffer(pages: number): Uint8Array {
    if (this.#scratch.byteLength < pages * PAGE_SIZE) {
      this.#scratch = new Uint8Array(pages * PAGE_SIZE);
      this.#pageViews = this.#pageViews.map((_, i) => this.#scratch.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    }
    return this.#scratch.subarray(0, pages * PAGE_SIZE);
  }
}
