// zbud (after mm/zbud.c) over the FrameStore: at most two objects ("buddies") per 4 KiB frame, sizes
// rounded up to 64-byte chunks, 64 chunks per frame. The first buddy is left-aligned at offset 0, the
// last buddy right-aligned so it ends at the end of the frame. Frame headers live out of band in
// typed arrays, so a raw 4096-byte page fits as a first buddy.
//
// Every frame in use is on exactly one list: unbuddied[k] (one buddy slot empty, k chunks free) or
// buddied (both slots used). Allocation takes the first frame of the first non-empty unbuddied[k]
// with k >= the chunks wanted, else a new frame; lists are LIFO like the kernel's list_add/
// list_first_entry.
//
// Frames belong to one of the two pools (allocator.ts), which never share a frame: each pool has its
// own unbuddied/buddied lists and its own counts. Objects never move, so owners need not be kept:
// a location is frame * 2 + bud, bud 0 = first, 1 = last; compaction has nothing to do.
import type { AllocatorName } from '../options';
import type { CounterSet } from '../types';
import { PAGE_SIZE } from '../types';
import type { Allocator, MoveListener, PoolId } from './allocator';
import { copyBytes } from './codec';
import { FrameStore } from './frames';

export const CHUNK_SHIFT = 6;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
export const NCHUNKS = PAGE_SIZE >> CHUNK_SHIFT;
/** Value of listOf[] for a frame on the buddied list; 0..NCHUNKS name unbuddied lists; -1 no list. */
const BUDDIED = NCHUNKS + 1;
const NO_LIST = -1;
/** List heads per pool: unbuddied[0..NCHUNKS], then buddied. */
const NLISTS = NCHUNKS + 2;

export class Zbud implements Allocator {
  readonly name: AllocatorName = 'zbud';
  readonly frames: FrameStore;
  /** Never called: zbud objects do not move. */
  onMove: MoveListener = () => {};
  mapOffset = 0;
  /** Objects stored (buddies in use). */
  objects = 0;
  /** Sum of the chunk-rounded sizes of the objects stored. */
  zbytes = 0;
  buddiedCount = 0;
  unbuddiedCount = 0;
  readonly #framesOf = new Int32Array(2);
  readonly #zbytesOf = new Float64Array(2);

  // Per buddy (index = handle): size in chunks.
  #chunks = new Uint8Array(0);
  // Per frame: pool, list membership, list links.
  #pool = new Uint8Array(0);
  #listOf = new Int8Array(0);
  #listPrev = new Int32Array(0);
  #listNext = new Int32Array(0);
  // List heads of pool p at p * NLISTS: unbuddied[0..NCHUNKS], then buddied at index BUDDIED.
  readonly #heads = new Int32Array(2 * NLISTS).fill(-1);

  constructor(maxFrames: number) {
    this.frames = new FrameStore(maxFrames, (cap) => this.#grow(cap));
  }

  static sizeToChunks(size: number): number {
    return (size + CHUNK_SIZE - 1) >> CHUNK_SHIFT;
  }

  /** Frames in use (both pools). */
  get pages(): number {
    return this.frames.inUse;
  }

  alloc(size: number, pool: PoolId): number {
    const chunks = Zbud.sizeToChunks(size);
    const base = pool * NLISTS;
    let frame = -1;
    let bud = 0;
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
      this.#pool[frame] = pool;
      this.#framesOf[pool]++;
      this.#listOf[frame] = NO_LIST;
    }
    const h = frame * 2 + bud;
    this.#chunks[h] = chunks;
    this.#placeOnList(frame);
    this.objects++;
    // zbytes counts whole chunks, the space objects take inside frames (as the native zbud does).
    this.zbytes += chunks * CHUNK_SIZE;
    this.#zbytesOf[pool] += chunks * CHUNK_SIZE;
    return h;
  }

  free(h: number): void {
    const frame = h >> 1;
    const pool = this.#pool[frame];
    this.zbytes -= this.#chunks[h] * CHUNK_SIZE;
    this.#zbytesOf[pool] -= this.#chunks[h] * CHUNK_SIZE;
    this.objects--;
    this.#chunks[h] = 0;
    this.#listRemove(frame);
    if (this.#chunks[frame * 2] === 0 && this.#chunks[frame * 2 + 1] === 0) {
      this.#framesOf[pool]--;
      this.frames.free(frame);
    } else {
      this.#placeOnList(frame);
    }
  }

  /** zbud objects do not move: their owners need not be known. */
  setOwner(): void {}

  map(h: number): Uint8Array {
    this.mapOffset = this.byteOffset(h);
    return this.frames.buf(h >> 1);
  }

  write(h: number, src: Uint8Array, srcOff: number, len: number): void {
    copyBytes(src, srcOff, this.frames.buf(h >> 1), this.byteOffset(h), len);
  }

  /** Where the object of handle h starts in its frame's buffer. */
  byteOffset(h: number): number {
    const base = this.frames.byteOffset(h >> 1);
    return (h & 1) === 0 ? base : base + PAGE_SIZE - (this.#chunks[h] << CHUNK_SHIFT);
  }

  chunksOf(h: number): number {
    return this.#chunks[h];
  }

  framesOf(pool: PoolId): number {
    return this.#framesOf[pool];
  }

  zbytesOf(pool: PoolId): number {
    return this.#zbytesOf[pool];
  }

  /** zbud objects never move: nothing to compact. */
  compact(): number {
    return 0;
  }

  /** Frame at the head of unbuddied[freeChunks] (or the buddied list with 'buddied') of a pool, or -1. */
  listHead(which: number | 'buddied', pool: PoolId = 0): number {
    return this.#heads[pool * NLISTS + (which === 'buddied' ? BUDDIED : which)];
  }

  stats(): Record<string, CounterSet> {
    return { zbud: { pages: this.pages, buddied: this.buddiedCount, unbuddied: this.unbuddiedCount, zbytes: this.zbytes } };
  }

  /** Drops every object and all storage. */
  release(): void {
    this.frames.release();
    this.#heads.fill(-1);
    this.objects = this.zbytes = this.buddiedCount = this.unbuddiedCount = 0;
    this.#framesOf.fill(0);
    this.#zbytesOf.fill(0);
    this.#grow(0);
  }

  get metadataBytes(): number {
    return (
      this.frames.metadataBytes + this.#chunks.byteLength + this.#pool.byteLength + this.#listOf.byteLength +
      this.#listPrev.byteLength + this.#listNext.byteLength + this.#heads.byteLength
    );
  }

  #placeOnList(frame: number): void {
    const first = this.#chunks[frame * 2];
    const last = this.#chunks[frame * 2 + 1];
    const list = first === 0 || last === 0 ? NCHUNKS - first - last : BUDDIED;
    if (list === BUDDIED) this.buddiedCount++;
    else this.unbuddiedCount++;
    const at = this.#pool[frame] * NLISTS + list;
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
    else this.#heads[this.#pool[frame] * NLISTS + list] = next;
    if (next >= 0) this.#listPrev[next] = prev;
    this.#listOf[frame] = NO_LIST;
  }

  #grow(cap: number): void {
    const grow = <T extends Uint8Array | Int8Array | Int32Array>(a: T, n: number, ctor: new (n: number) => T): T => {
      const b = new ctor(n);
      b.set(a.subarray(0, Math.min(n, a.length)) as never);
      return b;
    };
    this.#chunks = grow(this.#chunks, cap * 2, Uint8Array);
    this.#pool = grow(this.#pool, cap, Uint8Array);
    this.#listOf = grow(this.#listOf, cap, Int8Array);
    this.#listPrev = grow(this.#listPrev, cap, Int32Array);
    this.#listNext = grow(this.#listNext, cap, Int32Array);
  }
}
