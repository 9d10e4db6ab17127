// The inode table of the ephemeral index (eph-index.ts): (pool, six key words) → inode id, and the
// chain of each pool's inodes, so that dropping a pool costs its inodes. It is a table of its own
// because the page table only needs two things of an inode: the first entry of its page chain and
// its page count, which live here as plain arrays that the page table maintains.
import { chainFree, FREE, grow, insertSlot, linkFirst, MIN_SLAB, MIN_SLOTS, mix, rehash, removeSlot, unlink } from './open-addressing';

/** Words of a file key (cleancache FILEKEY_WORDS). */
export const KEY_WORDS = 6;
const INO_WORDS = KEY_WORDS + 1;

/** Hash of (pool, the six words at words[at..]): the caller's key, or one held in the slab. */
function keyHash(pool: number, words: Uint32Array, at: number): number {
  let h = Math.imul(pool ^ 0x2545f491, 0x9e3779b1);
  for (let w = 0; w < KEY_WORDS; w++) h = Math.imul((h ^ words[at + w]) >>> 0, 0x85ebca6b) ^ (h >>> 15);
  return mix(h);
}

export class InodeTable {
  /** Inodes held (each with at least one page). */
  count = 0;
  /** First page entry of each inode (FREE when none), kept by the page table. */
  head = new Int32Array(0);
  /** Pages of each inode, kept by the page table. */
  pages = new Int32Array(0);

  // Slab: key (pool then six words), pool chain links; free ids are chained through #next.
  #key = new Uint32Array(0);
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  #free = FREE;
  #cap = 0;
  #slots = new Int32Array(0);
  // First inode of each pool, by pool id.
  #poolHead = new Int32Array(0);
  readonly #hashOf = (ino: number): number => {
    const b = ino * INO_WORDS;
    return keyHash(this.#key[b], this.#key, b + 1);
  };

  constructor() {
    this.reset();
  }

  /** Drops every inode and returns to the initial (small) sizes. */
  reset(): void {
    this.count = 0;
    this.#cap = 0;
    this.#key = new Uint32Array(0);
    this.head = new Int32Array(0);
    this.pages = new Int32Array(0);
    this.#next = new Int32Array(0);
    this.#prev = new Int32Array(0);
    this.#free = FREE;
    this.#growSlab(MIN_SLAB);
    this.#slots = new Int32Array(MIN_SLOTS).fill(FREE);
    this.#poolHead = new Int32Array(Math.max(this.#poolHead.length, 8)).fill(FREE);
  }

  get slots(): number {
    return this.#slots.length;
  }

  get metadataBytes(): number {
    return (
      this.#key.byteLength + this.head.byteLength + this.pages.byteLength + this.#next.byteLength +
      this.#prev.byteLength + this.#slots.byteLength + this.#poolHead.byteLength
    );
  }

  /** Grows whatever one more inode would need. Throws (RangeError) when memory is short. */
  reserve(): void {
    if ((this.count + 1) * 2 > this.#slots.length) this.#slots = rehash(this.#slots, this.#slots.length * 2, this.#hashOf);
    if (this.#free === FREE) this.#growSlab(this.#cap * 2);
  }

  /** Inode id of (pool, key), or -1. */
  find(pool: number, key: Uint32Array): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const k = this.#key;
    for (let i = keyHash(pool, key, 0) & mask; ; i = (i + 1) & mask) {
      const ino = slots[i];
      if (ino === FREE) return -1;
      const b = ino * INO_WORDS;
      if (
        k[b] === pool && k[b + 1] === key[0] && k[b + 2] === key[1] && k[b + 3] === key[2] &&
        k[b + 4] === key[3] && k[b + 5] === key[4] && k[b + 6] === key[5]
      ) {
        return ino;
      }
    }
  }

  /** Adds the inode (pool, key), which must not be held; it has no pages yet. */
  add(pool: number, key: Uint32Array): number {
    this.reserve();
    const ino = this.#free;
    this.#free = this.#next[ino];
    const b = ino * INO_WORDS;
    this.#key[b] = pool;
    for (let w = 0; w < KEY_WORDS; w++) this.#key[b + 1 + w] = key[w];
    this.head[ino] = FREE;
    this.pages[ino] = 0;
    if (pool >= this.#poolHead.length) {
      let n = this.#poolHead.length * 2;
      while (n <= pool) n *= 2;
      const heads = new Int32Array(n).fill(FREE);
      heads.set(this.#poolHead);
      this.#poolHead = heads;
    }
    linkFirst(this.#poolHead, pool, this.#next, this.#prev, ino);
    insertSlot(this.#slots, keyHash(pool, key, 0), ino);
    this.count++;
    return ino;
  }

  /** First inode of a pool (-1 when it has none); the next one is nextInPool(ino). */
  poolFirst(pool: number): number {
    return pool < this.#poolHead.length ? this.#poolHead[pool] : FREE;
  }

  nextInPool(ino: number): number {
    return this.#next[ino];
  }

  pool(ino: number): number {
    return this.#key[ino * INO_WORDS];
  }

  /** Removes the inode from the hash table and its pool's chain; its id goes back to the free list. */
  remove(ino: number): void {
    removeSlot(this.#slots, ino, this.#hashOf);
    unlink(this.#poolHead, this.#key[ino * INO_WORDS], this.#next, this.#prev, ino);
    this.#next[ino] = this.#free;
    this.#prev[ino] = FREE;
    this.#free = ino;
    this.count--;
  }

  #growSlab(cap: number): void {
    const key = new Uint32Array(cap * INO_WORDS);
    key.set(this.#key);
    this.#key = key;
    this.head = grow(this.head, cap);
    this.pages = grow(this.pages, cap);
    this.#next = grow(this.#next, cap);
    this.#prev = grow(this.#prev, cap);
    this.#free = chainFree(this.#next, this.#cap, cap, this.#free);
    this.#cap = cap;
  }
}
