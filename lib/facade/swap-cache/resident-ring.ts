// SwapCache's resident tier: value bytes in one ring buffer the cache owns (mmap'd by the addon,
// or one ArrayBuffer), so that holding, replacing and evicting values allocates nothing and the
// memory in use is the buffer's size, whatever the mix of value sizes.
//
// Each value is a record [u32 length][u32 slot][bytes], 8-byte aligned, appended at the head.
// Records leave from the tail, in the order they were written, which with a reference bit per
// record is the CLOCK approximation of LRU that the kernel's page LRU also uses: a record that
// was read since it was written is moved to the head once (if there is room) instead of leaving.
// Deleted and replaced records become holes that the tail skips; a record that does not fit
// before the end leaves a wrap marker and goes to the front.
//
// Per value the ring keeps a slot: typed arrays of position, length, key id, reference bit,
// expiry and ttl, and of the clean swap copy (run and start) a value read back from swap may
// still have; the key string (and, with a serializer, the value object) in plain arrays. Only
// resident values have slots, so the JS heap holds only what is resident.
//
// The budget is the memory of the resident tier, not only the ring's bytes: each value is also
// charged VALUE_OVERHEAD + its key's length for its slot, its key string and its entry in the
// resident Map, so that small values cannot make the tier hold several times its budget (100-byte
// values with 12-character keys cost 120-200 B of V8 heap and typed arrays each, more than their
// record). The charge is kept free in the ring, and the free part of the ring is given back to
// the OS a megabyte at a time as the tail frees it, so the pages the ring holds plus what the
// charges stand for stay within the budget.
import { swapCacheAddon, type SwapCacheAddon } from './addon';

const HEADER = 8;
const DEAD = 0xffffffff;
const WRAP = 0xffffffff;
export const NO_RUN = 0xffffffff;
// Resident keys are also in a Map (key -> slot). A V8 Map's table holds 2^24 entries, deleted
// ones included until it is rebuilt, and it is rebuilt at the same size only when at least half
// are deleted; otherwise it must double, which at 2^24 throws. At most 2^23 live entries keep
// every rebuild within the limit (a budget of 1.7 GiB or more of tiny values would pass that).
export const MAX_RESIDENT_VALUES = 2 ** 23;
/**
 * Bytes charged to the budget per resident value besides its record and its key's length: an
 * estimate near the high end of what the value's JS-side state takes (Node 20 x64): its entry in
 * the resident Map, 28 B times 1 to 4 (the table is rebuilt at twice the live entries or more), a
 * key string's header (16-24 B), 16 B in the key and object arrays, and 29 B of slot arrays that
 * grow by doubling. The key string's characters are charged as its length.
 */
export const VALUE_OVERHEAD = 192;
/** What a resident value under a key of `keyLength` characters is charged besides its record. */
export const chargeOf = (keyLength: number): number => VALUE_OVERHEAD + keyLength;
// The free part of the ring not yet given back is given back when it reaches this.
const DISCARD_STEP = 1 << 20;

function grown<T extends Uint8Array | Uint16Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as { new (n: number): T })(length);
  b.set(a);
  return b;
}

export const recordBytes = (length: number): number => (HEADER + length + 7) & ~7;

export class ResidentRing {
  readonly capacity: number;
  /** The ring's memory; a value's bytes are at bytes[pos[slot]] .. + len[slot]. */
  readonly bytes: Uint8Array;
  #words: Uint32Array;
  #native: SwapCacheAddon | null;
  #head = 0;
  #tail = 0;
  #used = 0;
  /** Bytes of values held. */
  liveBytes = 0;
  count = 0;
  // Slots.
  pos = new Uint32Array(0);
  len = new Uint32Array(0);
  id = new Uint32Array(0);
  ref = new Uint8Array(0);
  expires = new Uint32Array(0);
  ttl = new Uint32Array(0);
  cleanRun = new Uint32Array(0);
  cleanStart = new Uint32Array(0);
  key: string[] = [];
  obj: unknown[] = [];
  #freeSlots: number[] = [];
  #slotLimit = 0;
  /** Sum of the charges (VALUE_OVERHEAD + key length) of the values held. */
  #charged = 0;
  /** Bytes at the start of the free part, from the head on, known to be given back to the OS. */
  #discarded = 0;

  constructor(budget: number) {
    // Positions are u32 and 8-byte aligned (budget & ~7 would wrap at 2 GiB).
    this.capacity = Math.min(Math.floor(budget / 8) * 8, 2 ** 32 - 8);
    this.#native = this.capacity > 0 ? swapCacheAddon() : null;
    const buffer = this.#native ? this.#native.mapBuffer(this.capacity) : new ArrayBuffer(this.capacity);
    this.bytes = new Uint8Array(buffer);
    this.#words = new Uint32Array(buffer, 0, this.capacity / 4);
  }

  /**
   * Whether a record of `length` bytes can be written now without evicting anything, within the
   * budget after the values' charges.
   */
  fits(length: number): boolean {
    return this.#fits(recordBytes(length), 0);
  }

  /**
   * Whether a new value of `length` bytes under a key of `keyLength` characters can be added now:
   * its record and its charge fit, and a slot is under the cap.
   */
  admits(length: number, keyLength: number): boolean {
    return this.count < MAX_RESIDENT_VALUES && this.#fits(recordBytes(length), chargeOf(keyLength));
  }

  /** Bytes of the budget not taken by records, holes, wrap waste or the values' charges. */
  get freeBytes(): number {
    return this.capacity - this.#used - this.#charged;
  }

  /** Bytes charged for the values' slots, keys and Map entries (see VALUE_OVERHEAD). */
  get chargedBytes(): number {
    return this.#charged;
  }

  #fits(need: number, charge: number): boolean {
    if (this.#used + this.#charged + charge + need > this.capacity) return false;
    if (this.#used === 0) return true;
    if (this.#head >= this.#tail) return this.capacity - this.#head >= need || this.#tail >= need;
    return this.#tail - this.#head >= need;
  }

  /**
   * Appends a record of `length` bytes (admits() must be true) for key `keyId`; returns its slot.
   * The caller copies the value to bytes[pos[slot]].
   */
  append(length: number, keyId: number, key: string): number {
    const at = this.#reserve(recordBytes(length));
    const slot = this.#slotFor();
    this.#words[at >>> 2] = length;
    this.#words[(at >>> 2) + 1] = slot;
    this.pos[slot] = at + HEADER;
    this.len[slot] = length;
    this.id[slot] = keyId;
    this.ref[slot] = 0;
    this.expires[slot] = 0;
    this.ttl[slot] = 0;
    this.cleanRun[slot] = NO_RUN;
    this.cleanStart[slot] = 0;
    this.key[slot] = key;
    this.liveBytes += length;
    this.#charged += chargeOf(key.length);
    this.count++;
    return slot;
  }

  /**
   * Gives `slot` a new record of `length` bytes at the head (fits() must be true); the old one
   * becomes a hole. The slot keeps its number, key and id; the caller copies the new value in.
   */
  rewrite(slot: number, length: number): number {
    const old = this.pos[slot] - HEADER;
    const at = this.#reserve(recordBytes(length));
    this.#words[at >>> 2] = length;
    this.#words[(at >>> 2) + 1] = slot;
    this.#words[(old >>> 2) + 1] = DEAD;
    this.liveBytes += length - this.len[slot];
    this.pos[slot] = at + HEADER;
    this.len[slot] = length;
    this.ref[slot] = 0;
    this.cleanRun[slot] = NO_RUN;
    this.cleanStart[slot] = 0;
    this.obj[slot] = undefined;
    this.#skipHoles();
    return slot;
  }

  /** Removes a value: its record becomes a hole, and holes at the tail are given up at once. */
  free(slot: number): void {
    const at = this.pos[slot] - HEADER;
    this.#words[(at >>> 2) + 1] = DEAD;
    this.liveBytes -= this.len[slot];
    this.#charged -= chargeOf(this.key[slot].length);
    this.count--;
    this.key[slot] = '';
    this.obj[slot] = undefined;
    this.#freeSlots.push(slot);
    this.#skipHoles();
  }

  /** The slot of the oldest live record, or -1 when the ring is empty. */
  tailSlot(): number {
    this.#skipHoles();
    return this.#used === 0 ? -1 : this.#words[(this.#tail >>> 2) + 1];
  }

  /**
   * The live record after the one of `slot` in ring order, or -1 at the head. Lets eviction
   * look past records it has picked but not yet released.
   */
  nextSlot(slot: number): number {
    let at = this.pos[slot] - HEADER + recordBytes(this.len[slot]);
    for (;;) {
      if (at === this.capacity) at = 0;
      if (at === this.#head) return -1;
      const length = this.#words[at >>> 2];
      if (length === WRAP) {
        at = 0;
        continue;
      }
      const s = this.#words[(at >>> 2) + 1];
      if (s !== DEAD) return s;
      at += recordBytes(length);
    }
  }

  /**
   * Gives a referenced record its second chance: moves it to the head if there is room (true),
   * with its reference bit cleared. Its slot keeps its number.
   */
  moveToHead(slot: number): boolean {
    const length = this.len[slot];
    if (!this.fits(length)) return false;
    // The old record stays live until the copy is made, so the new place cannot overlap it.
    const from = this.pos[slot];
    const at = this.#reserve(recordBytes(length));
    this.bytes.copyWithin(at + HEADER, from, from + length);
    this.#words[at >>> 2] = length;
    this.#words[(at >>> 2) + 1] = slot;
    this.#words[((from - HEADER) >>> 2) + 1] = DEAD;
    this.pos[slot] = at + HEADER;
    this.ref[slot] = 0;
    this.#skipHoles();
    return true;
  }

  /** The slots of every live record, oldest first (for iteration and clear). */
  slots(): number[] {
    const out: number[] = [];
    for (let s = this.tailSlot(); s >= 0; s = this.nextSlot(s)) out.push(s);
    return out;
  }

  /**
   * Gives the free part of the ring back to the OS once DISCARD_STEP bytes of it have not been:
   * after deletes, and in the steady state when the values' charges keep that much free (small
   * values), where the head then faults in again what the tail gave back. A ring whose free part
   * stays under DISCARD_STEP (values much larger than their charge) never pays that.
   */
  maybeDiscard(): void {
    const gap = this.capacity - this.#used;
    if (!this.#native || gap - this.#discarded < DISCARD_STEP) return;
    const buffer = this.bytes.buffer as ArrayBuffer;
    if (this.#used === 0) {
      this.#native.discardBuffer(buffer, 0, this.capacity);
    } else {
      // [head + discarded, tail), which may wrap at the end of the buffer.
      let from = this.#head + this.#discarded;
      if (from >= this.capacity) from -= this.capacity;
      if (from < this.#tail) {
        this.#native.discardBuffer(buffer, from, this.#tail - from);
      } else {
        this.#native.discardBuffer(buffer, from, this.capacity - from);
        this.#native.discardBuffer(buffer, 0, this.#tail);
      }
    }
    this.#discarded = gap;
  }

  /** Empties the ring and gives its memory back. */
  clear(): void {
    this.#head = this.#tail = this.#used = this.#discarded = 0;
    this.liveBytes = this.count = this.#charged = 0;
    this.key = [];
    this.obj = [];
    this.#freeSlots = [];
    this.#slotLimit = 0;
    this.maybeDiscard();
  }

  /** Gives the memory back for good; the ring is unusable afterwards. */
  release(): void {
    this.clear();
    if (this.#native && this.capacity > 0) this.#native.releaseBuffer(this.bytes.buffer as ArrayBuffer);
  }

  // Takes `need` bytes at the head (fits() said they are there), wrapping to the front when the
  // rest of the buffer is too short; returns where.
  #reserve(need: number): number {
    const before = this.#used;
    if (this.#used === 0 && this.capacity - this.#head < need) {
      // An empty ring starts over at 0 rather than wrap; what was discarded is no longer known
      // to start at the head.
      this.#head = this.#tail = 0;
      this.#discarded = 0;
    }
    if (this.#head >= this.#tail && this.capacity - this.#head < need) {
      if (this.capacity - this.#head >= HEADER) this.#words[this.#head >>> 2] = WRAP;
      this.#used += this.capacity - this.#head;
      this.#head = 0;
    }
    const at = this.#head;
    this.#head = at + need === this.capacity ? 0 : at + need;
    this.#used += need;
    this.#discarded = Math.max(0, this.#discarded - (this.#used - before));
    return at;
  }

  #skipHoles(): void {
    while (this.#used > 0) {
      const at = this.#tail;
      const length = this.#words[at >>> 2];
      let size: number;
      if (at + HEADER > this.capacity || length === WRAP) size = this.capacity - at;
      else if (this.#words[(at >>> 2) + 1] === DEAD) size = recordBytes(length);
      else break;
      this.#used -= size;
      this.#tail = at + size === this.capacity ? 0 : at + size;
    }
    this.maybeDiscard();
  }

  #slotFor(): number {
    if (this.#freeSlots.length > 0) return this.#freeSlots.pop()!;
    const slot = this.#slotLimit++;
    if (slot === this.pos.length) {
      const n = Math.max(64, slot * 2);
      this.pos = grown(this.pos, n);
      this.len = grown(this.len, n);
      this.id = grown(this.id, n);
      this.ref = grown(this.ref, n);
      this.expires = grown(this.expires, n);
      this.ttl = grown(this.ttl, n);
      this.cleanRun = grown(this.cleanRun, n);
      this.cleanStart = grown(this.cleanStart, n);
    }
    return slot;
  }
}
