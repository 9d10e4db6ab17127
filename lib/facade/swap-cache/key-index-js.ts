// The key index in typed arrays (see key-index.ts), for installs without the addon: the same
// design as native/key_index.h. Open addressing with linear probing over a tag byte per bucket
// (0 empty, 1 tombstone, else 8 bits of the hash) and the record id in it; records as parallel
// typed arrays indexed by id; keys as UTF-8 in one byte arena, compacted once removed keys are a
// quarter of it. Nothing here is a JS object per key, so the V8 heap does not grow with keys.
import { randomBytes } from 'node:crypto';
import { M_EXISTED, MAX_RUN, RESIDENT, type KeyIndex } from './key-index';

const EMPTY = 0;
const TOMB = 1;
const LIVE = 0x80;
const MIN_CAPACITY = 64;
const MAX_LOAD = 0.85;
const REBUILT_LOAD = 0.68;
const ARENA_COMPACT_MIN = 1 << 20;

function grow<T extends Uint8Array | Uint16Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as { new (n: number): T })(length);
  b.set(a);
  return b;
}

// The native record's limits (native/key_index.h), kept here too so both indexes refuse the same.
function checkPlace(run: number, start: number, length: number): void {
  if (run > MAX_RUN || start > 0xffff || (length > 0xffff && start !== 0)) {
    throw new RangeError(`key index: run ${run}, start ${start}, length ${length} do not fit a record`);
  }
}

export class KeyIndexJs implements KeyIndex {
  readonly meta: Uint32Array;
  #seed = randomBytes(4).readUInt32LE(0);
  #scratch: Buffer;
  // Table.
  #tags = new Uint8Array(0);
  #ids = new Uint32Array(0);
  #filled = 0;
  // Records, by id.
  #count = 0;
  #limit = 0;
  #keyAt = new Uint32Array(0);
  #keyLen = new Uint32Array(0);
  #run = new Uint32Array(0);
  #length = new Uint32Array(0);
  #expires = new Uint32Array(0);
  #ttl = new Uint32Array(0);
  #start = new Uint16Array(0);
  #flags = new Uint8Array(0);
  #free = new Uint32Array(0);
  #freeCount = 0;
  // Keys.
  #arena = new Uint8Array(0);
  #arenaUsed = 0;
  #garbage = 0;

  constructor(meta: Uint32Array, maxKeyBytes: number) {
    this.meta = meta;
    this.#scratch = Buffer.allocUnsafeSlow(maxKeyBytes + 2);
  }

  get size(): number {
    return this.#count;
  }

  find(key: string): number {
    const id = this.#lookup(this.#encode(key));
    if (id >= 0) this.#report(id, 1);
    return id;
  }

  findId(id: number): boolean {
    const live = this.#live(id);
    if (live) this.#report(id, 1);
    return live;
  }

  put(key: string, run: number, start: number, length: number, flags: number, expires: number, ttl: number): number {
    checkPlace(run, start, length);
    const n = this.#encode(key);
    let id = this.#lookup(n);
    if (id >= 0) {
      this.#report(id, 1);
    } else {
      id = this.#insert(n);
      this.#report(id, 0);
    }
    this.#set(id, run, start, length, flags, expires, ttl);
    return id;
  }

  update(id: number, run: number, start: number, length: number, flags: number, expires: number, ttl: number): void {
    this.#check(id);
    checkPlace(run, start, length);
    this.#set(id, run, start, length, flags, expires, ttl);
  }

  relocate(entries: Uint32Array, n: number, run: number): void {
    for (let i = 0; i < n; i++) {
      this.#check(entries[i * 5]);
      checkPlace(run, entries[i * 5 + 1], entries[i * 5 + 2]);
    }
    for (let i = 0; i < n; i++) {
      const e = i * 5;
      this.#set(entries[e], run, entries[e + 1], entries[e + 2], 0, entries[e + 3], entries[e + 4]);
    }
  }

  remove(id: number): void {
    this.#check(id);
    this.#remove(id);
  }

  removeKey(key: string): number {
    const id = this.#lookup(this.#encode(key));
    if (id >= 0) {
      this.#report(id, 1);
      this.#remove(id);
    }
    return id;
  }

  removeIfRun(ids: Uint32Array, n: number, run: number, lengths: Uint32Array): number {
    let removed = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (!this.#live(id) || this.#flags[id] & RESIDENT || this.#run[id] !== run) continue;
      lengths[removed] = this.#length[id];
      ids[removed++] = id;
      this.#remove(id);
    }
    return removed;
  }

  keyOf(id: number): string {
    this.#check(id);
    const at = this.#keyAt[id];
    return Buffer.from(this.#arena.buffer, this.#arena.byteOffset + at, this.#keyLen[id]).toString('utf8');
  }

  next(from: number): number {
    for (let id = from; id < this.#limit; id++) {
      if (this.#flags[id] & LIVE) {
        this.#report(id, 1);
        return id;
      }
    }
    return -1;
  }

  clear(): void {
    this.#tags = new Uint8Array(0);
    this.#ids = new Uint32Array(0);
    this.#filled = this.#count = this.#limit = this.#freeCount = 0;
    this.#keyAt = new Uint32Array(0);
    this.#keyLen = new Uint32Array(0);
    this.#run = new Uint32Array(0);
    this.#length = new Uint32Array(0);
    this.#expires = new Uint32Array(0);
    this.#ttl = new Uint32Array(0);
    this.#start = new Uint16Array(0);
    this.#flags = new Uint8Array(0);
    this.#free = new Uint32Array(0);
    this.#arena = new Uint8Array(0);
    this.#arenaUsed = this.#garbage = 0;
  }

  rebaseExpiry(delta: number): void {
    const exp = this.#expires;
    for (let id = 0; id < this.#limit; id++) {
      if (this.#flags[id] & LIVE && exp[id] !== 0) exp[id] = exp[id] > delta ? exp[id] - delta : 1;
    }
  }

  memoryBytes(): number {
    return this.#tags.byteLength * 5 + this.#limit * 26 + this.#free.byteLength + this.#arena.byteLength;
  }

  close(): void {
    this.clear();
  }

  // ---- internals ----

  #encode(key: string): number {
    if (typeof key !== 'string') throw new TypeError('The "key" argument must be a string');
    const n = this.#scratch.write(key, 0, 'utf8');
    if (n >= this.#scratch.length - 1) throw new RangeError('The "key" argument is longer than maxKeyBytes');
    return n;
  }

  // FNV-1a over the key bytes, seeded, then murmur3's finaliser so every bit avalanches.
  #hash(bytes: Uint8Array, at: number, n: number): number {
    let h = this.#seed ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[at + i], 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  #home(h: number): number {
    return Math.floor((h / 4294967296) * this.#tags.length);
  }

  #sameKey(id: number, n: number): boolean {
    if (this.#keyLen[id] !== n) return false;
    const a = this.#arena;
    const s = this.#scratch;
    const at = this.#keyAt[id];
    for (let i = 0; i < n; i++) if (a[at + i] !== s[i]) return false;
    return true;
  }

  #lookup(n: number): number {
    if (this.#count === 0) return -1;
    const h = this.#hash(this.#scratch, 0, n);
    const tag = (h & 0xff) < 2 ? (h & 0xff) + 2 : h & 0xff;
    const tags = this.#tags;
    for (let pos = this.#home(h); ; ) {
      const t = tags[pos];
      if (t === EMPTY) return -1;
      if (t === tag && this.#sameKey(this.#ids[pos], n)) return this.#ids[pos];
      if (++pos === tags.length) pos = 0;
    }
  }

  // Adds the key in the scratch buffer (known to be absent); returns its new id.
  #insert(n: number): number {
    if (this.#tags.length === 0 || this.#filled + 1 > this.#tags.length * MAX_LOAD) {
      this.#rebuild(Math.max(MIN_CAPACITY, Math.floor((this.#count + 1) / REBUILT_LOAD) + 1));
    }
    const id = this.#allocId();
    if (this.#arenaUsed + n > this.#arena.length) {
      this.#arena = grow(this.#arena, Math.max(this.#arenaUsed + n, Math.ceil(this.#arena.length * 1.5), 4096));
    }
    this.#arena.set(this.#scratch.subarray(0, n), this.#arenaUsed);
    this.#keyAt[id] = this.#arenaUsed;
    this.#keyLen[id] = n;
    this.#arenaUsed += n;
    this.#place(id, this.#hash(this.#scratch, 0, n), true);
    return id;
  }

  #place(id: number, h: number, reuseTombs: boolean): void {
    const tags = this.#tags;
    let pos = this.#home(h);
    while (tags[pos] !== EMPTY && !(reuseTombs && tags[pos] === TOMB)) if (++pos === tags.length) pos = 0;
    if (tags[pos] === EMPTY) this.#filled++;
    tags[pos] = (h & 0xff) < 2 ? (h & 0xff) + 2 : h & 0xff;
    this.#ids[pos] = id;
  }

  #remove(id: number): void {
    const tags = this.#tags;
    const cap = tags.length;
    let pos = this.#home(this.#hash(this.#arena, this.#keyAt[id], this.#keyLen[id]));
    while (!(tags[pos] > TOMB && this.#ids[pos] === id)) if (++pos === cap) pos = 0;
    // A bucket followed by an empty one ends every probe through it: it and the tombstones just
    // before it can become empty.
    if (tags[pos + 1 === cap ? 0 : pos + 1] === EMPTY) {
      do {
        tags[pos] = EMPTY;
        this.#filled--;
        pos = pos === 0 ? cap - 1 : pos - 1;
      } while (tags[pos] === TOMB);
    } else {
      tags[pos] = TOMB;
    }
    this.#garbage += this.#keyLen[id];
    this.#flags[id] = 0;
    this.#count--;
    if (this.#freeCount === this.#free.length) this.#free = grow(this.#free, Math.max(64, this.#free.length * 2));
    this.#free[this.#freeCount++] = id;
    if (this.#count === 0) {
      this.clear();
      return;
    }
    if (cap > MIN_CAPACITY && this.#count < cap / 8) this.#rebuild(Math.max(MIN_CAPACITY, Math.floor(this.#count / REBUILT_LOAD) + 1));
    if (this.#garbage >= ARENA_COMPACT_MIN && this.#garbage * 4 >= this.#arenaUsed) this.#compactKeys();
  }

  #allocId(): number {
    this.#count++;
    if (this.#freeCount > 0) {
      const id = this.#free[--this.#freeCount];
      this.#flags[id] = LIVE;
      return id;
    }
    const id = this.#limit++;
    if (id === this.#flags.length) {
      const n = Math.max(64, Math.ceil(id * 1.5));
      this.#keyAt = grow(this.#keyAt, n);
      this.#keyLen = grow(this.#keyLen, n);
      this.#run = grow(this.#run, n);
      this.#length = grow(this.#length, n);
      this.#expires = grow(this.#expires, n);
      this.#ttl = grow(this.#ttl, n);
      this.#start = grow(this.#start, n);
      this.#flags = grow(this.#flags, n);
    }
    this.#flags[id] = LIVE;
    return id;
  }

  #rebuild(capacity: number): void {
    this.#tags = new Uint8Array(capacity);
    this.#ids = new Uint32Array(capacity);
    this.#filled = 0;
    for (let id = 0; id < this.#limit; id++) {
      if (this.#flags[id] & LIVE) this.#place(id, this.#hash(this.#arena, this.#keyAt[id], this.#keyLen[id]), false);
    }
  }

  #compactKeys(): void {
    const fresh = new Uint8Array(Math.max(4096, this.#arenaUsed - this.#garbage));
    let used = 0;
    for (let id = 0; id < this.#limit; id++) {
      if (!(this.#flags[id] & LIVE)) continue;
      const at = this.#keyAt[id];
      const n = this.#keyLen[id];
      fresh.set(this.#arena.subarray(at, at + n), used);
      this.#keyAt[id] = used;
      used += n;
    }
    this.#arena = fresh;
    this.#arenaUsed = used;
    this.#garbage = 0;
  }

  #set(id: number, run: number, start: number, length: number, flags: number, expires: number, ttl: number): void {
    this.#run[id] = run;
    this.#start[id] = start;
    this.#length[id] = length;
    this.#flags[id] = LIVE | (flags & RESIDENT);
    this.#expires[id] = expires;
    this.#ttl[id] = ttl;
  }

  #report(id: number, existed: number): void {
    const m = this.meta;
    m[0] = this.#run[id];
    m[1] = this.#start[id];
    m[2] = this.#length[id];
    m[3] = this.#flags[id] & RESIDENT;
    m[4] = this.#expires[id];
    m[5] = this.#ttl[id];
    m[M_EXISTED] = existed;
  }

  #live(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.#limit && (this.#flags[id] & LIVE) !== 0;
  }

  #check(id: number): void {
    if (!this.#live(id)) throw new RangeError(`key index: id ${id} is not a live key`);
  }
}
