// Map mode under replacements: runs left sparse are compacted, so swap space follows the live
// data instead of growing with every replaced value; every value stays exact.
import { describe, expect, it } from 'vitest';
import { loadBackend } from '../lib/index';
import { rng } from './support/rng';
import { cachesClosedAfterEach, keyIndexKinds, tagged } from './support/swap-cache';

describe.each(keyIndexKinds)('SwapCache run compaction (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  it.each(['none', 'zcache-js'] as const)('keeps swap space near the live data under random replacements (backend %s)', async (backend) => {
    if (backend !== 'none') await loadBackend(backend, { maxPoolBytes: 256 << 10 });
    const c = make({ backend: 'none', residentBytes: 32 << 10, pages: 4096, keyIndex });
    const r = rng(keyIndex === 'native' ? 21 : 22);
    const n = 2000;
    const version = new Uint32Array(n);
    const size = (i: number, v: number) => 300 + ((i * 13 + v * 101) % 1500);
    for (let i = 0; i < n; i++) c.set(`k${i}`, tagged(`k${i}`, 0, size(i, 0)));
    for (let j = 0; j < 30_000; j++) {
      const i = Math.floor(r() * n);
      const v = ++version[i];
      c.set(`k${i}`, tagged(`k${i}`, v, size(i, v)));
    }
    const s = c.stats();
    // Swap pages hold the swapped bytes (and clean copies of resident ones) at under 2x.
    expect(s.swap_pages * 4096).toBeLessThan(2 * (s.swapped_bytes + s.resident_bytes) + (1 << 20));
    for (let i = 0; i < n; i++) expect(c.get(`k${i}`)).toEqual(tagged(`k${i}`, version[i], size(i, version[i])));
  });
});
