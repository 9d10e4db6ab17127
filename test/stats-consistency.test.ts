// A debugfs snapshot is one consistent reading (issue 14, item 10): zcache/stored_pages equals the
// sum of swap/*/pool_pages, and pool_compressed_bytes add up to the pool's compressed bytes, in
// every snapshot — also while writeback batches land on the libuv thread pool between the reads.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { debugfs, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { backendsUnderTest } from './support/backends';
import { PAGE, tempDir } from './support/pages';

describe.each(backendsUnderTest)('snapshot consistency with $label', ({ backend, allocator }) => {
  let tmp: ReturnType<typeof tempDir> | null = null;
  const areas: SwapArea[] = [];
  afterEach(async () => {
    for (const a of areas.splice(0)) if (a.active) a.swapoff();
    if (loadedBackend()) await unloadBackend(loadedBackend()!);
    tmp?.cleanup();
  });

  it('stored_pages is the sum of the areas’ pool_pages while batches land', async () => {
    tmp = tempDir();
    for (let i = 0; i < 3; i++) areas.push(swapon(join(tmp.dir, `swap${i}`), { pages: 20_000 }));
    await loadBackend(backend, { allocator, maxPoolBytes: 256 * PAGE, writeback: { batchPages: 16, maxInFlightPages: 64 } });
    // Half a page of noise: ~2 KiB compressed whatever the allocator packs, so the pool overflows
    // into writeback (a zsmalloc pool would hold thousands of runs of one byte).
    const page = new Uint8Array(PAGE);
    page.set(randomBytes(PAGE / 2));
    const live: number[][] = areas.map(() => []);
    let snapshots = 0;
    let inconsistent = 0;
    for (let round = 0; snapshots < 8000; round++) {
      areas.forEach((a, k) => {
        if (live[k].length > 2000) a.freePages(Uint32Array.from(live[k].splice(0, 500)));
        for (let i = 0; i < 16; i++) {
          page[0] = round & 0xff;
          page[1] = i;
          live[k].push(a.writePage(page));
        }
      });
      // Background batches start from the event loop, then run while these snapshots are taken.
      await new Promise((resolve) => setImmediate(resolve));
      for (let s = 0; s < 20; s++, snapshots++) {
        const snap = debugfs.snapshot();
        let pages = 0;
        for (const a of areas) pages += snap[`swap/${a.type}/pool_pages`];
        if (pages !== snap['zcache/stored_pages']) inconsistent++;
      }
    }
    expect(debugfs.read('zcache/written_back_pages')).toBeGreaterThan(0);
    expect(inconsistent, `${inconsistent} of ${snapshots} snapshots`).toBe(0);
  });
});
