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
