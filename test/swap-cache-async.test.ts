// SwapCache.getAsync: swap-file reads on the libuv thread pool, and correct answers when keys are
// set, deleted and their swap slots reused while reads are in flight.
import { describe, expect, it } from 'vitest';
import { loadBackend } from '../lib/index';
import { rng } from './support/rng';
import { cachesClosedAfterEach, keyIndexKinds, tagged } from './support/swap-cache';

const sizeOf = (i: number) => 200 + ((i * 37) % 2800);

describe.each(keyIndexKinds)('SwapCache getAsync (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  it('reads swap-file pages off the main thread and answers resident and pool hits at once', async () => {
    // zsmalloc holds these values densely: a 256 KiB pool still has to send some to the file.
    await loadBackend('zcache', { maxPoolBytes: 256 << 10 });
    const c = make({ backend: 'none', residentBytes: 16 << 10, pages: 8192, keyIndex });
    for (let i = 0; i < 3000; i++) c.set(`k${i}`, tagged(`k${i}`, 0, sizeOf(i)));
    expect(c.filePages).toBeGreaterThan(0);
    const before = c.stats();
    // The oldest values were written back to the file by now.
    let settled = false;
    const p = c.getAsync('k1').then((v) => {
      settled = true;
      return v;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false); // waiting for the thread pool, not answered inline
    expect(await p).toEqual(tagged('k1', 0, sizeOf(1)));
    expect(c.stats().gets_file).toBe(before.gets_file + 1);
    expect(await c.getAsync('k1')).toEqual(tagged('k1', 0, sizeOf(1))); // resident now
    expect(c.stats().gets_resident).toBe(before.gets_resident + 1);
    expect(await c.getAsync('missing')).toBeUndefined();
  });

  describe.each(['none', 'zcache'] as const)('with backend %s', (backend) => {
    it('answers with the value each key has when its read completes, never another key’s bytes', async () => {
      if (backend === 'zcache') await loadBackend('zcache', { maxPoolBytes: 256 << 10 });
      const c = make({ backend: 'none', residentBytes: 16 << 10, pages: 16384, keyIndex });
      const r = rng(keyIndex === 'native' ? 5 : 6);
      const n = 2000;
      const version = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        c.set(`k${i}`, tagged(`k${i}`, 0, sizeOf(i)));
        version.set(`k${i}`, 0);
      }
      for (let round = 0; round < 6; round++) {
        const keys = Array.from({ length: 300 }, () => `k${Math.floor(r() * n)}`);
        const atCall = keys.map((k) => version.get(k));
        const reads = keys.map((k) => c.getAsync(k));
        // While the reads are in flight: delete and rewrite keys (freeing their runs) and store
        // new values that take the freed slots.
        for (let j = 0; j < 400; j++) {
          const k = `k${Math.floor(r() * n)}`;
          if (r() < 0.4) {
            c.delete(k);
            version.delete(k);
          } else {
            const v = (version.get(k) ?? 0) + 1;
            c.set(k, tagged(k, v, sizeOf(v * 7 + k.length)));
            version.set(k, v);
          }
        }
        const got = await Promise.all(reads);
        const expected = (k: string, v: number | undefined) =>
          v === undefined ? undefined : tagged(k, v, v === 0 ? sizeOf(Number(k.slice(1))) : sizeOf(v * 7 + k.length));
        keys.forEach((k, i) => {
          // A get answered at once (resident, pool, missing) gives the value at the call; one that
          // read the file gives the value the key has when the read completes.
          const ok = [expected(k, atCall[i]), expected(k, version.get(k))];
          expect(ok).toContainEqual(got[i]);
        });
      }
      expect(c.stats().gets_file + c.stats().gets_pool).toBeGreaterThan(0);
    });
  });

  it('a read in flight when the cache closes rejects with ERR_TMEM_CLOSED', async () => {
    const c = make({ backend: 'none', residentBytes: 4096, pages: 1024, keyIndex });
    for (let i = 0; i < 100; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 900));
    const p = c.getAsync('k0');
    c.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_TMEM_CLOSED' });
  });
});
