// The mechanics the two tables of the ephemeral index (inodes in eph-inodes.ts, pages in
// eph-index.ts) share, written once so that both probe, delete, rehash and chain the same way.
// Everything works on typed arrays of ids, so that no JS object exists per inode or per page:
//   - hash tables: linear probing over a power-of-two slot array, backward-shift deletion (no
//     tombstones, so probes stay short after many removals);
//   - intrusive doubly-linked chains (next/prev arrays by id, heads by owner) and free-id lists.
// FREE is both the empty slot and the end of a chain.

export const FREE = -1;
/** Slots a table starts with (its capacity before the first rehash is half of this). */
export const MIN_SLOTS = 64;
/** Ids a slab starts with. */
export const MIN_SLAB = 32;

/** Final mix of a 32-bit hash, so that keys differing in few bits land far apart. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function grow(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** Puts `id` in the first free slot from its home slot on; `hash` is unmasked. */
export function insertSlot(slots: Int32Array, hash: number, id: number): void {
  const mask = slots.length - 1;
  let i = hash & mask;
  while (slots[i] !== FREE) i = (i + 1) & mask;
  slots[i] = id;
}

/** Removes `id` from the table; `hashOf` gives the (unmasked) hash of any id held. */
export function removeSlot(slots: Int32Array, id: number, hashOf: (id: number) => number): void {
  const mask = slots.length - 1;
  let i = hashOf(id) & mask;
  while (slots[i] !== id) i = (i + 1) & mask;
  for (let j = (i + 1) & mask; slots[j] !== FREE; j = (j + 1) & mask) {
    const o = slots[j];
    const home = hashOf(o) & mask;
    // Move o into the hole at i unless its home lies cyclically in (i, j].
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots[i] = o;
      i = j;
    }
  }
  slots[i] = FREE;
}

/** A table of n slots (a power of two) holding the ids of `old`. */
export function rehash(old: Int32Array, n: number, hashOf: (id: number) => number): Int32Array<ArrayBuffer> {
  const slots = new Int32Array(n).fill(FREE);
  for (let s = 0; s < old.length; s++) if (old[s] !== FREE) insertSlot(slots, hashOf(old[s]), old[s]);
  return slots;
}

/** Links x first on the chain whose first id is heads[owner]. */
export function linkFirst(heads: Int32Array, owner: number, next: Int32Array, prev: Int32Array, x: number): void {
  const first = heads[owner];
  prev[x] = FREE;
  next[x] = first;
  if (first !== FREE) prev[first] = x;
  heads[owner] = x;
}

/** Unlinks x from the chain whose first id is heads[owner]. */
export function unlink(heads: Int32Array, owner: number, next: Int32Array, prev: Int32Array, x: number): void {
  const p = prev[x];
  const n = next[x];
  if (p !== FREE) next[p] = n;
  else heads[owner] = n;
  if (n !== FREE) prev[n] = p;
}

/** Chains the new ids old..cap-1 onto the free list starting at `free`, lowest first; returns its new start. */
export function chainFree(next: Int32Array, old: number, cap: number, free: number): number {
  for (let id = cap - 1; id >= old; id--) {
    next[id] = free;
    free = id;
  }
  return free;
}
