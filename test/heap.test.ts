// No per-page JavaScript objects: storing 100,000 pages through frontswap, or 50,000 clean pages
// through cleancache, must not grow the V8 heap by more than 5 MB. Page metadata lives in native
// memory (or typed arrays for zcache-js).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleancache, debugfs, loadBackend, swapon, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
import { PAGE, tempDir, textPage } from './support/pages';
import { backendsUnderTest } from './support/backends';

const PAGES = 100_000;
const BATCH = 256;

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

describe.each(backendsUnderTest)('V8 heap growth with $label', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  let tmp: ReturnType<typeof tempDir>;
  let area: SwapArea;

  beforeAll(async () => {
    tmp = tempDir();
    area = swapon(`${tmp.dir}/swap`, { pages: PAGES + 1 });
    await load({ maxPoolBytes: 1 << 30 });
  });

  afterAll(async () => {
    await unloadBackend(name);
    area.swapoff();
    tmp.cleanup();
  });

  it(`storing ${PAGES} pages grows the heap by < 5 MB`, () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('function');
    const batch = new Uint8Array(BATCH * PAGE);
    for (let i = 0; i < BATCH; i++) batch.set(textPage(i), i * PAGE);
    const view = new DataView(batch.buffer);
    const offsets = new Uint32Array(BATCH);
    // Warm up code paths and scratch buffers before the baseline.
    area.freePages(area.writePages(batch, offsets));
    const before = heapUsed();
    for (let done = 0; done < PAGES; done += BATCH) {
      const n = Math.min(BATCH, PAGES - done);
      for (let i = 0; i < n; i++) view.setUint32(i * PAGE, done + i); // every page distinct
      area.writePages(batch.subarray(0, n * PAGE), offsets);
    }
    const grown = heapUsed() - before;
    expect(debugfs.read('zcache/stored_pages')).toBe(PAGES);
    expect(grown).toBeLessThan(5 * 1024 * 1024);
  });

  it('keeping 50,000 ephemeral (cleancache) pages grows the heap by < 5 MB', () => {
    const N = 50_000;
    const pool = cleancache.initFs();
    const shared = cleancache.initSharedFs(`heap-${name}`);
    const page = textPage(1);
    const key = [0, 0, 0, 0, 0, 0xabcd];
    cleancache.putPage(pool, key, 0, page); // warm up
    const before = heapUsed();
    for (let n = 0; n < N; n++) {
      page[n % 997] = n & 0xff;
      page[(n * 7) % PAGE] = (n >>> 8) & 0xff;
      key[0] = n >>> 6; // 64 pages per inode, ~780 inodes
      cleancache.putPage(n % 3 === 0 ? shared : pool, key, n & 63, page);
    }
    const grown = heapUsed() - before;
    expect(debugfs.read('zcache/eph_zpages')).toBeGreaterThanOrEqual(N);
    expect(grown).toBeLessThan(5 * 1024 * 1024);
    cleancache.invalidateFs(pool);
    cleancache.invalidateFs(shared);
  });
});
