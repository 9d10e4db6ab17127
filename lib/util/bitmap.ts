// A fixed-size bitmap over Uint32Array words with a population count, used for "slot in use" (swap)
// and "offset is in frontswap" (frontswap). Word-at-a-time scanning keeps allocation O(slots/32).

export class Bitmap {
  readonly size: number;
  readonly words: Uint32Array;
  #count = 0;

  constructor(size: number) {
    this.size = size;
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  get count(): number {
    return this.#count;
  }

  test(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  /** Sets bit i; returns false when it was already set. */
  set(i: number): boolean {
    const w = i >>> 5;
    const m = 1 << (i & 31);
    if (this.words[w] & m) return false;
    this.words[w] |= m;
    this.#count++;
    return true;
  }

  /** Clears bit i; returns false when it was already clear. */
  clear(i: number): boolean {
    const w = i >>> 5;
    const m = 1 << (i & 31);
    if (!(this.words[w] & m)) return false;
    this.words[w] &= ~m;
    this.#count--;
    return true;
  }

  clearAll(): void {
    this.words.fill(0);
    this.#count = 0;
  }

  /** First clear bit at or after `from`, wrapping around; -1 when every bit is set. */
  findClear(from: number): number {
    const n = this.words.length;
    let w = from >>> 5;
    for (let step = 0; step <= n; step++, w = w + 1 === n ? 0 : w + 1) {
      const inv = ~this.words[w];
      if (inv === 0) continue;
      // Mask off bits below `from` on the first word only.
      const masked = step === 0 ? inv & (~0 << (from & 31)) : inv;
      if (masked === 0) continue;
      const bit = (w << 5) + (31 - Math.clz32(masked & -masked));
      if (bit < this.size) return bit;
    }
    return -1;
  }

  /** Up to `max` set bits starting at `from`, written into `out`; returns how many. */
  collectSet(from: number, out: Uint32Array, max = out.length): number {
    let n = 0;
    for (let w = from >>> 5; w < this.words.length && n < max; w++) {
      let bits = this.words[w];
      if (w === from >>> 5) bits &= ~0 << (from & 31);
      while (bits !== 0 && n < max) {
        const low = bits & -bits;
        out[n++] = (w << 5) + (31 - Math.clz32(low));
        bits ^= low;
      }
    }
    return n;
  }
}
