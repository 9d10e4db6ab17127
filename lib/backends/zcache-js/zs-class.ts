// One size class of one pool of the zsmalloc-class allocator: its zspages and their slots, all in
// typed arrays (no JS object per zspage or per object). A zspage is named by its number within the
// class ("local" id); its slots are numbered local * objs + idx, so one array indexed by slot number
// covers every zspage of the class.
//
// Per zspage: slots in use, head of its free-slot list, first frame (the allocator chains the
// others), and its fullness group with the group's list links. Groups are by share of slots in use,
// as the kernel's ZS_INUSE_RATIO_*: group g holds the zspages with g*10% <= inuse < (g+1)*10%
// (0..9), group FULL the full ones; an empty zspage is freed at once, so it is in no group.
// Allocation takes the fullest non-full zspage (highest group first), so partly used zspages fill up
// before a new one is made; compaction moves objects from the sparsest into the fullest.
//
// Per slot, `back`: the owner of the object in a used slot (>= 0, see allocator.ts), or in a free
// slot the link of its zspage's free list, stored as -2 - next (-1 ends the list). The links cost
// nothing extra: they live where the back-pointer of an object would be.
import type { ClassGeometry } from './zs-classes';

const NGROUPS = 11;
const FULL = NGROUPS - 1;
const NONE = -1;
const UNUSED = -1;

export class SizeClass {
  readonly size: number;
  readonly pages: number;
  readonly objs: number;
  /** Zspages held. */
  zspages = 0;
  /** Slots holding an object. */
  used = 0;
  /** Owner of the object in each used slot, or the free-list link of a free one (see the header). */
  back = new Int32Array(0);
  /** First frame of each zspage. */
  first = new Int32Array(0);
  #inuse = new Uint16Array(0);
  #freeHead = new Int16Array(0);
  #group = new Int8Array(0);
  #prev = new Int32Array(0);
  /** Group list link of a zspage in use; the free-id list link of an unused local id. */
  #next = new Int32Array(0);
  readonly #heads = new Int32Array(NGROUPS).fill(NONE);
  #freeLocal = NONE;
  #capacity = 0;

  constructor(geometry: ClassGeometry) {
    this.size = geometry.size;
    this.pages = geometry.pages;
    this.objs = geometry.objs;
  }

  /** Slots of held zspages that are free: what compaction could give back. */
  get wasted(): number {
    return this.zspages * this.objs - this.used;
  }

  get metadataBytes(): number {
    return (
      this.back.byteLength + this.first.byteLength + this.#inuse.byteLength + this.#freeHead.byteLength +
      this.#group.byteLength + this.#prev.byteLength + this.#next.byteLength + this.#heads.byteLength
    );
  }

  /** A free slot in the fullest zspage that has one, or -1 when every zspage is full (or none is held). */
  freeSlot(): number {
    for (let g = FULL - 1; g >= 0; g--) {
      const z = this.#heads[g];
      if (z !== NONE) return this.takeSlotOf(z);
    }
    return NONE;
  }

  /** Takes the first free slot of zspage z, which must not be full. */
  takeSlotOf(z: number): number {
    const idx = this.#freeHead[z];
    const slot = z * this.objs + idx;
    this.#freeHead[z] = -2 - this.back[slot];
    this.#inuse[z]++;
    this.used++;
    this.#regroup(z);
    return slot;
  }

  /**
   * Frees a used slot (the caller has read its owner from back[slot]). Returns the zspage when that
   * emptied it: the caller releases its frames and then calls removeZspage. -1 otherwise.
   */
  putSlot(slot: number): number {
    const z = (slot / this.objs) | 0;
    this.back[slot] = -2 - this.#freeHead[z];
    this.#freeHead[z] = slot - z * this.objs;
    this.used--;
    if (--this.#inuse[z] === 0) return z;
    this.#regroup(z);
    return NONE;
  }

  /**
   * Makes room for one more zspage (growing the arrays may throw RangeError when memory is short,
   * before anything changed). Call before the frames are taken, then addZspage.
   */
  reserve(): void {
    if (this.#freeLocal !== NONE) return;
    this.#grow(Math.max(4, Math.ceil(this.#capacity * 1.25)));
  }

  /** Adds an empty zspage whose first frame is `frame` (after reserve()); returns its local id. */
  addZspage(frame: number): number {
    const z = this.#freeLocal;
    this.#freeLocal = this.#next[z];
    this.first[z] = frame;
    this.#inuse[z] = 0;
    // Free list in slot order: the first allocations fill the zspage from its start.
    const base = z * this.objs;
    for (let i = 0; i < this.objs; i++) this.back[base + i] = -2 - (i + 1 < this.objs ? i + 1 : NONE);
    this.#freeHead[z] = 0;
    this.#group[z] = 0;
    this.#link(z, 0);
    this.zspages++;
    return z;
  }

  /** Forgets an empty zspage (its frames were released by the caller). */
  removeZspage(z: number): void {
    this.#unlink(z);
    this.#group[z] = UNUSED;
    this.#next[z] = this.#freeLocal;
    this.#freeLocal = z;
    // A class left empty gives its arrays back: after a burst, its metadata goes with its objects.
    if (--this.zspages === 0) this.#reset();
  }

  /** The sparsest zspage (lowest group first), or -1. */
  sparsest(): number {
    for (let g = 0; g < FULL; g++) if (this.#heads[g] !== NONE) return this.#heads[g];
    return NONE;
  }

  /** The fullest non-full zspage other than `not`, or -1. */
  fullestBut(not: number): number {
    for (let g = FULL - 1; g >= 0; g--) {
      for (let z = this.#heads[g]; z !== NONE; z = this.#next[z]) if (z !== not) return z;
    }
    return NONE;
  }

  isFull(z: number): boolean {
    return this.#inuse[z] === this.objs;
  }

  inuse(z: number): number {
    return this.#inuse[z];
  }

  /** Fullness group of zspage z (0..9, 10 = full), -1 for an unused local id; for tests. */
  groupOf(z: number): number {
    return this.#group[z];
  }

  /** Local ids in use, for walks over every zspage (compaction of frames, tests). */
  forEachZspage(fn: (z: number) => void): void {
    for (let g = 0; g < NGROUPS; g++) for (let z = this.#heads[g]; z !== NONE; z = this.#next[z]) fn(z);
  }

  #groupFor(z: number): number {
    const n = this.#inuse[z];
    return n === this.objs ? FULL : ((n * 10) / this.objs) | 0;
  }

  #regroup(z: number): void {
    const g = this.#groupFor(z);
    if (g === this.#group[z]) return;
    this.#unlink(z);
    this.#group[z] = g;
    this.#link(z, g);
  }

  #link(z: number, g: number): void {
    const head = this.#heads[g];
    this.#prev[z] = NONE;
    this.#next[z] = head;
    if (head !== NONE) this.#prev[head] = z;
    this.#heads[g] = z;
  }

  #unlink(z: number): void {
    const p = this.#prev[z];
    const n = this.#next[z];
    if (p !== NONE) this.#next[p] = n;
    else this.#heads[this.#group[z]] = n;
    if (n !== NONE) this.#prev[n] = p;
  }

  #reset(): void {
    this.back = new Int32Array(0);
    this.first = new Int32Array(0);
    this.#inuse = new Uint16Array(0);
    this.#freeHead = new Int16Array(0);
    this.#group = new Int8Array(0);
    this.#prev = new Int32Array(0);
    this.#next = new Int32Array(0);
    this.#heads.fill(NONE);
    this.#freeLocal = NONE;
    this.#capacity = 0;
  }

  #grow(cap: number): void {
    const old = this.#capacity;
    const back = new Int32Array(cap * this.objs);
    const first = new Int32Array(cap);
    const inuse = new Uint16Array(cap);
    const freeHead = new Int16Array(cap);
    const group = new Int8Array(cap).fill(UNUSED);
    const prev = new Int32Array(cap);
    const next = new Int32Array(cap);
    back.set(this.back);
    first.set(this.first);
    inuse.set(this.#inuse);
    freeHead.set(this.#freeHead);
    group.set(this.#group);
    prev.set(this.#prev);
    next.set(this.#next);
    this.back = back;
    this.first = first;
    this.#inuse = inuse;
    this.#freeHead = freeHead;
    this.#group = group;
    this.#prev = prev;
    this.#next = next;
    for (let z = cap - 1; z >= old; z--) {
      this.#next[z] = this.#freeLocal;
      this.#freeLocal = z;
    }
    this.#capacity = cap;
  }
}
