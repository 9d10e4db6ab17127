// The LRU of stored entries that reclaim walks (zswap's since Linux 6.x, instead of zbud's LRU of
// frames: a zspage holds objects of many ages). Entries are queued in the order they were stored,
// oldest first, with a referenced bit that a load sets. Reclaim takes from the old end; an entry it
// finds referenced gets a second chance: the bit is cleared and the entry goes to the new end.
//
// One 32-bit word per entry id in a typed array: bits 0..28 the next (newer) id, bit 29 referenced,
// bit 30 queued. The list is singly linked, so an entry cannot be unlinked from the middle: when its
// owner drops it, its node stays queued, dead, until it reaches the old end, where the owner's
// `live(id)` says so and it is discarded. If the owner stores the same id again before that, the
// node is still queued: it keeps its place, marked referenced, so that it is passed over once before
// it can be taken. That is the price of 4 bytes per id instead of the 8 of a doubly linked list.
// Ids are area slots (persistent) or index entries (ephemeral), which exist anyway.

const NEXT_MASK = 0x1fffffff;
const END = NEXT_MASK;
const REFERENCED = 1 << 29;
const QUEUED = 1 << 30;
/** Largest id an EntryLru can hold. */
export const MAX_LRU_ID = END - 1;

export class EntryLru {
  #w: Uint32Array;
  #head = END;
  #tail = END;

  constructor(capacity: number) {
    this.#w = new Uint32Array(capacity);
  }

  get metadataBytes(): number {
    return this.#w.byteLength;
  }

  /** Room for ids 0..capacity-1 (never shrinks). */
  grow(capacity: number): void {
    if (capacity <= this.#w.length) return;
    const w = new Uint32Array(capacity);
    w.set(this.#w);
    this.#w = w;
  }

  /** Queues a newly stored entry at the new end (see the header for one that is still queued). */
  add(id: number): void {
    const w = this.#w;
    if ((w[id] & QUEUED) !== 0) {
      w[id] |= REFERENCED;
      return;
    }
    w[id] = QUEUED | END;
    if (this.#tail === END) this.#head = id;
    else w[this.#tail] = (w[this.#tail] & ~NEXT_MASK) | id;
    this.#tail = id;
  }

  /** Marks an entry as used since it was queued. */
  reference(id: number): void {
    this.#w[id] |= REFERENCED;
  }

  /**
   * Takes the oldest live entry that is not referenced, and returns it (-1 when there is none).
   * On the way, dead nodes are discarded and referenced ones moved to the new end, unreferenced.
   */
  take(live: (id: number) => boolean): number {
    const w = this.#w;
    while (this.#head !== END) {
      const id = this.#head;
      const word = w[id];
      this.#head = word & NEXT_MASK;
      if (this.#head === END) this.#tail = END;
      if (!live(id)) {
        w[id] = 0;
      } else if ((word & REFERENCED) !== 0) {
        w[id] = 0;
        this.add(id);
      } else {
        w[id] = 0;
        return id;
      }
    }
    return -1;
  }

  /** Queues a taken entry at the old end again (reclaim could not write it). */
  putBackOldest(id: number): void {
    const w = this.#w;
    w[id] = QUEUED | this.#head;
    if (this.#head === END) this.#tail = id;
    this.#head = id;
  }

  /** Ids queued, oldest first, dead ones included; for tests. */
  order(): number[] {
    const out: number[] = [];
    for (let id = this.#head; id !== END; id = this.#w[id] & NEXT_MASK) out.push(id);
    return out;
  }

  isReferenced(id: number): boolean {
    return (this.#w[id] & REFERENCED) !== 0;
  }
}
