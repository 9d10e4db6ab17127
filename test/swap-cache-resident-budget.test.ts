// residentBytes bounds the memory of the resident tier, not only its ring: with values as small as
// their keys' JS-side state (a Map entry, a key string, a slot), the ring's pages in memory plus
// the V8 heap and typed arrays the resident values add stay within residentBytes + 15 %. Without
// the per-value charge (resident-ring.ts) this tier held ~2.5 times its budget here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyIndexKinds, cachesClosedAfterEach } from './support/swap-cache';

const gc = (globalThis as { gc?: () => void }).gc!;
const RESIDENT = 24 * 2 ** 20;

/**
 * Resident bytes of the mappings madvise'd MADV_NOHUGEPAGE ("nh" in /proc/self/smaps): the ring,
 * and a few thread stacks that stay as they are while a test runs.
 */
function noHugePageRss(): number {
  let rss = 0;
  for (const block of readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (/^VmFlags:.* nh/m.test(block)) rss += Number(/^Rss:\s+(\d+) kB$/m.exec(block)![1]) * 1024;
  }
  return rss;
}

/** Collects until the ArrayBuffers of earlier tests are freed (after the GC that finds them unreachable). */
async function settle(): Promise<void> {
  let last = -1;
  for (let i = 0; i < 40 && process.memoryUsage().arrayBuffers !== last; i++) {
    last = process.memoryUsage().arrayBuffers;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sizes = [
  { value: 24, key: 10 },
  { value: 100, key: 40 },
];

describe.each(keyIndexKinds)('the resident tier within residentBytes (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  it.each(sizes)('$value-byte values under $key-character keys', async ({ value, key }) => {
    await settle();
    const before = process.memoryUsage();
    const mapped = noHugePageRss();
    const c = make({ backend: 'none', residentBytes: RESIDENT, pages: 1 << 15, keyIndex });
    const n = Math.ceil((2 * RESIDENT) / value);
    const v = Buffer.alloc(value);
    const name = (i: number) => `k${String(i).padStart(key - 1, '0')}`;
    for (let i = 0; i < n; i++) {
      v.writeUInt32LE(i, 0);
      c.set(name(i), v);
    }
    // The typed-array index's old arrays from its growth are garbage to be freed, not the tier's.
    await settle();
    const after = process.memoryUsage();
    const ring = noHugePageRss() - mapped;
    const heap = after.heapUsed - before.heapUsed;
    // The typed-array key index is in arrayBuffers too; it is the key index's, not the tier's.
    const arrays = after.arrayBuffers - before.arrayBuffers - (keyIndex === 'js' ? c.indexBytes : 0);
    const tier = ring + heap + arrays;
    expect(tier).toBeLessThanOrEqual(1.15 * RESIDENT);
    // The budget is used, not just kept free.
    expect(tier).toBeGreaterThan(RESIDENT / 2);
    for (let i = 0; i < n; i += 997) expect(c.get(name(i))!.readUInt32LE(0)).toBe(i);
    expect(c.size).toBe(n);
  });
});

describe('resident budgets past 2 GiB', () => {
  const make = cachesClosedAfterEach();

  it.each([2 ** 31, 3 * 2 ** 30 + 4, 2 ** 32])('%d bytes: the ring is that large and its values read back', (residentBytes) => {
    const c = make({ backend: 'none', residentBytes, pages: 1 << 10 });
    expect(c.stats().resident_capacity).toBe(Math.min(Math.floor(residentBytes / 8) * 8, 2 ** 32 - 8));
    const v = Buffer.alloc(1000);
    for (let i = 0; i < 1000; i++) {
      v.writeUInt32LE(i, 0);
      c.set(`k${i}`, v);
    }
    expect(c.residentBytes).toBe(1000 * 1000);
    for (let i = 0; i < 1000; i++) expect(c.get(`k${i}`)!.readUInt32LE(0)).toBe(i);
  });
});
