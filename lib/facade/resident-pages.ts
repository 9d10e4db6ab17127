// The resident part of PageCache: a fixed slab of 4 KiB page slots in one ArrayBuffer, an LRU list
// threaded through typed arrays, and a Map from page key to slot. No JS object per page.
import { PAGE_SIZE } from '../backends/types';

/** Called with a slot about to be reused, so its page can be offered to cleancache. */
export type EvictFn = (fileId: number, index: number, page: Uint8Array, referenced: boolean) => void;

const NONE = -1;

/** fileId * 2^32 + index stays exact in a double for fileId < 2^21. */
export function pageKey(fileId: number, index: number): number {
  return fileId * 2 ** 32 + index;
}

export class ResidentPages {
  readonly slots: number;
  readonly #data: Uint8Array;
  readonly #keyOf: Float64Array;
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  readonly #referenced: Uint8Array;
  readonly #map = new Map<number, number>();
  #head = NONE; // most recently used
  #tail = NONE; // least recently used
  #free: number[] = [];

  constructor(budgetBytes: number) {
    this.slots = Math.max(1, Math.floor(budgetBytes / PAGE_SIZE));
    this.#data = new Uint8Array(this.slots * PAGE_SIZE);
    this.#keyOf = new Float64Array(this.slots).fill(-1);
    this.#prev = new Int32Array(this.slots).fill(NONE);
    this.#next = new Int32Array(this.slots).fill(NONE);
    this.#referenced = new Uint8Array(this.slots);
    for (let s = this.slots - 1; s >= 0; s--) this.#free.push(s);
  }

  get count(): number {
    return this.#map.size;
  }

  page(slot: number): Uint8Array {
    return this.#data.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE);
  }

  /** The slot holding the page, made most recently used, or -1. */
  lookup(fileId: number, index: number): number {
    const slot = this.#map.get(pageKey(fileId, index));
    if (slot === undefined) return NONE;
    this.#referenced[slot] = 1;
    this.#unlink(slot);
    this.#pushHead(slot);
    return slot;
  }

  /** A slot for a new page (evicting the least recently used one through `evict`), already mapped. */
  insert(fileId: number, index: number, evict: EvictFn): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#tail;
      const key = this.#keyOf[slot];
      evict(Math.floor(key / 2 ** 32), key % 2 ** 32, this.page(slot), this.#referenced[slot] === 1);
      this.#map.delete(key);
      this.#unlink(slot);
    }
    const key = pageKey(fileId, index);
    this.#keyOf[slot] = key;
    this.#referenced[slot] = 0;
    this.#map.set(key, slot);
    this.#pushHead(slot);
    return slot;
  }

  /** Drops one page if resident. */
  remove(fileId: number, index: number): void {
    const key = pageKey(fileId, index);
    const slot = this.#map.get(key);
    if (slot === undefined) return;
    this.#map.delete(key);
    this.#unlink(slot);
    this.#keyOf[slot] = -1;
    this.#free.push(slot);
  }

  /** Drops every page of `fileId` with index >= `from`. */
  removeFile(fileId: number, from = 0): void {
    for (let slot = 0; slot < this.slots; slot++) {
      const key = this.#keyOf[slot];
      if (key >= 0 && Math.floor(key / 2 ** 32) === fileId && key % 2 ** 32 >= from) {
        this.#map.delete(key);
        this.#unlink(slot);
        this.#keyOf[slot] = -1;
        this.#free.push(slot);
      }
    }
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
