// Index of the ephemeral (cleancache) pool of the pure-JS zcache, in typed arrays only: no JS object
// per inode or per page, so the V8 heap does not grow with the number of pages held.
//
// Two open-addressing hash tables (linear probing, backward-shift deletion, no tombstones; grown by
// rehashing into a table twice the size once half full):
//   - the inode table (eph-inodes.ts): (pool, six key words) → inode id;
//   - the page table (here):           (inode id, page index) → entry id.
// Inodes and entries live in slabs (arrays indexed by id, free ids chained), and:
//   - the entries of one inode are chained (entNext/entPrev), so dropping an inode costs its pages;
//   - the inodes of one pool are chained, so dropping a pool costs its inodes.
// An inode exists while it has at least one page: removing its last page removes it.
//
// An entry is (meta, val) as in the persistent AreaIndex: SAME with the fill word, or the length of
// the compressed page with its allocator handle. Entries holding an object are on `lru`, the
// ephemeral pool's own LRU (by entry id), which the slab grows.
import { EMPTY, isObject } from './area-index';
import { EntryLru } from './entry-lru';
import { InodeTable } from './eph-inodes';
import { chainFree, FREE, grow, insertSlot, linkFirst, MIN_SLAB, MIN_SLOTS, mix, rehash, removeSlot, unlink } from './open-addressing';

function pageHash(ino: number, index: number): number {
  return mix(Math.imul(ino, 0x9e3779b1) ^ Math.imul(index ^ 0x5bd1e995, 0x85ebca77));
}

export class EphIndex {
  /** Pages (entries) held. */
  pages = 0;

  readonly #inodes = new InodeTable();
  /** LRU of the entries holding an object (made anew by reset, to give its memory back). */
  lru = new EntryLru(0);
  /** Whether entry e holds an object: the `live` test of lru.take(). */
  readonly holdsObject = (e: number): boolean => isObject(this.#meta[e]);

  // Entry slab: inode, page index, inode chain links, meta, value.
  #entIno = new Int32Array(0);
  #entIndex = new Uint32Array(0);
  #entNext = new Int32Array(0);
  #entPrev = new Int32Array(0);
  #meta = new Uint16Array(0);
  #val = new Uint32Array(0);
  #entFree = FREE;
  #entCap = 0;
  #pgSlots = new Int32Array(0);
  readonly #hashOf = (e: number): number => pageHash(this.#entIno[e], this.#entIndex[e]);

  constructor() {
    this.reset();
  }

  /** Drops everything and returns to the initial (small) sizes. */
  reset(): void {
    this.pages = 0;
    this.#entCap = 0;
    this.#inodes.reset();
    this.#entIno = new Int32Array(0);
    this.#entIndex = new Uint32Array(0);
    this.#entNext = new Int32Array(0);
    this.#entPrev = new Int32Array(0);
    this.#meta = new Uint16Array(0);
    this.#val = new Uint32Array(0);
    this.lru = new EntryLru(0);
    this.#entFree = FREE;
    this.#growEntSlab(MIN_SLAB);
    this.#pgSlots = new Int32Array(MIN_SLOTS).fill(FREE);
  }

  /** Slots of the page table (its capacity before the next rehash is half of this). */
  get pageSlots(): number {
    return this.#pgSlots.length;
  }

  get inodeSlots(): number {
    return this.#inodes.slots;
  }

  get metadataBytes(): number {
    return (
      this.#inodes.metadataBytes + this.#entIno.byteLength + this.#entIndex.byteLength +
      this.#entNext.byteLength + this.#entPrev.byteLength + this.#meta.byteLength + this.#val.byteLength +
      this.#pgSlots.byteLength + this.lru.metadataBytes
    );
  }

  /**
   * Grows whatever one more inode and one more page would need, so that the addInode/addPage that
   * follow (with only removals in between) cannot fail. Throws (RangeError) when memory is short.
   */
  reserve(): void {
    this.#inodes.reserve();
    this.#reservePage();
  }

  // ---- inodes ----------------------------------------------------------------------------------

  /** Inode id of (pool, key), or -1. */
  findInode(pool: number, key: Uint32Array): number {
    return this.#inodes.find(pool, key);
  }

  /** Adds the inode (pool, key), which must not be held; it has no pages until addPage. */
  addInode(pool: number, key: Uint32Array): number {
    return this.#inodes.add(pool, key);
  }

  /** First inode of a pool (-1 when it has none); the next one is inoNextInPool(ino). */
  poolFirstInode(pool: number): number {
    return this.#inodes.poolFirst(pool);
  }

  inoNextInPool(ino: number): number {
    return this.#inodes.nextInPool(ino);
  }

  /** First page entry of an inode (-1 when none); the next one is entNextInInode(e). */
  inoFirstPage(ino: number): number {
    return this.#inodes.head[ino];
  }

  inoPageCount(ino: number): number {
    return this.#inodes.pages[ino];
  }

  inoPool(ino: number): number {
    return this.#inodes.pool(ino);
  }

  // ---- pages -----------------------------------------------------------------------------------

  /** Entry id of page `index` of inode `ino`, or -1. */
  findPage(ino: number, index: number): number {
    const slots = this.#pgSlots;
    const mask = slots.length - 1;
    for (let i = pageHash(ino, index) & mask; ; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === FREE) return -1;
      if (this.#entIno[e] === ino && this.#entIndex[e] === index) return e;
    }
  }

  /** Adds page `index` of inode `ino` (which must not be held) with its (meta, val); an object is queued on the LRU. */
  addPage(ino: number, index: number, meta: number, val: number): number {
    this.#reservePage();
    const e = this.#entFree;
    this.#entFree = this.#entNext[e];
    this.#entIno[e] = ino;
    this.#entIndex[e] = index;
    this.#meta[e] = meta;
    this.#val[e] = val;
    if (isObject(meta)) this.lru.add(e);
    linkFirst(this.#inodes.head, ino, this.#entNext, this.#entPrev, e);
    this.#inodes.pages[ino]++;
    insertSlot(this.#pgSlots, pageHash(ino, index), e);
    this.pages++;
    return e;
  }

  meta(e: number): number {
    return this.#meta[e];
  }

  val(e: number): number {
    return this.#val[e];
  }

  setVal(e: number, val: number): void {
    this.#val[e] = val;
  }

  entInode(e: number): number {
    return this.#entIno[e];
  }

  entIndex(e: number): number {
    return this.#entIndex[e];
  }

  entNextInInode(e: number): number {
    return this.#entNext[e];
  }

  /**
   * Removes entry e from the page table and its inode's chain; an inode left without pages is
   * removed too (so the caller must not use its inode id afterwards).
   */
  removePage(e: number): void {
    const ino = this.#entIno[e];
    const inodes = this.#inodes;
    removeSlot(this.#pgSlots, e, this.#hashOf);
    unlink(inodes.head, ino, this.#entNext, this.#entPrev, e);
    this.#entIno[e] = FREE;
    this.#meta[e] = EMPTY;
    this.#entNext[e] = this.#entFree;
    this.#entFree = e;
    this.pages--;
    if (--inodes.pages[ino] === 0) inodes.remove(ino);
  }

  // ---- internals -------------------------------------------------------------------------------

  #reservePage(): void {
    if ((this.pages + 1) * 2 > this.#pgSlots.length) this.#pgSlots = rehash(this.#pgSlots, this.#pgSlots.length * 2, this.#hashOf);
    if (this.#entFree === FREE) this.#growEntSlab(this.#entCap * 2);
  }

  #growEntSlab(cap: number): void {
    const old = this.#entCap;
    this.#entIno = grow(this.#entIno, cap);
    const index = new Uint32Array(cap);
    index.set(this.#entIndex);
    this.#entIndex = index;
    this.#entNext = grow(this.#entNext, cap);
    this.#entPrev = grow(this.#entPrev, cap);
    const meta = new Uint16Array(cap);
    meta.set(this.#meta);
    this.#meta = meta;
    this.lru.grow(cap);
    const val = new Uint32Array(cap);
    val.set(this.#val);
    this.#val = val;
    this.#entIno.fill(FREE, old, cap);
    this.#entFree = chainFree(this.#entNext, old, cap, this.#entFree);
    this.#entCap = cap;
  }
}
