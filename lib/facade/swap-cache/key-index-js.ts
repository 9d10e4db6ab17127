// The key index in typed arrays (see key-index.ts), for installs without the addon, laid out as
// native/key_index.h is: records of five u32 (key position; run with the resident and long bits;
// start << 16 | length, or the length of a long value; expires; ttl) in chunks of 4,096; keys in
// a KeyArenaJs (key-arena-js.ts), copied into a fresh one once removed keys are a quarter of it;
// a bit per id says which ids are live, and free ids are chained through their dead records. The table is open
// addressing with linear probing over a tag byte per bucket (0 empty, 1 tombstone, else 8 bits of
// the hash) and the id in it, between 68% and 85% full.
//
// Memory per key: 20 B of record + 5.9–7.4 B of table + the key with its length byte and
// alignment, plus at most one partly filled chunk of records (80 KiB) and of keys (64 KiB): from
// ~100,000 keys on, under 32 B besides the key's bytes. Nothing here is a JS object per key, so
// the V8 heap does not grow with keys.
import { randomBytes } from 'node:crypto';
import { KeyArenaJs } from './key-arena-js';
import { M_EXISTED, MAX_RUN, RESIDENT, type KeyIndex } from './key-index';

const EMPTY = 0;
const TOMB = 1;
const MIN_CAPACITY = 64;
const MAX_LOAD = 0.85;
const REBUILT_LOAD = 0.68;

// Record fields, and the bits of F_RUN besides the run (or resident slot).
const STRIDE = 5;
const F_KEY = 0;
const F_RUN = 1;
const F_PLACE = 2;
const F_EXPIRES = 3;
const F_TTL = 4;
const RESIDENT_BIT = 2 ** 30;
const LONG_BIT = 2 ** 31;
const RUN_MASK = RESIDENT_BIT - 1;
const REC_SHIFT = 12;
const REC_CHUNK = 1 << REC_SHIFT;
const NO_ID = 0xffffffff;

const ARENA_COMPACT_MIN = 1 << 20;

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
  // Records, by id: chunk id >> REC_SHIFT, at (id & (REC_CHUNK - 1)) * STRIDE.
  #records: Uint32Array[] = [];
  #live = new Uint32Array(0);
  #count = 0;
  #limit = 0;
  #freeHead = NO_ID;
  #keys = new KeyArenaJs();

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
    const live = this.#isLive(id);
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
      if (!this.#isLive(id)) continue;
      const r = this.#records[id >>> REC_SHIFT];
      const at = (id & (REC_CHUNK - 1)) * STRIDE;
      const f = r[at + F_RUN];
      if (f & RESIDENT_BIT || (f & RUN_MASK) !== run) continue;
      lengths[removed] = f & LONG_BIT ? r[at + F_PLACE] : r[at + F_PLACE] & 0xffff;
      ids[removed++] = id;
      this.#remove(id);
    }
    return removed;
  }

  keyOf(id: number): string {
    this.#check(id);
    const k = this.#keys;
    const n = k.locate(this.#keyPos(id));
    return Buffer.from(k.bytes.buffer, k.bytes.byteOffset + k.start, n).toString('utf8');
  }

  next(from: number): number {
    const id = this.#nextLive(Math.max(0, from));
    if (id >= 0) this.#report(id, 1);
    return id;
  }

  clear(): void {
    this.#tags = new Uint8Array(0);
    this.#ids = new Uint32Array(0);
    this.#filled = this.#count = this.#limit = 0;
    this.#records = [];
    this.#live = new Uint32Array(0);
    this.#freeHead = NO_ID;
    this.#keys = new KeyArenaJs();
  }

  rebaseExpiry(delta: number): void {
    for (let id = this.#nextLive(0); id >= 0; id = this.#nextLive(id + 1)) {
      const r = this.#recordOf(id);
      const at = (id & (REC_CHUNK - 1)) * STRIDE + F_EXPIRES;
      if (r[at] !== 0) r[at] = r[at] > delta ? r[at] - delta : 1;
    }
  }

  memoryBytes(): number {
    let bytes = this.#tags.byteLength * 5 + this.#live.byteLength;
    for (const r of this.#records) bytes += r.byteLength;
    return bytes + this.#keys.memoryBytes();
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

  // The hash of the key stored for `id`.
  #hashOf(id: number): number {
    const k = this.#keys;
    const n = k.locate(this.#keyPos(id));
    return this.#hash(k.bytes, k.start, n);
  }

  #keyPos(id: number): number {
    return this.#recordOf(id)[(id & (REC_CHUNK - 1)) * STRIDE + F_KEY];
  }

  #home(h: number): number {
    return Math.floor((h / 4294967296) * this.#tags.length);
  }

  #sameKey(id: number, n: number): boolean {
    const k = this.#keys;
    if (k.locate(this.#keyPos(id)) !== n) return false;
    const bytes = k.bytes;
    const at = k.start;
    const s = this.#scratch;
    for (let i = 0; i < n; i++) if (bytes[at + i] !== s[i]) return false;
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

  // Adds the key in the scratch buffer (known to be absent); returns its new id. Everything that
  // can fail (memory, a full key arena) happens before a key or record is added.
  #insert(n: number): number {
    if (this.#tags.length === 0 || this.#filled + 1 > this.#tags.length * MAX_LOAD) {
      this.#rebuild(Math.max(MIN_CAPACITY, Math.floor((this.#count + 1) / REBUILT_LOAD) + 1));
    }
    this.#reserveId();
    const pos = this.#keys.store(this.#scratch, 0, n);
    const id = this.#allocId();
    this.#recordOf(id)[(id & (REC_CHUNK - 1)) * STRIDE + F_KEY] = pos;
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
    let pos = this.#home(this.#hashOf(id));
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
    const r = this.#recordOf(id);
    const at = (id & (REC_CHUNK - 1)) * STRIDE;
    this.#keys.release(r[at + F_KEY]);
    this.#live[id >>> 5] &= ~(1 << (id & 31));
    r[at + F_KEY] = this.#freeHead;
    this.#freeHead = id;
    this.#count--;
    if (this.#count === 0) {
      this.clear();
      return;
    }
    if (cap > MIN_CAPACITY && this.#count < cap / 8) this.#rebuild(Math.max(MIN_CAPACITY, Math.floor(this.#count / REBUILT_LOAD) + 1));
    const k = this.#keys;
    if (k.garbage >= ARENA_COMPACT_MIN && k.garbage * 4 >= k.liveBytes + k.garbage) this.#compactKeys();
  }

  // Makes room for a fresh id's record and live bit, when no free id is there to reuse.
  #reserveId(): void {
    if (this.#freeHead !== NO_ID) return;
    const id = this.#limit;
    if (id >>> REC_SHIFT === this.#records.length) this.#records.push(new Uint32Array(REC_CHUNK * STRIDE));
    if (id >>> 5 === this.#live.length) {
      const live = new Uint32Array(Math.max(64, this.#live.length * 2));
      live.set(this.#live);
      this.#live = live;
    }
  }

  // A free id, or the next fresh one (#reserveId made its room), marked live.
  #allocId(): number {
    this.#count++;
    let id: number;
    if (this.#freeHead !== NO_ID) {
      id = this.#freeHead;
      this.#freeHead = this.#recordOf(id)[(id & (REC_CHUNK - 1)) * STRIDE + F_KEY];
    } else {
      id = this.#limit++;
    }
    this.#live[id >>> 5] |= 1 << (id & 31);
    return id;
  }

  #recordOf(id: number): Uint32Array {
    return this.#records[id >>> REC_SHIFT];
  }

  #rebuild(capacity: number): void {
    this.#tags = new Uint8Array(capacity);
    this.#ids = new Uint32Array(capacity);
    this.#filled = 0;
    for (let id = this.#nextLive(0); id >= 0; id = this.#nextLive(id + 1)) this.#place(id, this.#hashOf(id), false);
  }

  // Copies every live key into a fresh arena, leaving the removed ones behind.
  #compactKeys(): void {
    const old = this.#keys;
    const fresh = new KeyArenaJs();
    for (let id = this.#nextLive(0); id >= 0; id = this.#nextLive(id + 1)) {
      const r = this.#recordOf(id);
      const f = (id & (REC_CHUNK - 1)) * STRIDE + F_KEY;
      const n = old.locate(r[f]);
      r[f] = fresh.store(old.bytes, old.start, n);
    }
    this.#keys = fresh;
  }

  #nextLive(from: number): number {
    for (let id = from; id < this.#limit; id++) {
      const word = this.#live[id >>> 5];
      if (word === 0) id += 31 - (id & 31);
      else if (word & (1 << (id & 31))) return id;
    }
    return -1;
  }

  #set(id: number, run: number, start: number, length: number, flags: number, expires: number, ttl: number): void {
    const r = this.#recordOf(id);
    const at = (id & (REC_CHUNK - 1)) * STRIDE;
    const long = length > 0xffff;
    r[at + F_RUN] = run + (flags & RESIDENT ? RESIDENT_BIT : 0) + (long ? LONG_BIT : 0);
    r[at + F_PLACE] = long ? length : start * 65536 + length;
    r[at + F_EXPIRES] = expires;
    r[at + F_TTL] = ttl;
  }

  #report(id: number, existed: number): void {
    const r = this.#recordOf(id);
    const at = (id & (REC_CHUNK - 1)) * STRIDE;
    const f = r[at + F_RUN];
    const place = r[at + F_PLACE];
    const long = (f & LONG_BIT) !== 0;
    const m = this.meta;
    m[0] = f & RUN_MASK;
    m[1] = long ? 0 : place >>> 16;
    m[2] = long ? place : place & 0xffff;
    m[3] = f & RESIDENT_BIT ? RESIDENT : 0;
    m[4] = r[at + F_EXPIRES];
    m[5] = r[at + F_TTL];
    m[M_EXISTED] = existed;
  }

  #isLive(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.#limit && (this.#live[id >>> 5] & (1 << (id & 31))) !== 0;
  }

  #check(id: number): void {
    if (!this.#isLive(id)) throw new RangeError(`key index: id ${id} is not a live key`);
  }
}
