// A key whose value is swapped out costs no V8 heap: 2,000,000 of them grow the heap by less
// than 16 MiB (the bound), for both key indexes; the native index costs at most 32 bytes
// per key besides the key's bytes.
import { describe, expect, it } from 'vitest';
import { SwapCache } from '../lib/index';
import { keyIndexKinds } from './support/swap-cache';

const gc = (globalThis as { gc?: () => void }).gc!;
const N = 2_000_000;

describe.each(keyIndexKinds)('2,000,000 keys with swapped values (key index %s)', (keyIndex) => {
  it('grow the V8 heap by less than 16 MiB', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const c = new SwapCache({ backend: 'none', residentBytes: 1 << 20, pages: 1 << 15, keyIndex });
    try {
      const value = Buffer.alloc(16);
      let keyBytes = 0;
      for (let i = 0; i < N; i++) {
        value.writeUInt32LE(i, 0);
        const key = `user:${i}`;
        keyBytes += key.length;
        c.set(key, value);
      }
      gc();
      const growth = process.memoryUsage().heapUsed - before;
      expect(growth).toBeLessThan(16 * 2 ** 20);
      expect(c.size).toBe(N);
      for (const i of [0, 1, 777_777, N - 1]) expect(c.get(`user:${i}`)!.readUInt32LE(0)).toBe(i);
      if (keyIndex === 'native') {
        // Keys sit 4-byte aligned behind a 1-byte length in the native arena.
        const perKey = (c.indexBytes - keyBytes - 4 * N) / N;
        expect(perKey).toBeLessThanOrEqual(32);
      }
    } finally {
      c.close();
    }
  });
});
