// SwapCache's key index, native and typed-array: the same tests for both, including a
// differential run against a Map through growth, shrinking and key-arena compaction.
import { describe, expect, it } from 'vitest';
import {
  createKeyIndex,
  M_EXISTED,
  M_EXPIRES,
  M_FLAGS,
  M_LENGTH,
  M_RUN,
  M_START,
  M_TTL,
  MAX_RUN,
  RESIDENT,
  type KeyIndexKind,
} from '../lib/facade/swap-cache/key-index';
import { rng } from './support/rng';

describe.each(['native', 'js'] as KeyIndexKind[])('key index (%s)', (kind) => {
  it('puts, finds, updates and removes records', () => {
    const ix = createKeyIndex(kind, 64);
    const m = ix.meta;
    expect(ix.find('a')).toBe(-1);
    const a = ix.put('a', 7, 100, 5000, 0, 123, 45);
    expect(m[M_EXISTED]).toBe(0);
    expect(ix.size).toBe(1);
    expect(ix.find('a')).toBe(a);
    expect([m[M_RUN], m[M_START], m[M_LENGTH], m[M_FLAGS], m[M_EXPIRES], m[M_TTL]]).toEqual([7, 100, 5000, 0, 123, 45]);
    expect(ix.put('a', 3, 0, 1, RESIDENT, 0, 0)).toBe(a);
    expect(m[M_EXISTED]).toBe(1);
    expect(m[M_RUN]).toBe(7); // the old record
    expect(ix.findId(a)).toBe(true);
    expect([m[M_RUN], m[M_FLAGS]]).toEqual([3, RESIDENT]);
    ix.update(a, 9, 65535, 65535, 0, 2 ** 32 - 1, 7);
    ix.find('a');
    expect([m[M_RUN], m[M_START], m[M_LENGTH], m[M_EXPIRES]]).toEqual([9, 65535, 65535, 2 ** 32 - 1]);
    // A value of 64 KiB or more starts its run (or is resident): its length takes 32 bits.
    ix.update(a, MAX_RUN, 0, 2 ** 32 - 1, 0, 0, 0);
    ix.find('a');
    expect([m[M_RUN], m[M_START], m[M_LENGTH]]).toEqual([MAX_RUN, 0, 2 ** 32 - 1]);
    expect(() => ix.update(a, 1, 8, 65536, 0, 0, 0)).toThrow(RangeError);
    expect(() => ix.update(a, MAX_RUN + 1, 0, 1, 0, 0, 0)).toThrow(RangeError);
    expect(() => ix.put('b', 1, 65536, 1, 0, 0, 0)).toThrow(RangeError);
    expect(ix.find('b')).toBe(-1);
    ix.find('a');
    expect([m[M_RUN], m[M_START], m[M_LENGTH]]).toEqual([MAX_RUN, 0, 2 ** 32 - 1]);
    expect(ix.keyOf(a)).toBe('a');
    expect(ix.removeKey('a')).toBe(a);
    expect(m[M_RUN]).toBe(MAX_RUN);
    expect(ix.removeKey('a')).toBe(-1);
    expect(ix.size).toBe(0);
    expect(ix.findId(a)).toBe(false);
    expect(() => ix.remove(a)).toThrow(RangeError);
    expect(() => ix.keyOf(12345)).toThrow(RangeError);
    ix.close();
  });

  it('keeps any well-formed string as UTF-8 and refuses keys longer than its limit', () => {
    const ix = createKeyIndex(kind, 16);
    const keys = ['', 'é', '日本語', '🙂x', 'x'.repeat(16)];
    const ids = keys.map((k, i) => ix.put(k, i, 0, 0, 0, 0, 0));
    keys.forEach((k, i) => {
      expect(ix.find(k)).toBe(ids[i]);
      expect(ix.meta[M_RUN]).toBe(i);
      expect(ix.keyOf(ids[i])).toBe(k);
    });
    expect(() => ix.put('x'.repeat(17), 0, 0, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => ix.find(5 as never)).toThrow(TypeError);
    expect(ix.size).toBe(keys.length);
    ix.close();
  });

  it('relocates a run of values and removes only the ids still in a run', () => {
    const ix = createKeyIndex(kind, 64);
    const ids = [0, 1, 2, 3].map((i) => ix.put(`k${i}`, i, 0, 10, RESIDENT, 0, 0));
    const entries = new Uint32Array(ids.flatMap((id, i) => [id, i * 100, 10 + i, 0, 0]));
    ix.relocate(entries, 4, 42);
    ix.find('k2');
    expect([ix.meta[M_RUN], ix.meta[M_START], ix.meta[M_LENGTH], ix.meta[M_FLAGS]]).toEqual([42, 200, 12, 0]);
    ix.update(ids[1], 5, 0, 10, RESIDENT, 0, 0); // became resident
    ix.update(ids[3], 43, 0, 13, 0, 0, 0); // moved to another run
    ix.remove(ids[0]);
    const other = ix.put('other', 42, 0, 99, 0, 0, 0); // may reuse ids[0]
    const members = Uint32Array.from(ids);
    const lengths = new Uint32Array(4);
    const removed = ix.removeIfRun(members, 4, 42, lengths);
    const expected = other === ids[0] ? [ids[0], ids[2]] : [ids[2]];
    expect([...members.subarray(0, removed)]).toEqual(expected);
    expect([...lengths.subarray(0, removed)]).toEqual(other === ids[0] ? [99, 12] : [12]);
    expect(ix.find('k1')).toBe(ids[1]);
    expect(ix.find('k3')).toBe(ids[3]);
    expect(() => ix.relocate(Uint32Array.of(999999, 0, 0, 0, 0), 1, 1)).toThrow(RangeError);
    ix.close();
  });

  it('moves expiry times back by a delta', () => {
    const ix = createKeyIndex(kind, 64);
    ix.put('a', 0, 0, 0, 0, 1000, 10);
    ix.put('b', 0, 0, 0, 0, 0, 0);
    ix.put('c', 0, 0, 0, 0, 50, 10);
    ix.rebaseExpiry(100);
    ix.find('a');
    expect(ix.meta[M_EXPIRES]).toBe(900);
    ix.find('b');
    expect(ix.meta[M_EXPIRES]).toBe(0);
    ix.find('c');
    expect(ix.meta[M_EXPIRES]).toBe(1);
    ix.close();
  });

  it('agrees with a Map through growth, deletes, shrinking and key compaction', () => {
    const ix = createKeyIndex(kind, 256);
    const ref = new Map<string, number>();
    const r = rng(kind === 'js' ? 11 : 12);
    const keyOf = (i: number) => `user:${i}:${'p'.repeat(i % 97)}`;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 60_000; i++) {
        const k = keyOf(Math.floor(r() * 80_000));
        const v = Math.floor(r() * 2 ** 30);
        ix.put(k, v, 0, 0, 0, 0, 0);
        ref.set(k, v);
      }
      for (const k of [...ref.keys()]) {
        if (r() < 0.7) {
          expect(ix.removeKey(k)).toBeGreaterThanOrEqual(0);
          ref.delete(k);
        }
      }
      expect(ix.size).toBe(ref.size);
      for (const [k, v] of ref) {
        expect(ix.find(k)).toBeGreaterThanOrEqual(0);
        expect(ix.meta[M_RUN]).toBe(v);
      }
      const seen = new Set<string>();
      for (let id = ix.next(0); id >= 0; id = ix.next(id + 1)) seen.add(ix.keyOf(id));
      expect(seen.size).toBe(ref.size);
      for (const k of ref.keys()) expect(seen.has(k)).toBe(true);
    }
    for (const k of ref.keys()) ix.removeKey(k);
    expect(ix.size).toBe(0);
    expect(ix.memoryBytes()).toBe(0);
    ix.close();
  });

  // Lengths on each side of the 1-, 2- and 3-byte length prefixes, and keys longer than one 64 KiB
  // arena chunk of the typed-array index (a chunk of their own), mixed with short ones.
  it('keeps keys of every length class, through removal and reuse of their ids', () => {
    const ix = createKeyIndex(kind, 1 << 18);
    const lengths = [1, 127, 128, 16383, 16384, 65531, 65532, 70000, 200000];
    const keyOf = (len: number, tag: number) => `${tag}:`.padEnd(len, String.fromCharCode(97 + (tag % 26)));
    const ids = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (const len of lengths) {
        for (let t = 0; t < 3; t++) {
          const k = keyOf(len, round * 10 + t);
          ids.set(k, ix.put(k, k.length, 0, 0, 0, 0, 0));
        }
      }
      // Drop every other key, so the next round reuses their ids.
      [...ids.keys()].forEach((k, i) => {
        if (i % 2 === 0) {
          expect(ix.removeKey(k)).toBe(ids.get(k));
          ids.delete(k);
        }
      });
      for (const [k, id] of ids) {
        expect(ix.find(k)).toBe(id);
        expect(ix.meta[M_RUN]).toBe(k.length);
        expect(ix.keyOf(id)).toBe(k);
      }
      expect(ix.size).toBe(ids.size);
    }
    ix.close();
  });

  // Both indexes: a 20-byte record and the table; the key's bytes with their length byte and
  // 4-byte alignment are the key's. Checked all along from 100,000 keys to 600,000 (the table
  // grows on the way), not at one lucky size.
  it('costs at most 32 bytes per key plus the key bytes', () => {
    const ix = createKeyIndex(kind, 64);
    let keyCost = 0;
    let worst = 0;
    for (let i = 0; i < 600_000; i++) {
      const k = `session:${i}`;
      keyCost += (Buffer.byteLength(k) + 1 + 3) & ~3;
      ix.put(k, i, 0, 100, 0, 0, 0);
      if (i >= 100_000 && i % 1000 === 0) worst = Math.max(worst, (ix.memoryBytes() - keyCost) / (i + 1));
    }
    expect(worst).toBeGreaterThan(20);
    expect(worst).toBeLessThanOrEqual(32);
    ix.close();
  });
});
