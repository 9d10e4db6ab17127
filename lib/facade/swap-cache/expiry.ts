// TTL bookkeeping for SwapCache: a 32-bit clock and a min-heap of (expiry, key id).
//
// Expiry times are stored per key in 32 bits (the key index record, or the resident slot), as
// milliseconds since the cache's epoch plus 1 (0 means "no ttl"). Once the clock passes 2^31 ms
// (about 24.8 days) the epoch moves forward by 2^30 ms and every stored time moves back with it
// (rebase), so a ttl of up to 2^31 - 1 ms always fits.
//
// Expired entries are found without scanning the keys: every set with a ttl pushes
// (expiry, id) on a binary heap in two typed arrays, and sweeping pops entries whose time has
// come. An entry is stale when its key was deleted, replaced or given a new expiry since (the
// caller checks the key's current expiry); stale entries are dropped as they surface, and the
// heap is rebuilt from the live ones when they outnumber them.
export const MAX_TTL = 2 ** 31 - 1;
const REBASE_AT = 2 ** 31;
const REBASE_BY = 2 ** 30;

export class ExpiryClock {
  #now: () => number;
  #epoch: number;

  constructor(now: () => number) {
    this.#now = now;
    this.#epoch = now() - 1;
  }

  /** The current time in the cache's 32-bit clock (≥ 1), or -1 when the epoch must move first. */
  read(): number {
    const t = Math.floor(this.#now() - this.#epoch);
    return t >= REBASE_AT ? -1 : Math.max(1, t);
  }

  /** Moves the epoch forward; returns by how much stored times must move back. */
  rebase(): number {
    this.#epoch += REBASE_BY;
    return REBASE_BY;
  }
}

export class ExpiryHeap {
  #time = new Uint32Array(64);
  #id = new Uint32Array(64);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(time: number, id: number): void {
    if (this.#size === this.#time.length) {
      const time2 = new Uint32Array(this.#size * 2);
      const id2 = new Uint32Array(this.#size * 2);
      time2.set(this.#time);
      id2.set(this.#id);
      this.#time = time2;
      this.#id = id2;
    }
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#time[parent] <= time) break;
      this.#time[i] = this.#time[parent];
      this.#id[i] = this.#id[parent];
      i = parent;
    }
    this.#time[i] = time;
    this.#id[i] = id;
  }

  /** The earliest time on the heap, or Infinity. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#time[0];
  }

  peekId(): number {
    return this.#id[0];
  }

  pop(): void {
    const last = --this.#size;
    if (last > 0) this.#siftDown(0, this.#time[last], this.#id[last]);
  }

  /** Keeps the entries for which `live(time, id)` holds, in place, and restores heap order. */
  retain(live: (time: number, id: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.#size; i++) {
      if (!live(this.#time[i], this.#id[i])) continue;
      this.#time[n] = this.#time[i];
      this.#id[n++] = this.#id[i];
    }
    this.#size = n;
    if (this.#time.length > 4 * Math.max(n, 64)) {
      this.#time = this.#time.slice(0, 2 * Math.max(n, 64));
      this.#id = this.#id.slice(0, 2 * Math.max(n, 64));
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(i, this.#time[i], this.#id[i]);
  }

  // Puts (time, id) at position i or below, moving smaller children up.
  #siftDown(i: number, time: number, id: number): void {
    const size = this.#size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.#time[child + 1] < this.#time[child]) child++;
      if (this.#time[child] >= time) break;
      this.#time[i] = this.#time[child];
      this.#id[i] = this.#id[child];
      i = child;
    }
    this.#time[i] = time;
    this.#id[i] = id;
  }

  /** Moves every time back by `delta` (never below 1). */
  rebase(delta: number): void {
    for (let i = 0; i < this.#size; i++) this.#time[i] = this.#time[i] > delta ? this.#time[i] - delta : 1;
  }

  clear(): void {
    this.#time = new Uint32Array(64);
    this.#id = new Uint32Array(64);
    this.#size = 0;
  }
}
