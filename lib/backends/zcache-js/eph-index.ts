// Index of the ephemeral (cleancache) pool of the pure-JS zcache, in typed arrays only: no JS object
// per inode or per page, so the V8 heap does not grow with the number of pages held.
//
// Two open-addressing hash tables (linear probing, backward-shift deletion, no tombstones; grown by
// rehashing into a table twice the size once half full):
//   - the inode table: (pool, six key words) → inode id;
//   - the page table:  (inode id, page index) → entry id.
// Inodes and entries live in slabs (arrays indexed by id, free ids chained), and:
//   - the entries of one inode are chained (entNext/entPrev), so dropping an inode costs its pages;
//   - the inodes of one pool are chained (inoNext/inoPrev), so dropping a pool costs its inodes.
// An inode exists while it has at least one page: removing its last page removes it.
//
// An entry is (kind, val) as in the persistent AreaIndex: SAME with the fill word, or ZBUD with the
// zbud handle of the compressed page.

/** Words of a file key (cleancache FILEKEY_WORDS). */
export const KEY_WORDS = 6;
const INO_WORDS = KEY_WORDS + 1;
const MIN_SLOTS = 64;
const MIN_SLAB = 32;
const FREE = -1;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export class EphIndex {
  /** Pages (entries) held. */
  pages = 0;
  /** Inodes held (each with at least one page). */
  inodes = 0;

  // Inode slab: key (pool then six words), page chain head, page count, pool chain links.
  #inoKey = new Uint32Array(0);
  #inoHead = new Int32Array(0);
  #inoPages = new Int32Array(0);
  #inoNext = new Int32Array(0);
  #inoPrev = new Int32Array(0);
  #inoFree = FREE;
  #inoCap = 0;
  #inoSlots = new Int32Array(0);
  #inoMask = 0;

  // Entry slab: inode, page index, inode chain links, kind, value.
  #entIno = new Int32Array(0);
  #entIndex = new Uint32Array(0);
  #entNext = new Int32Array(0);
  #entPrev = new Int32Array(0);
  #kind = new Uint8Array(0);
  #val = new Uint32Array(0);
  #entFree = FREE;
  #entCap = 0;
  #pgSlots = new Int32Array(0);
  #pgMask = 0;

  // First inode of each pool, by pool id.
  #poolHead = new Int32Array(0);

  constructor() {
    this.reset();
  }

  /** Drops everything and returns to the initial (small) sizes. */
  reset(): void {
    this.pages = this.inodes = 0;
    this.#inoCap = this.#entCap = 0;
    this.#inoKey = new Uint32Array(0);
    this.#inoHead = new Int32Array(0);
    this.#inoPages = new Int32Array(0);
    this.#inoNext = new Int32Array(0);
    this.#inoPrev = new Int32Array(0);
    this.#inoFree = FREE;
    this.#entIno = new Int32Array(0);
    this.#entIndex = new Uint32Array(0);
    this.#entNext = new Int32Array(0);
    this.#entPrev = new Int32Array(0);
    this.#kind = new Uint8Array(0);
    this.#val = new Uint32Array(0);
    this.#entFree = FREE;
    this.#growInoSlab(MIN_SLAB);
    this.#growEntSlab(MIN_SLAB);
    this.#inoSlots = new Int32Array(MIN_SLOTS).fill(FREE);
    this.#inoMask = MIN_SLOTS - 1;
    this.#pgSlots = new Int32Array(MIN_SLOTS).fill(FREE);
    this.#pgMask = MIN_SLOTS - 1;
    this.#poolHead = new Int32Array(Math.max(this.#poolHead.length, 8)).fill(FREE);
  }

  /** Slots of the page table (its capacity before the next rehash is half of this). */
  get pageSlots(): number {
    return this.#pgSlots.length;
  }

  get inodeSlots(): number {
    return this.#inoSlots.length;
  }

  get metadataBytes(): number {
    return (
      this.#inoKey.byteLength + this.#inoHead.byteLength + this.#inoPages.byteLength + this.#inoNext.byteLength +
      this.#inoPrev.byteLength + this.#inoSlots.byteLength + this.#entIno.byteLength + this.#entIndex.byteLength +
      this.#entNext.byteLength + this.#entPrev.byteLength + this.#kind.byteLength + this.#val.byteLength +
      this.#pgSlots.byteLength + this.#poolHead.byteLength
    );
  }

  /**
   * Grows whatever one more inode and one more page would need, so that the addInode/addPage that
   * follow (with only removals in between) cannot fail. Throws (RangeError) when memory is short.
   */
  reserve(): void {
    if ((this.inodes + 1) * 2 > this.#inoSlots.length) this.#rehashInodes(this.#inoSlots.length * 2);
    if (this.#inoFree === FREE) this.#growInoSlab(this.#inoCap * 2);
    if ((this.pages + 1) * 2 > this.#pgSlots.length) this.#rehashPages(this.#pgSlots.length * 2);
    if (this.#entFree === FREE) this.#growEntSlab(this.#entCap * 2);
  }

  // ---- inodes ----------------------------------------------------------------------------------

  /** Inode id of (pool, key), or -1. */
  findInode(pool: number, key: Uint32Array): number {
    const slots = this.#inoSlots;
    const mask = this.#inoMask;
    const k = this.#inoKey;
    for (let i = this.#inoHash(pool, key); ; i = (i + 1) & mask) {
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

  /** Adds the inode (pool, key), which must not be held; it has no pages until addPage. */
  addInode(pool: number, key: Uint32Array): number {
    if ((this.inodes + 1) * 2 > this.#inoSlots.length) this.#rehashInodes(this.#inoSlots.length * 2);
    if (this.#inoFree === FREE) this.#growInoSlab(this.#inoCap * 2);
    const ino = this.#inoFree;
    this.#inoFree = this.#inoNext[ino];
    const b = ino * INO_WORDS;
    this.#inoKey[b] = pool;
    for (let w = 0; w < KEY_WORDS; w++) this.#inoKey[b + 1 + w] = key[w];
    this.#inoHead[ino] = FREE;
    this.#inoPages[ino] = 0;
    // Pool chain.
    if (pool >= this.#poolHead.length) {
      let n = this.#poolHead.length * 2;
      while (n <= pool) n *= 2;
      const heads = new Int32Array(n).fill(FREE);
      heads.set(this.#poolHead);
      this.#poolHead = heads;
    }
    const head = this.#poolHead[pool];
    this.#inoPrev[ino] = FREE;
    this.#inoNext[ino] = head;
    if (head !== FREE) this.#inoPrev[head] = ino;
    this.#poolHead[pool] = ino;
    // Hash table.
    const mask = this.#inoMask;
    let i = this.#inoHash(pool, key);
    while (this.#inoSlots[i] !== FREE) i = (i + 1) & mask;
    this.#inoSlots[i] = ino;
    this.inodes++;
    return ino;
  }

  /** First inode of a pool (-1 when it has none); the next one is inoNextInPool(ino). */
  poolFirstInode(pool: number): number {
    return pool < this.#poolHead.length ? this.#poolHead[pool] : FREE;
  }

  inoNextInPool(ino: number): number {
    return this.#inoNext[ino];
  }

  /** First page entry of an inode (-1 when none); the next one is entNextInInode(e). */
  inoFirstPage(ino: number): number {
    return this.#inoHead[ino];
  }

  inoPageCount(ino: number): number {
    return this.#inoPages[ino];
  }

  inoPool(ino: number): number {
    return this.#inoKey[ino * INO_WORDS];
  }

  // ---- pages -----------------------------------------------------------------------------------

  /** Entry id of page `index` of inode `ino`, or -1. */
  findPage(ino: number, index: number): number {
    const slots = this.#pgSlots;
    const mask = this.#pgMask;
    for (let i = this.#pgHash(ino, index); ; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === FREE) return -1;
      if (this.#entIno[e] === ino && this.#entIndex[e] === index) return e;
    }
  }

  /** Adds page `index` of inode `ino` (which must not be held) with its (kind, val). */
  addPage(ino: number, index: number, kind: number, val: number): number {
    if ((this.pages + 1) * 2 > this.#pgSlots.length) this.#rehashPages(this.#pgSlots.length * 2);
    if (this.#entFree === FREE) this.#growEntSlab(this.#entCap * 2);
    const e = this.#entFree;
    this.#entFree = this.#entNext[e];
    this.#entIno[e] = ino;
    this.#entIndex[e] = index;
    this.#kind[e] = kind;
    this.#val[e] = val;
    const head = this.#inoHead[ino];
    this.#entPrev[e] = FREE;
    this.#entNext[e] = head;
    if (head !== FREE) this.#entPrev[head] = e;
    this.#inoHead[ino] = e;
    this.#inoPages[ino]++;
    const mask = this.#pgMask;
    let i = this.#pgHash(ino, index);
    while (this.#pgSlots[i] !== FREE) i = (i + 1) & mask;
    this.#pgSlots[i] = e;
    this.pages++;
    return e;
  }

  kind(e: number): number {
    return this.#kind[e];
  }

  val(e: number): number {
    return this.#val[e];
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

  /** True when entry id e is held (not on the free list). */
  isLive(e: number): boolean {
    return e >= 0 && e < this.#entCap && this.#entIno[e] !== FREE;
  }

  /**
   * Removes entry e from the page table and its inode's chain; an inode left without pages is
   * removed too (so the caller must not use its inode id afterwards).
   */
  removePage(e: number): void {
    const ino = this.#entIno[e];
    // Hash table: find the slot, then shift later members of its cluster back.
    const slots = this.#pgSlots;
    const mask = this.#pgMask;
    let i = this.#pgHash(ino, this.#entIndex[e]);
    while (slots[i] !== e) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; slots[j] !== FREE; j = (j + 1) & mask) {
      const o = slots[j];
      const home = this.#pgHash(this.#entIno[o], this.#entIndex[o]);
      // Move o into the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = o;
        i = j;
      }
    }
    slots[i] = FREE;
    // Inode chain.
    const prev = this.#entPrev[e];
    const next = this.#entNext[e];
    if (prev !== FREE) this.#entNext[prev] = next;
    else this.#inoHead[ino] = next;
    if (next !== FREE) this.#entPrev[next] = prev;
    this.#entIno[e] = FREE;
    this.#entNext[e] = this.#entFree;
    this.#entFree = e;
    this.pages--;
    if (--this.#inoPages[ino] === 0) this.#removeInode(ino);
  }

  // ---- internals -------------------------------------------------------------------------------

  #removeInode(ino: number): void {
    const k = this.#inoKey;
    const b = ino * INO_WORDS;
    const slots = this.#inoSlots;
    const mask = this.#inoMask;
    let i = this.#inoHashAt(b);
    while (slots[i] !== ino) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; slots[j] !== FREE; j = (j + 1) & mask) {
      const o = slots[j];
      const home = this.#inoHashAt(o * INO_WORDS);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = o;
        i = j;
      }
    }
    slots[i] = FREE;
    const pool = k[b];
    const prev = this.#inoPrev[ino];
    const next = this.#inoNext[ino];
    if (prev !== FREE) this.#inoNext[prev] = next;
    else this.#poolHead[pool] = next;
    if (next !== FREE) this.#inoPrev[next] = prev;
    this.#inoNext[ino] = this.#inoFree;
    this.#inoPrev[ino] = FREE;
    this.#inoFree = ino;
    this.inodes--;
  }

  #inoHash(pool: number, key: Uint32Array): number {
    let h = Math.imul(pool ^ 0x2545f491, 0x9e3779b1);
    for (let w = 0; w < KEY_WORDS; w++) h = Math.imul((h ^ key[w]) >>> 0, 0x85ebca6b) ^ (h >>> 15);
    return mix(h) & this.#inoMask;
  }

  // The hash of the inode whose key starts at inoKey[b] (pool, then the six words).
  #inoHashAt(b: number): number {
    const k = this.#inoKey;
    let h = Math.imul(k[b] ^ 0x2545f491, 0x9e3779b1);
    for (let w = 0; w < KEY_WORDS; w++) h = Math.imul((h ^ k[b + 1 + w]) >>> 0, 0x85ebca6b) ^ (h >>> 15);
    return mix(h) & this.#inoMask;
  }

  #pgHash(ino: number, index: number): number {
    return mix(Math.imul(ino, 0x9e3779b1) ^ Math.imul(index ^ 0x5bd1e995, 0x85ebca77)) & this.#pgMask;
  }

  #rehashInodes(n: number): void {
    const old = this.#inoSlots;
    this.#inoSlots = new Int32Array(n).fill(FREE);
    this.#inoMask = n - 1;
    for (let s = 0; s < old.length; s++) {
      const ino = old[s];
      if (ino === FREE) continue;
      let i = this.#inoHashAt(ino * INO_WORDS);
      while (this.#inoSlots[i] !== FREE) i = (i + 1) & this.#inoMask;
      this.#inoSlots[i] = ino;
    }
  }

  #rehashPages(n: number): void {
    const old = this.#pgSlots;
    this.#pgSlots = new Int32Array(n).fill(FREE);
    this.#pgMask = n - 1;
    for (let s = 0; s < old.length; s++) {
      const e = old[s];
      if (e === FREE) continue;
      let i = this.#pgHash(this.#entIno[e], this.#entIndex[e]);
      while (this.#pgSlots[i] !== FREE) i = (i + 1) & this.#pgMask;
      this.#pgSlots[i] = e;
    }
  }

  #growInoSlab(cap: number): void {
    const old = this.#inoCap;
    const key = new Uint32Array(cap * INO_WORDS);
    key.set(this.#inoKey);
    this.#inoKey = key;
    this.#inoHead = grow(this.#inoHead, cap);
    this.#inoPages = grow(this.#inoPages, cap);
    this.#inoNext = grow(this.#inoNext, cap);
    this.#inoPrev = grow(this.#inoPrev, cap);
    // Chain the new ids onto the free list, lowest first.
    for (let id = cap - 1; id >= old; id--) {
      this.#inoNext[id] = this.#inoFree;
      this.#inoFree = id;
    }
    this.#inoCap = cap;
  }

  #growEntSlab(cap: number): void {
    const old = this.#entCap;
    this.#entIno = grow(this.#entIno, cap);
    const index = new Uint32Array(cap);
    index.set(this.#entIndex);
    this.#entIndex = index;
    this.#entNext = grow(this.#entNext, cap);
    this.#entPrev = grow(this.#entPrev, cap);
    const kind = new Uint8Array(cap);
    kind.set(this.#kind);
    this.#kind = kind;
    const val = new Uint32Array(cap);
    val.set(this.#val);
    this.#val = val;
    for (let id = cap - 1; id >= old; id--) {
      this.#entIno[id] = FREE;
      this.#entNext[id] = this.#entFree;
      this.#entFree = id;
    }
    this.#entCap = cap;
  }
}

function grow(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
