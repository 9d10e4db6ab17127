// The resident part of PageCache: a fixed slab of 4 KiB page slots in one ArrayBuffer, an LRU list
// threaded through typed arrays, and per file a Map from page index to slot. No JS object per page.
//
// A page is named by (file id, page index) as two numbers, never packed into one: file ids grow
// with every open and page indexes go up to 2^41 (a 2^53-byte file), so no packing into a double
// would stay exact (a key of fileId * 2^32 + index made page 1 of file 2^21 read as its page 0).
import { PAGE_SIZE } from '../backends/types';

/** Called with a slot about to be reused, so its page can be offered to cleancache. */
export type EvictFn = (fileId: number, index: number, page: Uint8Array, referenced: boolean) => void;

const NONE = -1;

export class ResidentPages {
  readonly slots: number;
  readonly #data: Uint8Array;
  /** File id and page index held by each slot; file id -1 when the slot is free. */
  readonly #fileOf: Float64Array;
  readonly #indexOf: Float64Array;
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  readonly #referenced: Uint8Array;
  /** file id → (page index → slot), for the files with resident pages. */
  readonly #files = new Map<number, Map<number, number>>();
  #count = 0;
  #head = NONE; // most recently used
  #tail = NONE; // least recently used
  #free: number[] = [];

  constructor(budgetBytes: number) {
    this.slots = Math.max(1, Math.floor(budgetBytes / PAGE_SIZE));
    this.#data = new Uint8Array(this.slots * PAGE_SIZE);
    this.#fileOf = new Float64Array(this.slots).fill(NONE);
    this.#indexOf = new Float64Array(this.slots);
    this.#prev = new Int32Array(this.slots).fill(NONE);
    this.#next = new Int32Array(this.slots).fill(NONE);
    this.#referenced = new Uint8Array(this.slots);
    for (let s = this.slots - 1; s >= 0; s--) this.#free.push(s);
  }

  get count(): number {
    return this.#count;
  }

  page(slot: number): Uint8Array {
    return this.#data.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE);
  }

  /** The slot holding the page, made most recently used, or -1. */
  lookup(fileId: number, index: number): number {
    const slot = this.#files.get(fileId)?.get(index);
    if (slot === undefined) return NONE;
    this.#referenced[slot] = 1;
    this.#unlink(slot);
    this.#pushHead(slot);
    return slot;
  }

  /**
   * A slot for a new page, already mapped. When none is free, the least recently used page is
   * unmapped first and then handed to `evict`, so an `evict` that throws leaves a consistent LRU.
   */
  insert(fileId: number, index: number, evict: EvictFn): number {
    if (this.#free.length === 0) {
      const victim = this.#tail;
      const oldFile = this.#fileOf[victim];
      const oldIndex = this.#indexOf[victim];
      this.#unmap(victim);
      // Its bytes stay in place until the slot is reused, which is after evict returns.
      evict(oldFile, oldIndex, this.page(victim), this.#referenced[victim] === 1);
    }
    const slot = this.#free.pop()!;
    let pages = this.#files.get(fileId);
    if (pages === undefined) this.#files.set(fileId, (pages = new Map()));
    pages.set(index, slot);
    this.#fileOf[slot] = fileId;
    this.#indexOf[slot] = index;
    this.#referenced[slot] = 0;
    this.#count++;
    this.#pushHead(slot);
    return slot;
  }

  /** Drops one page if resident. */
  remove(fileId: number, index: number): void {
    const slot = this.#files.get(fileId)?.get(index);
    if (slot !== undefined) this.#unmap(slot);
  }

  /** Drops every page of `fileId` with index >= `from`. */
  removeFile(fileId: number, from = 0): void {
    const pages = this.#files.get(fileId);
    if (pages === undefined) return;
    for (const [index, slot] of pages) if (index >= from) this.#unmap(slot);
  }

  // Takes the page out of the map and the LRU and puts its slot on the free list.
  #unmap(slot: number): void {
    const fileId = this.#fileOf[slot];
    const pages = this.#files.get(fileId)!;
    pages.delete(this.#indexOf[slot]);
    if (pages.size === 0) this.#files.delete(fileId);
    this.#unlink(slot);
    this.#fileOf[slot] = NONE;
    this.#count--;
    this.#free.push(slot);
  }

  #unlink(slot: number): void {
    const p = this.#prev[slot];
    const n = this.#next[slot];
    if (p !== NONE) this.#next[p] = n;
    else if (this.#head === slot) this.#head = n;
    if (n !== NONE) this.#prev[n] = p;
    else if (this.#tail === slot) this.#tail = p;
    this.#prev[slot] = NONE;
    this.#next[slot] = NONE;
  }

  #pushHead(slot: number): void {
    this.#prev[slot] = NONE;
    this.#next[slot] = this.#head;
    if (this.#head !== NONE) this.#prev[this.#head] = slot;
    this.#head = slot;
    if (this.#tail === NONE) this.#tail = slot;
  }
}
