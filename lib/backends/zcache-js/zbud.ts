// zbud (after mm/zbud.c) over the FrameStore: at most two objects ("buddies") per 4 KiB frame, sizes
// rounded up to 64-byte chunks, 64 chunks per frame. The first buddy is left-aligned at offset 0, the
// last buddy right-aligned so it ends at the end of the frame. Frame headers live out of band in
// typed arrays, so a raw 4096-byte page fits as a first buddy.
//
// Every frame in use is on exactly one list: unbuddied[k] (one buddy slot empty, k chunks free) or
// buddied (both slots used). Allocation takes the first frame of the first non-empty unbuddied[k]
// with k >= the chunks wanted, else a new frame; lists are LIFO like the kernel's list_add/
// list_first_entry. Frames are also on an LRU (head = most recently allocated into) with a
// referenced bit, and each buddy records its owner (area type, offset) so writeback can find it.
//
// Frames belong to one of two classes, persistent (frontswap pages) and ephemeral (cleancache
// pages), that never share a frame: each class has its own unbuddied/buddied lists, its own LRU and
// its own counts. Both draw on the one FrameStore, so they share its cap.
//
// A handle is frame * 2 + bud, bud 0 = first, 1 = last.
import { PAGE_SIZE } from '../types';
import { FrameFail, FrameStore } from './frames';

export const CHUNK_SHIFT = 6;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
export const NCHUNKS = PAGE_SIZE >> CHUNK_SHIFT;
/** Value of listOf[] for a frame on the buddied list; 0..NCHUNKS name unbuddied lists; -1 no list. */
const BUDDIED = NCHUNKS + 1;
const NO_LIST = -1;
/** List heads per class: unbuddied[0..NCHUNKS], then buddied. */
const NLISTS = NCHUNKS + 2;

/** Frame class of persistent (frontswap) pages. */
export const PERS = 0;
/** Frame class of ephemeral (cleancache) pages. */
export const EPH = 1;
export type FrameClass = typeof PERS | typeof EPH;

const FLAG_REFERENCED = 1;

export { FrameFail };

export class Zbud {
  readonly frames: FrameStore;
  /** Objects stored (buddies in use). */
  objects = 0;
  /** Sum of the sizes of the objects stored. */
  zbytes = 0;
  buddiedCount = 0;
  unbuddiedCount = 0;
  /** Per class: frames in use, objects stored, sum of their sizes. */
  readonly framesOf = new Int32Array(2);
  readonly objectsOf = new Int32Array(2);
  readonly zbytesOf = new Float64Array(2);

  // Per buddy (index = handle): size in chunks, size in bytes, owner area type and offset.
  #chunks = new Uint8Array(0);
  #size = new Uint16Array(0);
  #ownerType = new Uint8Array(0);
  #ownerOff = new Uint32Array(0);
  // Per frame: class, list membership, list links, LRU links, flags.
  #cls = new Uint8Array(0);
  #listOf = new Int8Array(0);
  #listPrev = new Int32Array(0);
  #listNext = new Int32Array(0);
  #lruPrev = new Int32Array(0);
  #lruNext = new Int32Array(0);
  #flags = new Uint8Array(0);
  // List heads of class c at c * NLISTS: unbuddied[0..NCHUNKS], then buddied at index BUDDIED.
  readonly #heads = new Int32Array(2 * NLISTS).fill(-1);
  // LRU head (most recent) and tail (oldest) per class.
  readonly #lruHead = new Int32Array(2).fill(-1);
  readonly #lruTail = new Int32Array(2).fill(-1);

  constructor(maxFrames: number) {
    this.frames = new FrameStore(maxFrames, (cap) => this.#grow(cap));
  }

  static sizeToChunks(size: number): number {
    return (size + CHUNK_SIZE - 1) >> CHUNK_SHIFT;
  }

  /** Frames in use (both classes). */
  get pages(): number {
    return this.frames.inUse;
  }

  /** Frames in use by one class. */
  pagesOf(cls: FrameClass): number {
    return this.framesOf[cls];
  }

  /**
   * Reserves room for `size` bytes (1..PAGE_SIZE) owned by (type, offset), in a frame of class
   * `cls`. Returns the handle, or -1 when no frame could be had (frames.lastFail says why).
   */
  alloc(size: number, type: number, offset: number, cls: FrameClass = PERS): number {
    const chunks = Zbud.sizeToChunks(size);
    const base = cls * NLISTS;
    let frame = -1;
    let bud = 0;
    let fresh = false;
    for (let k = chunks; k < NCHUNKS; k++) {
      const f = this.#heads[base + k];
      if (f >= 0) {
        this.#listRemove(f);
        frame = f;
        bud = this.#chunks[f * 2] === 0 ? 0 : 1;
        break;
      }
    }
    if (frame < 0) {
      frame = this.frames.alloc();
      if (frame < 0) return -1;
      this.#chunks[frame * 2] = 0;
      this.#chunks[frame * 2 + 1] = 0;
      this.#flags[frame] = 0;
      this.#cls[frame] = cls;
      this.framesOf[cls]++;
      this.#lruPrev[frame] = -1;
      this.#lruNext[frame] = -1;
      this.#listOf[frame] = NO_LIST;
      fresh = true;
    }
    const h = frame * 2 + bud;
    this.#chunks[h] = chunks;
    this.#size[h] = size;
    this.#ownerType[h] = type;
    this.#ownerOff[h] = offset;
    this.#placeOnList(frame);
    if (!fresh) this.#lruRemove(frame);
    this.#lruAddHead(frame);
    this.objects++;
    // zbytes counts whole chunks, the space objects take inside frames (as the native zbud does).
    this.zbytes += chunks * CHUNK_SIZE;
    this.objectsOf[cls]++;
    this.zbytesOf[cls] += chunks * CHUNK_SIZE;
    return h;
  }

  free(h: number): void {
    const frame = h >> 1;
    const cls = this.#cls[frame];
    this.zbytes -= this.#chunks[h] * CHUNK_SIZE;
    this.objects--;
    this.zbytesOf[cls] -= this.#chunks[h] * CHUNK_SIZE;
    this.objectsOf[cls]--;
    this.#chunks[h] = 0;
    this.#size[h] = 0;
    this.#listRemove(frame);
    if (this.#chunks[frame * 2] === 0 && this.#chunks[frame * 2 + 1] === 0) {
      this.#lruRemove(frame);
      this.framesOf[cls]--;
      this.frames.free(frame);
    } else {
      this.#placeOnList(frame);
    }
  }

  /** Buffer holding the object of handle h; its bytes start at byteOffset(h). */
  buf(h: number): Uint8Array {
    return this.frames.buf(h >> 1);
  }

  byteOffset(h: number): number {
    const frame = h >> 1;
    const base = this.frames.byteOffset(frame);
    return (h & 1) === 0 ? base : base + PAGE_SIZE - (this.#chunks[h] << CHUNK_SHIFT);
  }

  size(h: number): number {
    return this.#size[h];
  }

  chunksOf(h: number): number {
    return this.#chunks[h];
  }

  ownerType(h: number): number {
    return this.#ownerType[h];
  }

  ownerOffset(h: number): number {
    return this.#ownerOff[h];
  }

  /** Records a new owner for handle h (e.g. once the index entry of an ephemeral page exists). */
  setOwner(h: number, type: number, offset: number): void {
    this.#ownerType[h] = type;
    this.#ownerOff[h] = offset;
  }

  /** Class of a frame in use. */
  frameClass(frame: number): FrameClass {
    return this.#cls[frame] as FrameClass;
  }

  markReferenced(h: number): void {
    this.#flags[h >> 1] |= FLAG_REFERENCED;
  }

  isReferenced(frame: number): boolean {
    return (this.#flags[frame] & FLAG_REFERENCED) !== 0;
  }

  clearReferenced(frame: number): void {
    this.#flags[frame] &= ~FLAG_REFERENCED;
  }

  /** Moves a frame to the LRU head (most recent): writeback's second chance for referenced frames. */
  lruMoveToHead(frame: number): void {
    if (this.#lruHead[this.#cls[frame]] === frame) return;
    this.#lruRemove(frame);
    this.#lruAddHead(frame);
  }

  /** Least recently allocated-into frame of a class, or -1. */
  lruOldest(cls: FrameClass = PERS): number {
    return this.#lruTail[cls];
  }

  /** The next more recent frame after `frame` on the LRU, or -1. */
  lruNewer(frame: number): number {
    return this.#lruPrev[frame];
  }

  /** Frame at the head of unbuddied[freeChunks] (or the buddied list with 'buddied') of a class, or -1. */
  listHead(which: number | 'buddied', cls: FrameClass = PERS): number {
    return this.#heads[cls * NLISTS + (which === 'buddied' ? BUDDIED : which)];
  }

  /** Next frame on the same list, or -1. */
  listNext(frame: number): number {
    return this.#listNext[frame];
  }

  /** Drops every object and all storage. */
  release(): void {
    this.frames.release();
    this.#heads.fill(-1);
    this.#lruHead.fill(-1);
    this.#lruTail.fill(-1);
    this.objects = this.zbytes = this.buddiedCount = this.unbuddiedCount = 0;
    this.framesOf.fill(0);
    this.objectsOf.fill(0);
    this.zbytesOf.fill(0);
    this.#grow(0);
  }

  get metadataBytes(): number {
    return (
      this.frames.metadataBytes +
      this.#chunks.byteLength + this.#size.byteLength + this.#ownerType.byteLength + this.#ownerOff.byteLength +
      this.#cls.byteLength + this.#listOf.byteLength + this.#listPrev.byteLength + this.#listNext.byteLength +
      this.#lruPrev.byteLength + this.#lruNext.byteLength + this.#flags.byteLength + this.#heads.byteLength
    );
  }

  #placeOnList(frame: number): void {
    const first = this.#chunks[frame * 2];
    const last = this.#chunks[frame * 2 + 1];
    const list = first === 0 || last === 0 ? NCHUNKS - first - last : BUDDIED;
    if (list === BUDDIED) this.buddiedCount++;
    else this.unbuddiedCount++;
    const at = this.#cls[frame] * NLISTS + list;
    const head = this.#heads[at];
    this.#listOf[frame] = list;
    this.#listPrev[frame] = -1;
    this.#listNext[frame] = head;
    if (head >= 0) this.#listPrev[head] = frame;
    this.#heads[at] = frame;
  }

  #listRemove(frame: number): void {
    const list = this.#listOf[frame];
    if (list === NO_LIST) return;
    if (list === BUDDIED) this.buddiedCount--;
    else this.unbuddiedCount--;
    const prev = this.#listPrev[frame];
    const next = this.#listNext[frame];
    if (prev >= 0) this.#listNext[prev] = next;
    else this.#heads[this.#cls[frame] * NLISTS + list] = next;
    if (next >= 0) this.#listPrev[next] = prev;
    this.#listOf[frame] = NO_LIST;
  }

  #lruAddHead(frame: number): void {
    const cls = this.#cls[frame];
    const head = this.#lruHead[cls];
    this.#lruPrev[frame] = -1;
    this.#lruNext[frame] = head;
    if (head >= 0) this.#lruPrev[head] = frame;
    else this.#lruTail[cls] = frame;
    this.#lruHead[cls] = frame;
  }

  #lruRemove(frame: number): void {
    const cls = this.#cls[frame];
    const prev = this.#lruPrev[frame];
    const next = this.#lruNext[frame];
    if (prev >= 0) this.#lruNext[prev] = next;
    else this.#lruHead[cls] = next;
    if (next >= 0) this.#lruPrev[next] = prev;
    else this.#lruTail[cls] = prev;
    this.#lruPrev[frame] = this.#lruNext[frame] = -1;
  }

  #grow(cap: number): void {
    const grow = <T extends Uint8Array | Int8Array | Uint16Array | Int32Array | Uint32Array>(a: T, n: number, ctor: new (n: number) => T): T => {
      const b = new ctor(n);
      if (n > 0) b.set(a as never);
      return b;
    };
    if (cap === 0) {
      this.#chunks = new Uint8Array(0); this.#size = new Uint16Array(0);
      this.#ownerType = new Uint8Array(0); this.#ownerOff = new Uint32Array(0);
      this.#cls = new Uint8Array(0); this.#listOf = new Int8Array(0); this.#listPrev = new Int32Array(0); this.#listNext = new Int32Array(0);
      this.#lruPrev = new Int32Array(0); this.#lruNext = new Int32Array(0); this.#flags = new Uint8Array(0);
      return;
    }
    this.#chunks = grow(this.#chunks, cap * 2, Uint8Array);
    this.#size = grow(this.#size, cap * 2, Uint16Array);
    this.#ownerType = grow(this.#ownerType, cap * 2, Uint8Array);
    this.#ownerOff = grow(this.#ownerOff, cap * 2, Uint32Array);
    this.#cls = grow(this.#cls, cap, Uint8Array);
    this.#listOf = grow(this.#listOf, cap, Int8Array);
    this.#listPrev = grow(this.#listPrev, cap, Int32Array);
    this.#listNext = grow(this.#listNext, cap, Int32Array);
    this.#lruPrev = grow(this.#lruPrev, cap, Int32Array);
    this.#lruNext = grow(this.#lruNext, cap, Int32Array);
    this.#flags = grow(this.#flags, cap, Uint8Array);
  }
}
