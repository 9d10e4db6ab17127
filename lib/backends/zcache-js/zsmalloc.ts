// The zsmalloc-class allocator of the pure-JS zcache (after mm/zsmalloc.c), over the FrameStore:
// objects go to size classes (zs-classes.ts) that pack them back to back into zspages of 1..8
// frames (fewer in a small pool), so that a class wastes at most the tail of a zspage and one partly
// used zspage; each pool (persistent, ephemeral) has its own classes, so the two never share a frame.
//
// An object's location is (class id << SLOT_BITS | slot). Objects move, so their owners' entries
// are the handles (allocator.ts): each class keeps the owner of every used slot (`back`), so that
// compaction can move an object and tell its owner the new location. The frames of a zspage are
// chained (#frameNext); an object that straddles two frames is read through a scratch copy (map)
// and written in two parts (write), so callers never see frame boundaries.
//
// Compaction (of a class): while the class's free slots add up to at least one zspage, move objects
// from its sparsest zspage into its fullest non-full one; each emptied zspage gives its frames back.
// It runs on demand (compact()), and by itself when a free leaves a class fragmented: a persistent
// class once 1/8 of its slots are free, an ephemeral class as soon as a zspage's worth is (evicting
// clean pages is how that pool makes room, and only emptied frames are room). Then, while the
// frames held would fit in a chunk fewer (the spare aside), frames are moved out of the least used
// storage chunk into free frames of the others until it empties and is released (frames.ts), so
// that process memory follows the pool and not its high-water mark.
//
// JS runs one op at a time, so nothing can read an object while it moves: map() results are only
// valid until the next call into the allocator, and a caller decompresses before it calls again.
import type { AllocatorName } from '../options';
import type { CounterSet } from '../types';
import { PAGE_SIZE } from '../types';
import { EPH, PERS, type Allocator, type MoveListener, type PoolId } from './allocator';
import { copyBytes } from './codec';
import { FRAMES_PER_CHUNK, FrameFail, FrameStore } from './frames';
import { SizeClass } from './zs-class';
import { chainFor, sizeClasses, type SizeClasses } from './zs-classes';

/** A location is (class id << SLOT_BITS) | slot: up to 2 pools x 255 classes, 8M slots a class. */
const SLOT_BITS = 23;
const SLOT_MASK = 2 ** SLOT_BITS - 1;
/** A persistent class compacts itself once this share (1/n) of its slots is free. */
const PERS_FRAGMENTATION = 8;


export class Zsmalloc implements Allocator {
  readonly name: AllocatorName = 'zsmalloc';
  readonly frames: FrameStore;
  readonly geometry: SizeClasses;
  onMove: MoveListener = () => {};
  mapOffset = 0;
  /** Compaction runs that freed frames, and the frames they freed. */
  compactions = 0;
  pagesCompacted = 0;
  /** Classes by id: the persistent pool's, then the ephemeral pool's. */
  readonly #classes: SizeClass[] = [];
  /** Classes per pool. */
  readonly #nc: number;
  /** The debugfs names of the per-class counters. */
  readonly #classKeys: string[][];
  #frameNext = new Int32Array(0);
  /** Whether an object was freed since compact() last ran. */
  #freedSinceCompact = false;
  readonly #framesOf = new Int32Array(2);
  readonly #zbytesOf = new Float64Array(2);
  readonly #scratch = new Uint8Array(PAGE_SIZE);
  // Where #locate found a slot: its frame and its byte offset in that frame.
  #frame = 0;
  #within = 0;

  constructor(maxFrames: number) {
    this.frames = new FrameStore(maxFrames, (cap) => this.#growFrames(cap));
    this.geometry = sizeClasses(chainFor(maxFrames));
    const classes = this.geometry.classes;
    this.#nc = classes.length;
    for (let pool = PERS; pool <= EPH; pool++) for (const g of classes) this.#classes.push(new SizeClass(g));
    this.#classKeys = classes.map((g) =>
      ['objs_per_zspage', 'pages_per_zspage', 'zspages', 'obj_allocated', 'obj_used', 'pages_used'].map((k) => `class/${g.size}/${k}`),
    );
  }

  alloc(size: number, pool: PoolId, owner: number): number {
    const cid = pool * this.#nc + this.geometry.classOf(size);
    const cls = this.#classes[cid];
    let slot = cls.freeSlot();
    if (slot < 0) {
      if (!this.#newZspage(cls, pool)) return -1;
      slot = cls.freeSlot();
    }
    cls.back[slot] = owner;
    this.#zbytesOf[pool] += cls.size;
    return ((cid << SLOT_BITS) | slot) >>> 0;
  }

  setOwner(l: number, owner: number): void {
    this.#classes[l >>> SLOT_BITS].back[l & SLOT_MASK] = owner;
  }

  free(l: number): void {
    const cid = l >>> SLOT_BITS;
    const cls = this.#classes[cid];
    const pool = cid < this.#nc ? PERS : EPH;
    this.#zbytesOf[pool] -= cls.size;
    const emptied = cls.putSlot(l & SLOT_MASK);
    if (emptied >= 0) this.#freeZspage(cls, emptied, pool);
    this.#freedSinceCompact = true;
    const wasted = cls.wasted;
    let released = emptied >= 0;
    if (wasted >= cls.objs && (pool === EPH || wasted * PERS_FRAGMENTATION >= cls.zspages * cls.objs)) {
      released = this.#compactClass(cid, pool) > 0 || released;
    }
    if (released) this.#evacuateChunks();
  }

  map(l: number, len: number): Uint8Array {
    this.#locate(this.#classes[l >>> SLOT_BITS], l & SLOT_MASK);
    return this.#mapAt(len);
  }

  write(l: number, src: Uint8Array, srcOff: number, len: number): void {
    this.#locate(this.#classes[l >>> SLOT_BITS], l & SLOT_MASK);
    this.#writeAt(src, srcOff, len);
  }

  framesOf(pool: PoolId): number {
    return this.#framesOf[pool];
  }

  zbytesOf(pool: PoolId): number {
    return this.#zbytesOf[pool];
  }

  /** Compacts every class that has a zspage's worth of free slots, then releases emptied chunks. */
  compact(): number {
    // Nothing freed since the last time: nothing to gain (this is called on every refused store).
    if (!this.#freedSinceCompact) return 0;
    this.#freedSinceCompact = false;
    let released = 0;
    for (let cid = 0; cid < this.#classes.length; cid++) {
      const cls = this.#classes[cid];
      if (cls.wasted >= cls.objs) released += this.#compactClass(cid, cid < this.#nc ? PERS : EPH);
    }
    this.#evacuateChunks();
    return released;
  }

  get metadataBytes(): number {
    let bytes = this.frames.metadataBytes + this.#frameNext.byteLength;
    for (const cls of this.#classes) bytes += cls.metadataBytes;
    return bytes;
  }

  stats(): Record<string, CounterSet> {
    const out: CounterSet = { pages: this.frames.inUse, compactions: this.compactions, pages_compacted: this.pagesCompacted };
    for (let c = 0; c < this.#nc; c++) {
      const a = this.#classes[c];
      const b = this.#classes[this.#nc + c];
      const keys = this.#classKeys[c];
      const zspages = a.zspages + b.zspages;
      out[keys[0]] = a.objs;
      out[keys[1]] = a.pages;
      out[keys[2]] = zspages;
      out[keys[3]] = zspages * a.objs;
      out[keys[4]] = a.used + b.used;
      out[keys[5]] = zspages * a.pages;
    }
    return { zsmalloc: out };
  }

  release(): void {
    this.frames.release();
    for (let i = 0; i < this.#classes.length; i++) this.#classes[i] = new SizeClass(this.geometry.classes[i % this.#nc]);
    this.#frameNext = new Int32Array(0);
    this.#framesOf.fill(0);
    this.#zbytesOf.fill(0);
  }

  /** The class, zspage and slot index of a location, and the frames of its zspage; for tests. */
  inspect(l: number): { cls: SizeClass; zspage: number; index: number; frames: number[] } {
    const cls = this.#classes[l >>> SLOT_BITS];
    const slot = l & SLOT_MASK;
    const zspage = (slot / cls.objs) | 0;
    const frames: number[] = [];
    for (let f = cls.first[zspage], i = 0; i < cls.pages; i++, f = this.#frameNext[f]) frames.push(f);
    return { cls, zspage, index: slot - zspage * cls.objs, frames };
  }

  // ---- placing objects -------------------------------------------------------------------------

  #locate(cls: SizeClass, slot: number): void {
    const z = (slot / cls.objs) | 0;
    const off = (slot - z * cls.objs) * cls.size;
    let f = cls.first[z];
    for (let j = off >>> 12; j > 0; j--) f = this.#frameNext[f];
    this.#frame = f;
    this.#within = off & (PAGE_SIZE - 1);
  }

  #mapAt(len: number): Uint8Array {
    const fs = this.frames;
    const f = this.#frame;
    const w = this.#within;
    if (w + len <= PAGE_SIZE) {
      this.mapOffset = fs.byteOffset(f) + w;
      return fs.buf(f);
    }
    const head = PAGE_SIZE - w;
    const g = this.#frameNext[f];
    copyBytes(fs.buf(f), fs.byteOffset(f) + w, this.#scratch, 0, head);
    copyBytes(fs.buf(g), fs.byteOffset(g), this.#scratch, head, len - head);
    this.mapOffset = 0;
    return this.#scratch;
  }

  #writeAt(src: Uint8Array, srcOff: number, len: number): void {
    const fs = this.frames;
    const f = this.#frame;
    const head = Math.min(len, PAGE_SIZE - this.#within);
    copyBytes(src, srcOff, fs.buf(f), fs.byteOffset(f) + this.#within, head);
    if (head < len) {
      const g = this.#frameNext[f];
      copyBytes(src, srcOff + head, fs.buf(g), fs.byteOffset(g), len - head);
    }
  }

  // Takes the frames of a new zspage for `cls`, all or none.
  #newZspage(cls: SizeClass, pool: PoolId): boolean {
    const fs = this.frames;
    if (!fs.canTake(cls.pages)) return false;
    try {
      cls.reserve();
    } catch {
      fs.lastFail = FrameFail.NoMemory;
      return false;
    }
    let first = -1;
    let last = -1;
    for (let i = 0; i < cls.pages; i++) {
      const f = fs.alloc();
      if (f < 0) {
        for (let g = first; g >= 0; ) {
          const next = this.#frameNext[g];
          fs.free(g);
          g = next;
        }
        return false;
      }
      this.#frameNext[f] = -1;
      if (last >= 0) this.#frameNext[last] = f;
      else first = f;
      last = f;
    }
    cls.addZspage(first);
    this.#framesOf[pool] += cls.pages;
    return true;
  }

  #freeZspage(cls: SizeClass, z: number, pool: PoolId): void {
    let f = cls.first[z];
    for (let i = 0; i < cls.pages; i++) {
      const next = this.#frameNext[f];
      this.frames.free(f);
      f = next;
    }
    cls.removeZspage(z);
    this.#framesOf[pool] -= cls.pages;
  }

  // ---- compaction ------------------------------------------------------------------------------

  #compactClass(cid: number, pool: PoolId): number {
    const cls = this.#classes[cid];
    let released = 0;
    while (cls.wasted >= cls.objs) {
      const src = cls.sparsest();
      const dst = cls.fullestBut(src);
      if (src < 0 || dst < 0) break;
      released += this.#drain(cid, pool, src, dst);
    }
    if (released > 0) {
      this.compactions++;
      this.pagesCompacted += released;
    }
    return released;
  }

  // Moves objects of zspage src into dst until src is empty (then freed: returns its frames) or dst full.
  #drain(cid: number, pool: PoolId, src: number, dst: number): number {
    const cls = this.#classes[cid];
    const base = src * cls.objs;
    for (let i = 0; i < cls.objs; i++) {
      const owner = cls.back[base + i];
      if (owner < 0) continue;
      this.#locate(cls, base + i);
      const from = this.#mapAt(cls.size);
      const at = this.mapOffset;
      const slot = cls.takeSlotOf(dst);
      this.#locate(cls, slot);
      this.#writeAt(from, at, cls.size);
      cls.back[slot] = owner;
      this.onMove(pool, owner, ((cid << SLOT_BITS) | slot) >>> 0);
      const emptied = cls.putSlot(base + i);
      if (emptied >= 0) {
        this.#freeZspage(cls, emptied, pool);
        return cls.pages;
      }
      if (cls.isFull(dst)) return 0;
    }
    return 0;
  }

  // While the frames held would fit in one chunk fewer (beyond the spare one), moves the frames of
  // the least used chunk into free frames of the others, so that it empties and is released.
  #evacuateChunks(): void {
    const fs = this.frames;
    while (fs.inUse + FRAMES_PER_CHUNK <= (fs.chunksAllocated - 1) * FRAMES_PER_CHUNK) {
      const victim = fs.leastUsedChunk();
      if (victim < 0 || !this.#moveFramesOutOf(victim)) return;
    }
  }

  // Walks every zspage's chain and replaces each frame of `chunk` by a copy in another chunk.
  // (#frameNext is read anew at each step: taking a frame may grow it.)
  #moveFramesOutOf(chunk: number): boolean {
    const fs = this.frames;
    for (const cls of this.#classes) {
      if (cls.zspages === 0) continue;
      let ok = true;
      cls.forEachZspage((z) => {
        let prev = -1;
        for (let f = cls.first[z]; f >= 0 && ok; f = this.#frameNext[f]) {
          if (fs.chunkOf(f) === chunk) {
            const g = fs.relocate(f, chunk);
            if (g < 0) {
              ok = false;
              return;
            }
            this.#frameNext[g] = this.#frameNext[f];
            if (prev < 0) cls.first[z] = g;
            else this.#frameNext[prev] = g;
            f = g;
          }
          prev = f;
        }
      });
      if (!ok) return false;
    }
    return true;
  }

  #growFrames(cap: number): void {
    const next = new Int32Array(cap);
    next.set(this.#frameNext.subarray(0, Math.min(cap, this.#frameNext.length)));
    this.#frameNext = next;
  }
}
