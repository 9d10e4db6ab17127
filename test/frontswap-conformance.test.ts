// DESIGN §4, point by point, run against every allocator of both backends. Each test names the contract point it
// would catch a violation of.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugfs, frontswap, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
import { filledPage, PAGE, randomPage, tempDir, textPage, zeroPage } from './support/pages';
import { backendsUnderTest } from './support/backends';

describe.each(backendsUnderTest)('frontswap contract with $label', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  let tmp: ReturnType<typeof tempDir>;
  let areas: SwapArea[];

  const area = (pages = 1024) => {
    const a = swapon(`${tmp.dir}/swap${areas.length}`, { pages });
    areas.push(a);
    return a;
  };
  const counter = (path: string) => debugfs.read(path);

  beforeEach(() => {
    tmp = tempDir();
    areas = [];
  });

  afterEach(async () => {
    const loaded = loadedBackend();
    if (loaded) await unloadBackend(loaded);
    for (const a of areas) if (a.active) a.swapoff();
    frontswap.writethrough = false;
    tmp.cleanup();
  });

  it('§4.1 with no backend every hook is a no-op and the swap file serves', () => {
    const a = area();
    const page = textPage(1);
    expect(frontswap.store(a.type, 5, page)).toBe(false);
    expect(frontswap.load(a.type, 5, new Uint8Array(PAGE))).toBe(false);
    expect(() => frontswap.invalidatePage(a.type, 5)).not.toThrow();
    const off = a.writePage(page);
    expect(counter(`swap/${a.type}/file_writes`)).toBe(2); // header + this page
    expect(Buffer.compare(a.readPage(off, new Uint8Array(PAGE)), page)).toBe(0);
    expect(frontswap.currPages()).toBe(0);
  });

  it('§4.2 only offsets held in frontswap reach the backend load', async () => {
    const a = area();
    await load();
    const before = counter('zcache/loads');
    expect(frontswap.load(a.type, 7, new Uint8Array(PAGE))).toBe(false);
    expect(counter('zcache/loads')).toBe(before);
    frontswap.store(a.type, 7, textPage(2));
    expect(frontswap.load(a.type, 7, new Uint8Array(PAGE))).toBe(true);
    expect(counter('zcache/loads')).toBe(before + 1);
  });

  it('§4.3 a refused store of a held offset drops the old copy', async () => {
    const a = area();
    await load();
    expect(frontswap.store(a.type, 9, textPage(3))).toBe(true);
    // Random bytes do not compress: zcache refuses them (compress_poor).
    expect(frontswap.store(a.type, 9, randomPage())).toBe(false);
    expect(counter('zcache/reject_compress_poor')).toBe(1);
    expect(counter('zcache/duplicate_entry')).toBe(1);
    expect(frontswap.load(a.type, 9, new Uint8Array(PAGE))).toBe(false);
    expect(counter('zcache/stored_pages')).toBe(0);
  });

  it('§4.4 exclusive gets: takePage frees the backend copy without an invalidate, readPage keeps it', async () => {
    const a = area();
    await load({ exclusiveGets: true });
    const page = textPage(5);
    const off = a.writePage(page);
    const into = new Uint8Array(PAGE);
    a.readPage(off, into);
    a.readPage(off, into);
    expect(Buffer.compare(into, page)).toBe(0);
    expect(counter('zcache/stored_pages')).toBe(1);
    const inv = counter('frontswap/invalidates');
    a.takePage(off, into);
    expect(Buffer.compare(into, page)).toBe(0);
    expect(counter('zcache/stored_pages')).toBe(0);
    expect(counter('frontswap/invalidates')).toBe(inv);
    expect(frontswap.currPages()).toBe(0);
    expect(a.usedPages).toBe(0);
  });

  it('§4.4 with exclusive gets off, takePage invalidates separately', async () => {
    const a = area();
    await load({ exclusiveGets: false });
    const off = a.writePage(textPage(6));
    const inv = counter('frontswap/invalidates');
    a.takePage(off, new Uint8Array(PAGE));
    expect(counter('frontswap/invalidates')).toBe(inv + 1);
    expect(counter('zcache/stored_pages')).toBe(0);
  });

  it('§4.5 writethrough: the page is stored and also written to the file', async () => {
    const a = area();
    await load();
    frontswap.writethrough = true;
    const page = textPage(7);
    const writes = counter(`swap/${a.type}/file_writes`);
    const off = a.writePage(page);
    expect(counter(`swap/${a.type}/file_writes`)).toBe(writes + 1);
    expect(counter('zcache/stored_pages')).toBe(1);
    const loads = counter('frontswap/loads');
    const into = new Uint8Array(PAGE);
    a.readPage(off, into);
    expect(counter('frontswap/loads')).toBe(loads + 1);
    expect(Buffer.compare(into, page)).toBe(0);
  });

  it('§4.6 lazy init: areas swapped on before the backend loads use it once it does', async () => {
    const a = area();
    const b = area();
    const offA = a.writePage(textPage(8));
    await load();
    const offB = b.writePage(textPage(9));
    const offA2 = a.writePage(textPage(10));
    expect(counter('zcache/stored_pages')).toBe(2);
    expect(Buffer.compare(a.readPage(offA, new Uint8Array(PAGE)), textPage(8))).toBe(0);
    expect(Buffer.compare(b.readPage(offB, new Uint8Array(PAGE)), textPage(9))).toBe(0);
    expect(Buffer.compare(a.readPage(offA2, new Uint8Array(PAGE)), textPage(10))).toBe(0);
  });

  it('§4.7 shrink moves pages out through the swap layer; their owners still read them', async () => {
    const a = area();
    const b = area();
    await load();
    const pages = [...Array(200)].map((_, i) => textPage(100 + i));
    const offs = pages.map((p, i) => (i % 2 ? a : b).writePage(p));
    expect(frontswap.currPages()).toBe(200);
    frontswap.shrink(50);
    expect(frontswap.currPages()).toBe(50);
    expect(counter('zcache/stored_pages')).toBe(50);
    pages.forEach((p, i) => {
      expect(Buffer.compare((i % 2 ? a : b).readPage(offs[i], new Uint8Array(PAGE)), p)).toBe(0);
    });
    frontswap.shrink(0);
    expect(frontswap.currPages()).toBe(0);
  });

  it('§4.8 counters count loads, successful and failed stores, invalidates', async () => {
    const a = area();
    await load();
    const c0 = debugfs.snapshot();
    frontswap.store(a.type, 1, textPage(11));
    frontswap.store(a.type, 2, zeroPage());
    frontswap.store(a.type, 3, randomPage());
    frontswap.load(a.type, 1, new Uint8Array(PAGE));
    frontswap.load(a.type, 3, new Uint8Array(PAGE));
    frontswap.invalidatePage(a.type, 2);
    frontswap.invalidatePage(a.type, 3);
    const c1 = debugfs.snapshot();
    expect(c1['frontswap/succ_stores'] - c0['frontswap/succ_stores']).toBe(2);
    expect(c1['frontswap/failed_stores'] - c0['frontswap/failed_stores']).toBe(1);
    expect(c1['frontswap/loads'] - c0['frontswap/loads']).toBe(1);
    expect(c1['frontswap/invalidates'] - c0['frontswap/invalidates']).toBe(1);
    expect(c1['zcache/same_filled_pages']).toBe(0);
    expect(c1['zcache/stored_pages']).toBe(1);
  });

  it('invalidateArea drops every page of one area and no other', async () => {
    const a = area();
    const b = area();
    await load();
    for (let i = 1; i < 20; i++) {
      frontswap.store(a.type, i, textPage(i));
      frontswap.store(b.type, i, filledPage(i));
    }
    frontswap.invalidateArea(a.type);
    expect(frontswap.load(a.type, 3, new Uint8Array(PAGE))).toBe(false);
    const into = new Uint8Array(PAGE);
    expect(frontswap.load(b.type, 3, into)).toBe(true);
    expect(Buffer.compare(into, filledPage(3))).toBe(0);
    expect(frontswap.currPages()).toBe(19);
  });

  it('per-area pool usage is exact: pages and compressed bytes follow stores, takes and frees', async () => {
    const a = area();
    const b = area();
    await load();
    const offsA = [1, 2, 3, 4].map((i) => a.writePage(textPage(i)));
    a.writePage(zeroPage());
    b.writePage(textPage(9));
    expect(a.poolUsage.pages).toBe(5);
    expect(b.poolUsage.pages).toBe(1);
    const bytes = a.poolUsage.compressedBytes;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(4 * PAGE);
    expect(bytes + b.poolUsage.compressedBytes).toBe(counter('zcache/compressed_bytes'));
    expect(a.filePages).toBe(0);
    a.takePage(offsA[0], new Uint8Array(PAGE));
    a.freePage(offsA[1]);
    expect(a.poolUsage.pages).toBe(3);
    expect(a.poolUsage.compressedBytes).toBeLessThan(bytes);
    frontswap.writethrough = false;
    a.writePage(randomPage()); // refused: only on file
    expect(a.filePages).toBe(1);
    expect(counter(`swap/${a.type}/file_pages`)).toBe(1);
    expect(counter(`swap/${a.type}/pool_pages`)).toBe(3);
  });

  it('batch store, load and invalidate match the single-page hooks', async () => {
    const a = area();
    await load();
    const n = 64;
    const pages = new Uint8Array(n * PAGE);
    for (let i = 0; i < n; i++) pages.set(i % 4 === 3 ? randomPage() : i % 4 === 2 ? zeroPage() : textPage(i), i * PAGE);
    const offsets = Uint32Array.from({ length: n }, (_, i) => 10 + i * 3);
    const stored = frontswap.storeBatch(a.type, offsets, pages);
    for (let i = 0; i < n; i++) expect(stored[i]).toBe(i % 4 === 3 ? 0 : 1);
    const into = new Uint8Array(n * PAGE);
    const hits = frontswap.loadBatch(a.type, offsets, into);
    for (let i = 0; i < n; i++) {
      expect(hits[i]).toBe(stored[i]);
      if (hits[i]) expect(Buffer.compare(into.subarray(i * PAGE, (i + 1) * PAGE), pages.subarray(i * PAGE, (i + 1) * PAGE))).toBe(0);
    }
    frontswap.invalidateBatch(a.type, offsets);
    expect(frontswap.currPages()).toBe(0);
    expect(counter('zcache/stored_pages')).toBe(0);
  });

  it('unload writes every held page back to its swap file', async () => {
    const a = area(4096);
    await load();
    const pages = new Uint8Array(300 * PAGE);
    for (let i = 0; i < 300; i++) pages.set(i % 3 ? textPage(i) : filledPage(i), i * PAGE);
    const offs = a.writePages(pages);
    expect(frontswap.currPages()).toBe(300);
    await unloadBackend(name);
    expect(frontswap.enabled).toBe(false);
    expect(frontswap.currPages()).toBe(0);
    const back = a.readPages(offs, new Uint8Array(300 * PAGE));
    expect(Buffer.compare(back, pages)).toBe(0);
  });
});
