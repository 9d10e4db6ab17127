// Page-frame storage of the pure-JS zcache: 4 KiB frames carved from ArrayBuffers of 8192 frames
// (32 MiB each), so the pool lives in backing stores outside the V8 heap. A frame id names
// (storage chunk, index): chunk = id >>> 13, byte offset = (id & 8191) << 12.
//
// Why 32 MiB: a chunk is given back to the OS only if malloc serves it with mmap, and glibc stops
// doing that for blocks under 32 MiB (its largest dynamic mmap threshold) once the process has
// freed a bigger block, which a Node process does all the time. A chunk of 32 MiB is always
// mmap'd, fresh and zero: its frames only take memory once written, and releasing it unmaps it.
//
// Free frames are reused lowest chunk first, lowest frame first (a bitmap of frames in use per
// chunk, 1 KiB per chunk), so a small pool only ever touches the start of its first chunk. A chunk
// whose frames are all free is released (one empty chunk is kept as a spare so that a store/free
// pair at the boundary does not map and unmap 32 MiB each time). An allocator that can move frames
// empties sparse chunks with relocate(), so that the memory held follows the pool, not its
// high-water mark.
import { PAGE_SIZE } from '../types';

export const FRAMES_PER_CHUNK = 8192;
const CHUNK_SHIFT = 13;
const CHUNK_BYTES = FRAMES_PER_CHUNK * PAGE_SIZE;
const WORDS_PER_CHUNK = FRAMES_PER_CHUNK / 32;

export const enum FrameFail {
  None = 0,
  /** The frame cap (maxPoolBytes) is reached. */
  Limit = 1,
  /** The engine could not allocate another storage chunk. */
  NoMemory = 2,
}

export class FrameStore {
  /** Storage chunk buffers by chunk number; null once released (or never allocated). */
  readonly bufs: (Uint8Array | null)[] = [];
  readonly maxFrames: number;
  /** Frames handed out and not yet freed. */
  inUse = 0;
  /** Storage chunks currently allocated. */
  chunksAllocated = 0;
  /** Why the last alloc() returned -1. */
  lastFail = FrameFail.None;
  /** Capacity in frames of the per-frame arrays: above every frame id handed out so far. */
  capacity = 0;

  /** One bit per frame, set while it is in use. */
  #inUseBits = new Uint32Array(0);
  #chunkUsed = new Int32Array(0);
  /** Per chunk, the first bitmap word that may have a free frame. */
  #firstFreeWord = new Int32Array(0);
  /** The lowest chunk that may have a free frame. */
  #hint = 0;
  /** Called after the per-frame capacity grew, so owners of per-frame arrays can grow theirs. */
  readonly #onGrow: (capacity: number) => void;

  constructor(maxFrames: number, onGrow: (capacity: number) => void) {
    this.maxFrames = maxFrames;
    this.#onGrow = onGrow;
  }

  /** Buffer holding frame `id`; index it at byteOffset(id). */
  buf(id: number): Uint8Array {
    return this.bufs[id >>> CHUNK_SHIFT] as Uint8Array;
  }

  byteOffset(id: number): number {
    return (id & (FRAMES_PER_CHUNK - 1)) * PAGE_SIZE;
  }

  /** Storage chunk of a frame. */
  chunkOf(id: number): number {
    return id >>> CHUNK_SHIFT;
  }

  /** Whether `n` more frames fit under the cap (an allocator that takes several at once asks first). */
  canTake(n: number): boolean {
    if (this.inUse + n <= this.maxFrames) return true;
    this.lastFail = FrameFail.Limit;
    return false;
  }

  /** Returns a free frame id (contents undefined), or -1 with lastFail set. */
  alloc(): number {
    if (this.inUse >= this.maxFrames) {
      this.lastFail = FrameFail.Limit;
      return -1;
    }
    const nChunks = this.bufs.length;
    let c = this.#hint;
    while (c < nChunks && !this.#hasFree(c)) c++;
    if (c === nChunks) {
      c = this.#newChunk();
      if (c < 0) {
        this.lastFail = FrameFail.NoMemory;
        return -1;
      }
    }
    this.#hint = c;
    return this.#take(c);
  }

  free(id: number): void {
    const c = id >>> CHUNK_SHIFT;
    const w = id >>> 5;
    this.#inUseBits[w] &= ~(1 << (id & 31));
    if (w - c * WORDS_PER_CHUNK < this.#firstFreeWord[c]) this.#firstFreeWord[c] = w - c * WORDS_PER_CHUNK;
    this.inUse--;
    if (--this.#chunkUsed[c] === 0 && this.#hasOtherEmptyChunk(c)) {
      this.bufs[c] = null;
      this.chunksAllocated--;
    }
    if (c < this.#hint) this.#hint = c;
  }

  /** The allocated chunk with the fewest frames in use, empty (spare) chunks aside; -1 if none. */
  leastUsedChunk(): number {
    let best = -1;
    for (let c = 0; c < this.bufs.length; c++) {
      const used = this.#chunkUsed[c];
      if (this.bufs[c] !== null && used > 0 && (best < 0 || used <= this.#chunkUsed[best])) best = c;
    }
    return best;
  }

  /**
   * Copies frame `id` into a free frame of another chunk than `avoid` and frees `id`; returns the
   * new frame, or -1 when no other chunk in use has a free frame. The frames in use stay as many,
   * so the cap does not apply: this is how an allocator that can move frames empties a chunk.
   */
  relocate(id: number, avoid: number): number {
    // Into the fullest chunk that has room, never the spare: filling it would only move the spare.
    let c = -1;
    for (let k = 0; k < this.bufs.length; k++) {
      if (k !== avoid && this.#hasFree(k) && this.#chunkUsed[k] > 0 && (c < 0 || this.#chunkUsed[k] > this.#chunkUsed[c])) c = k;
    }
    if (c < 0) return -1;
    const to = this.#take(c);
    this.buf(to).set(this.buf(id).subarray(this.byteOffset(id), this.byteOffset(id) + PAGE_SIZE), this.byteOffset(to));
    this.free(id);
    return to;
  }

  /** Drops all storage. */
  release(): void {
    this.bufs.length = 0;
    this.chunksAllocated = 0;
    this.#inUseBits = new Uint32Array(0);
    this.#chunkUsed = new Int32Array(0);
    this.#firstFreeWord = new Int32Array(0);
    this.capacity = 0;
    this.inUse = 0;
    this.#hint = 0;
  }

  /** Bytes of per-frame and per-chunk metadata held. */
  get metadataBytes(): number {
    return this.#inUseBits.byteLength + this.#chunkUsed.byteLength + this.#firstFreeWord.byteLength;
  }

  #hasFree(c: number): boolean {
    return this.bufs[c] !== null && this.#chunkUsed[c] < FRAMES_PER_CHUNK;
  }

  // Takes the lowest free frame of chunk c, which has one.
  #take(c: number): number {
    const bits = this.#inUseBits;
    const base = c * WORDS_PER_CHUNK;
    let w = base + this.#firstFreeWord[c];
    while (bits[w] === 0xffffffff) w++;
    this.#firstFreeWord[c] = w - base;
    const free = ~bits[w];
    const bit = 31 - Math.clz32(free & -free);
    bits[w] |= 1 << bit;
    const id = w * 32 + bit;
    this.#chunkUsed[c]++;
    this.inUse++;
    // Per-frame arrays grow with the ids handed out, by a quarter at a time (they count as metadata).
    if (id >= this.capacity) {
      this.capacity = Math.max(1024, id + 1, Math.ceil(this.capacity * 1.25));
      this.#onGrow(this.capacity);
    }
    return id;
  }

  #hasOtherEmptyChunk(c: number): boolean {
    for (let k = 0; k < this.bufs.length; k++) {
      if (k !== c && this.bufs[k] !== null && this.#chunkUsed[k] === 0) return true;
    }
    return false;
  }

  // Allocates a storage chunk in the first released slot, or appends one. Returns its number or -1.
  #newChunk(): number {
    let c = this.bufs.indexOf(null);
    const append = c < 0;
    if (append) c = this.bufs.length;
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(CHUNK_BYTES);
    } catch {
      return -1;
    }
    this.chunksAllocated++;
    if (append) {
      this.bufs.push(buf);
      if (this.bufs.length > this.#chunkUsed.length) this.#growChunks(this.bufs.length);
    } else {
      this.bufs[c] = buf;
    }
    this.#inUseBits.fill(0, c * WORDS_PER_CHUNK, (c + 1) * WORDS_PER_CHUNK);
    this.#chunkUsed[c] = 0;
    this.#firstFreeWord[c] = 0;
    return c;
  }

  #growChunks(minChunks: number): void {
    let chunks = Math.max(4, this.#chunkUsed.length);
    while (chunks < minChunks) chunks = Math.ceil(chunks * 1.25);
    const bits = new Uint32Array(chunks * WORDS_PER_CHUNK);
    bits.set(this.#inUseBits);
    this.#inUseBits = bits;
    const used = new Int32Array(chunks);
    used.set(this.#chunkUsed);
    this.#chunkUsed = used;
    const first = new Int32Array(chunks);
    first.set(this.#firstFreeWord);
    this.#firstFreeWord = first;
  }
}
