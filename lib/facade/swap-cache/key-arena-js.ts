// The keys of the typed-array key index (key-index-js.ts), as native/key_index.cc keeps them: each
// key's UTF-8 bytes behind a LEB128 length (1 byte below 128, 2 below 16,384, 3 up to 2^18),
// 4-byte aligned, appended to 64 KiB chunks; a key too long for one gets a chunk of its own. A
// key is named by a u32 position, chunk << 14 | offset in 4-byte units. Removed keys stay where
// they are (counted as garbage) until the index copies the live ones into a fresh arena.
const UNIT_BITS = 14;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
const CHUNK = 4 << UNIT_BITS;
const MAX_CHUNKS = 2 ** (32 - UNIT_BITS);

const prefixBytes = (n: number): number => (n < 128 ? 1 : n < 16384 ? 2 : 3);
/** Bytes a key of n UTF-8 bytes takes in the arena. */
export const storedBytes = (n: number): number => (prefixBytes(n) + n + 3) & ~3;

export class KeyArenaJs {
  /** Set by locate(): the chunk holding the key, and where its bytes start in it. */
  bytes: Uint8Array = new Uint8Array(0);
  start = 0;
  /** Bytes taken by live keys, and by removed ones still in the chunks. */
  liveBytes = 0;
  garbage = 0;
  #chunks: Uint8Array[] = [];
  #fill = -1; // the chunk new keys go to
  #fillUsed = 0;

  /** Appends n bytes of src from `from`; returns the key's position. RangeError when full. */
  store(src: Uint8Array, from: number, n: number): number {
    const bytes = storedBytes(n);
    let chunk: number;
    let at: number;
    if (bytes > CHUNK) {
      chunk = this.#newChunk(bytes);
      at = 0;
    } else {
      if (this.#fill < 0 || this.#fillUsed + bytes > CHUNK) {
        this.#fill = this.#newChunk(CHUNK);
        this.#fillUsed = 0;
      }
      chunk = this.#fill;
      at = this.#fillUsed;
      this.#fillUsed += bytes;
    }
    const c = this.#chunks[chunk];
    if (n < 128) {
      c[at] = n;
    } else if (n < 16384) {
      c[at] = 0x80 | (n & 0x7f);
      c[at + 1] = n >>> 7;
    } else {
      c[at] = 0x80 | (n & 0x7f);
      c[at + 1] = 0x80 | ((n >>> 7) & 0x7f);
      c[at + 2] = n >>> 14;
    }
    c.set(src.subarray(from, from + n), at + prefixBytes(n));
    this.liveBytes += bytes;
    return chunk * (1 << UNIT_BITS) + (at >>> 2);
  }

  /** Points `bytes` and `start` at the key at `pos`; returns its length. */
  locate(pos: number): number {
    const c = this.#chunks[pos >>> UNIT_BITS];
    const at = (pos & UNIT_MASK) * 4;
    const b0 = c[at];
    let n: number;
    if (b0 < 0x80) n = b0;
    else if (c[at + 1] < 0x80) n = (b0 & 0x7f) | (c[at + 1] << 7);
    else n = (b0 & 0x7f) | ((c[at + 1] & 0x7f) << 7) | (c[at + 2] << 14);
    this.bytes = c;
    this.start = at + prefixBytes(n);
    return n;
  }

  /** Counts the key at `pos` as removed. */
  release(pos: number): void {
    const bytes = storedBytes(this.locate(pos));
    this.liveBytes -= bytes;
    this.garbage += bytes;
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const c of this.#chunks) bytes += c.byteLength;
    return bytes;
  }

  #newChunk(bytes: number): number {
    if (this.#chunks.length >= MAX_CHUNKS) throw new RangeError('key index: the key arena is full');
    this.#chunks.push(new Uint8Array(bytes));
    return this.#chunks.length - 1;
  }
}
