// More keys than a Map can hold (2^24): 17,000,000 keys with swapped values, each read back.
// Long (minutes) and about 1 GiB of memory: runs with TMEM_LONG=1 (.ci/run does), skipped otherwise.
import { describe, expect, it } from 'vitest';
import { SwapCache } from '../lib/index';
import { keyIndexKinds } from './support/swap-cache';

const N = 17_000_000;

describe.skipIf(!process.env.TMEM_LONG).each(keyIndexKinds)('more than 2^24 keys (key index %s)', (keyIndex) => {
  it('stores 17,000,000 keys and reads every one back', () => {
    const c = new SwapCache({ backend: 'none', residentBytes: 4 << 20, pages: 1 << 17, keyIndex });
    try {
      const value = Buffer.alloc(4);
      for (let i = 0; i < N; i++) {
        value.writeUInt32LE(i, 0);
        c.set(`k${i}`, value);
      }
      expect(c.size).toBe(N);
      expect(N).toBeGreaterThan(2 ** 24);
      let wrong = 0;
      for (let i = 0; i < N; i++) if (c.peek(`k${i}`)?.readUInt32LE(0) !== i) wrong++;
      expect(wrong).toBe(0);
      for (let i = 0; i < N; i += 2) c.delete(`k${i}`);
      expect(c.size).toBe(N / 2);
      expect(c.has('k1')).toBe(true);
      expect(c.has('k0')).toBe(false);
    } finally {
      c.close();
    }
  }, 3_600_000);
});

// A resident tier big enough for more than 2^23 tiny values (a 16 B record and a 192 B + key
// charge each: 2^23 of them take 1.7 GiB of a 2 GiB budget) stops taking new values at its cap
// (2^23, see resident-ring.ts): past it a new value makes room as a full budget would, by
// evicting the oldest; the rest are swapped, none lost, no set throws.
describe.skipIf(!process.env.TMEM_LONG)('more than 2^24 values that would all fit the resident budget', () => {
  it('keeps resident values under the cap and stores every key', () => {
    const n = 2 ** 24 + 2 ** 16;
    const c = new SwapCache({ backend: 'none', residentBytes: 2 ** 31, pages: 1 << 15 });
    try {
      const value = Buffer.alloc(4);
      for (let i = 0; i < n; i++) {
        value.writeUInt32LE(i, 0);
        c.set(`r${i}`, value);
      }
      expect(c.size).toBe(n);
      // At the cap, not at the 9.9M values the budget would take; eviction runs leave it a little under.
      expect(c.residentBytes).toBeLessThanOrEqual(2 ** 23 * 4);
      expect(c.residentBytes).toBeGreaterThan((2 ** 23 - 4096) * 4);
      expect(c.swappedBytes).toBeGreaterThan(0);
      let wrong = 0;
      for (let i = 0; i < n; i += 7) if (c.peek(`r${i}`)?.readUInt32LE(0) !== i) wrong++;
      expect(wrong).toBe(0);
    } finally {
      c.close();
    }
  }, 3_600_000);
});
