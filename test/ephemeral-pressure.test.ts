// DESIGN §6 for every allocator of both backends: the ephemeral (cleancache) and persistent (frontswap) pools share
// one frame cap; a pool full of clean pages must never block or lose a persistent page — a
// persistent store eats the oldest ephemeral unit, a frame or a zspage (pers_ate_eph) — and ephemeral puts never evict
// persistent pages.
import { describe, expect, it } from 'vitest';
import { cleancache, debugfs } from '../lib/index';
import { equalPages, PAGE, textPage } from './support/pages';
import { swapHarness } from './support/harness';
import { backendsUnderTest } from './support/backends';

describe.each(backendsUnderTest)('ephemeral filling never blocks or loses a persistent page ($label)', ({ backend: name, allocator }) => {
  const harness = swapHarness(name, allocator);

  it.each([false, true])('pool full of cleancache pages, then swap (writeback %s)', async (writeback) => {
    const FRAMES = 64;
    const area = await harness.setup(1024, { maxPoolBytes: FRAMES * PAGE, writeback });
    const zs = (name: string): number => debugfs.read(`zcache/${name}`);
    const pool = cleancache.initFs();
    for (let i = 0; zs('evicted_eph_pageframes') === 0 || i < 4 * FRAMES; i++) cleancache.putPage(pool, 1, i, textPage(10_000 + i));
    // Full, to within one zspage (one frame for zbud, up to 8 for a zsmalloc size class).
    expect(zs('eph_pageframes')).toBe(zs('pool_pages'));
    expect(zs('pool_pages')).toBeLessThanOrEqual(FRAMES);
    expect(zs('pool_pages')).toBeGreaterThan(FRAMES - 8);
    expect(zs('evicted_eph_pageframes')).toBeGreaterThan(0);
    expect(zs('pers_ate_eph')).toBe(0);

    const a = area;
    const written = new Map<number, Uint8Array>();
    let refusedWithEph = 0;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const page = textPage(i);
      const before = debugfs.read(`swap/${a.type}/frontswap_pages`);
      written.set(a.writePage(page), page);
      if (debugfs.read(`swap/${a.type}/frontswap_pages`) === before) {
        refused++;
        // Refused only once no clean page was left to eat.
        if (zs('eph_pageframes') > 0) refusedWithEph++;
      }
      // Ephemeral puts keep coming: they never evict a persistent page.
      cleancache.putPage(pool, 2, i, textPage(20_000 + i));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // let background writeback run
    }
    expect(refusedWithEph).toBe(0);
    expect(zs('pers_ate_eph')).toBeGreaterThan(0);
    expect(zs('pool_pages')).toBeLessThanOrEqual(FRAMES);
    if (writeback) expect(zs('written_back_pages')).toBeGreaterThan(0);
    else expect(refused).toBeGreaterThan(0);
    const out = new Uint8Array(PAGE);
    for (const [off, page] of written) {
      a.readPage(off, out);
      if (!equalPages(out, page)) throw new Error(`slot ${off} read back wrong bytes`);
    }
    for (let i = 0; i < 4 * FRAMES; i++) {
      if (cleancache.getPage(pool, 1, i, out) && !equalPages(out, textPage(10_000 + i))) throw new Error(`clean page ${i} is wrong`);
    }
    for (let i = 0; i < 600; i++) {
      if (cleancache.getPage(pool, 2, i, out) && !equalPages(out, textPage(20_000 + i))) throw new Error(`clean page 2/${i} is wrong`);
    }
    cleancache.invalidateFs(pool);
  });
});
