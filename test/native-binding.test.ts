// The native addon's own surface: loading, versions(), a Pool round trip, batches, close()
// semantics, bad arguments (throw, change nothing, never crash) and worker_threads.
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createZcache } from '../lib/backends/zcache/backend';
import { parseZcacheOptions } from '../lib/backends/options';
import { loadNative, packageRoot, StoreStatus, type NativePool } from '../lib/native/binding';

const PAGE = 4096;
const b = loadNative();

function textPage(seed: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  const text = Buffer.from(`{"id":${seed},"name":"user-${seed}","tags":["a","b"],"active":true}\n`);
  for (let i = 0; i < PAGE; i++) page[i] = text[i % text.length];
  return page;
}

function filledPage(word: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  new DataView(page.buffer).setUint32(0, word, true);
  for (let i = 4; i < PAGE; i++) page[i] = page[i % 4];
  return page;
}

function counters(pool: NativePool): Record<string, number> {
  const values = new Float64Array(pool.statNames.length);
  pool.stats(values);
  return Object.fromEntries(pool.statNames.map((name, i) => [name, values[i]]));
}

describe('native addon', () => {
  it('loads once and reports its versions', () => {
    expect(loadNative()).toBe(b);
    expect(b.PAGE_SIZE).toBe(4096);
    const v = b.versions();
    expect(v.lz4).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.napi).toBe(8);
    expect(packageRoot()).toBe(join(__dirname, '..'));
  });

  it('names its counters once per allocator, in stats() order', () => {
    expect(Object.isFrozen(b.Pool.statNames)).toBe(true);
    expect(b.Pool.statNames).toContain('zcache/stored_pages');
    expect(b.Pool.statNames).toContain('arena/returned_frames');
    for (const name of b.Pool.statNames) expect(name).toMatch(/^[a-z]+\/[a-z_]+$/);
    const own: Record<string, RegExp> = {
      zsmalloc: /^zsmalloc\/([a-z_]+|class\/\d+\/[a-z_]+)$/,
      z3fold: /^z3fold\/[a-z_]+$/,
      zbud: /^zbud\/[a-z_]+$/,
    };
    for (const allocator of ['zsmalloc', 'z3fold', 'zbud'] as const) {
      const pool = new b.Pool({ allocator });
      const again = new b.Pool({ allocator });
      expect(pool.allocator).toBe(allocator);
      expect(pool.statNames).toBe(again.statNames);
      expect(Object.isFrozen(pool.statNames)).toBe(true);
      // The common counters first, then only the allocator's own directory.
      expect(pool.statNames.slice(0, b.Pool.statNames.length)).toEqual(b.Pool.statNames);
      const rest = pool.statNames.slice(b.Pool.statNames.length);
      expect(rest.length).toBeGreaterThan(0);
      for (const name of rest) expect(name).toMatch(own[allocator]);
      const values = new Float64Array(pool.statNames.length);
      pool.stats(values);
      expect(() => pool.stats(new Float64Array(pool.statNames.length - 1))).toThrow(RangeError);
      pool.close();
      again.close();
    }
    const byDefault = new b.Pool();
    expect(byDefault.allocator).toBe('zsmalloc');
    byDefault.close();
    expect(() => new b.Pool({ allocator: 'slab' as never })).toThrow(RangeError);
    expect(() => new b.Pool({ allocator: 3 as never })).toThrow(RangeError);
  });

  it('round-trips compressed, same-filled and raw pages', () => {
    const pool = new b.Pool({ storeIncompressible: true });
    pool.initArea(0, 1024, -1);
    const text = textPage(1);
    const fill = filledPage(0xdeadbeef);
    const noise = new Uint8Array(randomBytes(PAGE));
    expect(pool.store(0, 10, text)).toBe(StoreStatus.Compressed);
    expect(pool.store(0, 11, fill)).toBe(StoreStatus.SameFilled);
    expect(pool.store(0, 12, noise)).toBe(StoreStatus.Raw);

    const into = new Uint8Array(PAGE);
    for (const [offset, page] of [[10, text], [11, fill], [12, noise]] as const) {
      into.fill(0x55);
      expect(pool.load(0, offset, into, false)).toBe(true);
      expect(Buffer.compare(into, page)).toBe(0);
    }
    // Pages at any byte offset of a larger buffer (no alignment assumed).
    const big = new Uint8Array(PAGE + 3);
    big.set(text, 3);
    expect(pool.store(0, 13, big.subarray(3))).toBe(StoreStatus.Compressed);
    expect(pool.load(0, 13, big.subarray(1, PAGE + 1), false)).toBe(true);
    expect(Buffer.compare(big.subarray(1, PAGE + 1), text)).toBe(0);

    let c = counters(pool);
    expect(c['zcache/stored_pages']).toBe(4);
    expect(c['zcache/same_filled_pages']).toBe(1);
    expect(c['zcache/stored_incompressible_pages']).toBe(1);
    expect(c['zcache/metadata_bytes']).toBeGreaterThan(0);

    expect(pool.load(0, 10, into, true)).toBe(true); // exclusive: the copy is gone after this
    expect(pool.load(0, 10, into, false)).toBe(false);
    pool.invalidatePage(0, 11);
    expect(pool.load(0, 11, into, false)).toBe(false);
    pool.invalidateArea(0);
    c = counters(pool);
    expect(c['zcache/stored_pages']).toBe(0);
    expect(c['zcache/pool_pages']).toBe(0);
    expect(() => pool.load(0, 12, into, false)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NO_AREA' }));
    pool.initArea(0, 10, -1); // a forgotten area can be initialised again
    pool.close();
  });

  it('refuses poor and over-limit pages, dropping the old copy', () => {
    const pool = new b.Pool({ maxPoolBytes: 2 * PAGE, maxMeanCompressedBytes: PAGE });
    pool.initArea(5, 100, -1);
    const into = new Uint8Array(PAGE);
    expect(pool.store(5, 1, textPage(1))).toBe(StoreStatus.Compressed);
    expect(pool.store(5, 1, new Uint8Array(randomBytes(PAGE)))).toBe(StoreStatus.CompressPoor);
    expect(pool.load(5, 1, into, false)).toBe(false);
    // Two frames: fill them with pages (~3.5 KB compressed) that no allocator fits three of in two.
    const big = (seed: number) => {
      const p = textPage(seed);
      p.set(randomBytes(3400), 100);
      return p;
    };
    expect(pool.store(5, 2, big(2))).toBe(StoreStatus.Compressed);
    expect(pool.store(5, 3, big(3))).toBe(StoreStatus.Compressed);
    expect(pool.store(5, 4, big(4))).toBe(StoreStatus.AllocFail);
    const c = counters(pool);
    expect(c['zcache/duplicate_entry']).toBe(1);
    expect(c['zcache/reject_compress_poor']).toBe(1);
    expect(c['zcache/reject_alloc_fail']).toBe(1);
    expect(c['zcache/pool_limit_hit']).toBe(1);
    pool.close();
  });

  it('stores, loads and invalidates in batches', () => {
    const pool = new b.Pool();
    pool.initArea(3, 1 << 16, -1);
    const n = 32;
    const offsets = Uint32Array.from({ length: n }, (_, i) => i * 997);
    const pages = new Uint8Array(n * PAGE);
    for (let i = 0; i < n; i++) pages.set(i % 4 === 0 ? randomBytes(PAGE) : textPage(i), i * PAGE);
    const results = new Int8Array(n);
    expect(pool.storeBatch(3, offsets, pages, results)).toBe(n - n / 4);
    for (let i = 0; i < n; i++) expect(results[i]).toBe(i % 4 === 0 ? StoreStatus.CompressPoor : StoreStatus.Compressed);

    const into = new Uint8Array(n * PAGE);
    const hits = new Uint8Array(n);
    expect(pool.loadBatch(3, offsets, into, hits, false)).toBe(n - n / 4);
    for (let i = 0; i < n; i++) {
      expect(hits[i]).toBe(i % 4 === 0 ? 0 : 1);
      if (hits[i]) expect(Buffer.compare(into.subarray(i * PAGE, (i + 1) * PAGE), pages.subarray(i * PAGE, (i + 1) * PAGE))).toBe(0);
    }
    pool.invalidateBatch(3, offsets.subarray(0, n / 2));
    expect(pool.loadBatch(3, offsets, into, hits, true)).toBe(n / 2 - n / 8);
    expect(counters(pool)['zcache/stored_pages']).toBe(0);
    pool.close();
  });

  it('keeps pages outside the V8 heap and gives freed frames back to the OS', () => {
    const pool = new b.Pool();
    const pages = 16384;
    pool.initArea(0, pages, -1);
    const page = textPage(3);
    page.set(randomBytes(1500), 1000); // ~1.6 KB compressed: at least two pages per frame
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    for (let off = 0; off < pages; off++) pool.store(0, off, page);
    const poolBytes = counters(pool)['zcache/pool_total_size'];
    expect(poolBytes).toBeLessThanOrEqual((pages / 2) * PAGE);
    expect(poolBytes).toBeGreaterThanOrEqual(counters(pool)['zcache/compressed_bytes']);
    const rss1 = process.memoryUsage().rss;
    expect(rss1 - rss0).toBeGreaterThan(poolBytes * 0.8);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(poolBytes / 10);
    pool.invalidateArea(0);
    const c = counters(pool);
    expect(c['zcache/pool_total_size']).toBe(0);
    expect(c['arena/returned_frames']).toBeGreaterThanOrEqual(poolBytes / PAGE - 64); // all but the resident cache
    expect(rss1 - process.memoryUsage().rss).toBeGreaterThan(poolBytes * 0.8);
    pool.close();
  });

  it('close() frees the pool; later calls throw ERR_TMEM_CLOSED', () => {
    const pool = new b.Pool();
    pool.initArea(0, 10, -1);
    pool.store(0, 1, textPage(1));
    pool.close();
    pool.close(); // idempotent
    const closed = expect.objectContaining({ code: 'ERR_TMEM_CLOSED' });
    const page = new Uint8Array(PAGE);
    expect(() => pool.store(0, 1, page)).toThrow(closed);
    expect(() => pool.load(0, 1, page, false)).toThrow(closed);
    expect(() => pool.initArea(1, 10, -1)).toThrow(closed);
    expect(() => pool.invalidatePage(0, 1)).toThrow(closed);
    expect(() => pool.invalidateArea(0)).toThrow(closed);
    expect(() => pool.storeBatch(0, new Uint32Array(0), page.subarray(0, 0), new Int8Array(0))).toThrow(closed);
    expect(() => pool.loadBatch(0, new Uint32Array(0), page.subarray(0, 0), new Uint8Array(0), false)).toThrow(closed);
    expect(() => pool.invalidateBatch(0, new Uint32Array(0))).toThrow(closed);
    expect(() => pool.stats(new Float64Array(1024))).toThrow(closed);
    expect(() => pool.compact()).toThrow(closed);
    expect(pool.statNames).toContain('zsmalloc/pages'); // the names outlive close()
  });

  it('throws on bad arguments without changing anything', () => {
    const pool = new b.Pool();
    pool.initArea(0, 100, -1);
    const page = textPage(7);
    expect(pool.store(0, 5, page)).toBe(StoreStatus.Compressed);
    const before = counters(pool);
    const typeError = (fn: () => unknown) =>
      expect(fn).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    const rangeError = (fn: () => unknown) => expect(fn).toThrow(RangeError);
    const p = pool as unknown as Record<string, (...args: unknown[]) => unknown>;

    typeError(() => p.store('0', 1, page));
    typeError(() => p.store(0, 1n, page));
    typeError(() => p.store(0, 1, Array.from(page)));
    typeError(() => p.store(0, 1, new Uint16Array(2048)));
    typeError(() => p.store(0, 1));
    typeError(() => p.load(0, 5, new Uint8Array(PAGE), 1));
    typeError(() => p.stats(new Float32Array(64)));
    typeError(() => p.storeBatch(0, [1], page, new Int8Array(1)));
    typeError(() => p.loadBatch(0, new Uint32Array(1), new Uint8Array(PAGE), new Int8Array(1), false));
    rangeError(() => pool.store(0, 1, page.subarray(1)));
    rangeError(() => pool.store(0, 1, new Uint8Array(2 * PAGE)));
    rangeError(() => pool.store(0, 100, page)); // offset beyond the area
    rangeError(() => pool.store(0, -1, page));
    rangeError(() => pool.store(0, 1.5, page));
    rangeError(() => pool.store(0, NaN, page));
    rangeError(() => pool.store(32, 1, page)); // type out of range
    rangeError(() => pool.store(1, 1, page)); // area not initialised
    rangeError(() => pool.load(0, 5, new Uint8Array(PAGE - 1), false));
    rangeError(() => pool.stats(new Float64Array(3)));
    rangeError(() => pool.initArea(0, 0, -1));
    rangeError(() => pool.initArea(-1, 10, -1));
    rangeError(() => pool.initArea(1, 10, -2));
    expect(() => pool.initArea(0, 10, -1)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_AREA_EXISTS' }));
    // A batch with one bad offset or a wrong length is refused whole.
    const results = new Int8Array(2);
    rangeError(() => pool.storeBatch(0, Uint32Array.of(1, 100), new Uint8Array(2 * PAGE), results));
    rangeError(() => pool.storeBatch(0, Uint32Array.of(1, 2), new Uint8Array(PAGE), results));
    rangeError(() => pool.storeBatch(0, Uint32Array.of(1, 2), new Uint8Array(2 * PAGE), new Int8Array(1)));
    rangeError(() => pool.loadBatch(0, Uint32Array.of(5, 100), new Uint8Array(2 * PAGE), new Uint8Array(2), true));
    rangeError(() => pool.invalidateBatch(0, Uint32Array.of(5, 100)));
    // A detached buffer reads as length 0.
    const detached = new Uint8Array(PAGE);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    rangeError(() => pool.store(0, 1, detached));

    expect(counters(pool)).toEqual(before);
    const into = new Uint8Array(PAGE);
    expect(pool.load(0, 5, into, false)).toBe(true);
    expect(Buffer.compare(into, page)).toBe(0);

    typeError(() => new b.Pool({ maxPoolBytes: '1' } as never));
    rangeError(() => new b.Pool({ maxPoolBytes: -1 }));
    rangeError(() => new b.Pool({ maxCompressedBytes: 5000 }));
    typeError(() => new b.Pool({ storeIncompressible: 1 } as never));
    typeError(() => new b.Pool(5 as never));
    pool.close();
  });

  it('accounts pages and compressed bytes per area, exactly through every path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tmem-binding-'));
    const fd = openSync(join(dir, 'swap'), 'w+');
    try {
      ftruncateSync(fd, 64 * PAGE);
      const pool = new b.Pool({ storeIncompressible: true });
      const out = new Float64Array(2);
      const area = (type: number) => {
        pool.areaStats(type, out);
        return [out[0], out[1]];
      };
      const compressed = () => counters(pool)['zcache/compressed_bytes'];
      // Over all areas the counts are the pool-wide gauges.
      const sumsMatch = () => {
        let pages = 0;
        let bytes = 0;
        for (let t = 0; t < 32; t++) {
          const [p, n] = area(t);
          pages += p;
          bytes += n;
        }
        const c = counters(pool);
        expect([pages, bytes]).toEqual([c['zcache/stored_pages'], c['zcache/compressed_bytes']]);
      };
      expect(area(3)).toEqual([0, 0]); // never initialised
      pool.initArea(0, 64, fd);
      pool.initArea(1, 64, -1);
      expect(area(0)).toEqual([0, 0]);

      expect(pool.store(0, 1, textPage(1))).toBe(StoreStatus.Compressed);
      const c1 = compressed();
      expect(c1).toBeGreaterThan(0);
      expect(pool.store(0, 2, filledPage(9))).toBe(StoreStatus.SameFilled);
      expect(pool.store(0, 3, new Uint8Array(randomBytes(PAGE)))).toBe(StoreStatus.Raw);
      expect(area(0)).toEqual([3, c1 + PAGE]);
      expect(pool.store(1, 1, textPage(2))).toBe(StoreStatus.Compressed);
      const c2 = compressed() - c1 - PAGE;
      expect(area(1)).toEqual([1, c2]);
      sumsMatch();

      expect(pool.store(0, 3, filledPage(1))).toBe(StoreStatus.SameFilled); // raw replaced
      expect(area(0)).toEqual([3, c1]);
      const into = new Uint8Array(PAGE);
      expect(pool.load(0, 1, into, false)).toBe(true);
      expect(area(0)).toEqual([3, c1]);
      expect(pool.load(0, 1, into, true)).toBe(true); // exclusive: gone
      expect(area(0)).toEqual([2, 0]);
      pool.invalidatePage(0, 2);
      expect(area(0)).toEqual([1, 0]);

      const offsets = Uint32Array.from({ length: 6 }, (_, i) => 10 + i);
      const pages = new Uint8Array(6 * PAGE);
      for (let i = 0; i < 6; i++) pages.set(textPage(100 + i), i * PAGE);
      expect(pool.storeBatch(0, offsets, pages, new Int8Array(6))).toBe(6);
      expect(area(0)).toEqual([7, compressed() - c2]);
      expect(pool.loadBatch(0, offsets.subarray(0, 2), new Uint8Array(2 * PAGE), new Uint8Array(2), true)).toBe(2);
      pool.invalidateBatch(0, offsets.subarray(2, 3));
      expect(area(0)).toEqual([4, compressed() - c2]);
      sumsMatch();

      pool.invalidateArea(1); // (its page could share a frame with one of area 0's: never written back)
      expect(area(1)).toEqual([0, 0]);
      sumsMatch();

      // Written-back pages leave their area; same-filled ones stay.
      while (pool.writebackSync(8) > 0);
      expect(counters(pool)['zcache/written_back_pages']).toBe(3);
      expect(area(0)).toEqual([1, 0]);
      sumsMatch();

      const rangeError = (fn: () => unknown) => expect(fn).toThrow(RangeError);
      rangeError(() => pool.areaStats(32, out));
      rangeError(() => pool.areaStats(-1, out));
      rangeError(() => pool.areaStats(0, new Float64Array(1)));
      expect(() => (pool as unknown as Record<string, (...a: unknown[]) => unknown>).areaStats(0, new Float32Array(2))).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
      );
      pool.close();
      expect(() => pool.areaStats(0, out)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the zcache backend's frontswap.areaStats reads the pool's per-area counts", async () => {
    const backend = createZcache(parseZcacheOptions({ maxPoolBytes: 16 << 20, writeback: false }));
    const fs = backend.frontswap;
    fs.init(2, { type: 2, pages: 16, path: '/nonexistent', fd: -1 });
    expect(fs.areaStats?.(2)).toEqual({ pages: 0, compressedBytes: 0 });
    expect(fs.store(2, 0, textPage(5))).toBe(true);
    expect(fs.store(2, 1, filledPage(0))).toBe(true);
    const bytes = backend.stats().zcache.compressed_bytes;
    expect(bytes).toBeGreaterThan(0);
    const first = fs.areaStats?.(2);
    expect(first).toEqual({ pages: 2, compressedBytes: bytes });
    fs.invalidatePage(2, 0);
    expect(fs.areaStats?.(2)).toEqual({ pages: 1, compressedBytes: 0 });
    expect(first).toEqual({ pages: 2, compressedBytes: bytes }); // a fresh object each call
    expect(fs.areaStats?.(9)).toEqual({ pages: 0, compressedBytes: 0 });
    await backend.close();
  });

  it('writes back on the thread pool and synchronously; checks its arguments; close() with batches queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tmem-binding-'));
    const fd = openSync(join(dir, 'swap'), 'w+');
    try {
      ftruncateSync(fd, 2048 * PAGE);
      const pool = new b.Pool({ maxPoolBytes: 16 << 20, acceptThresholdPercent: 50 });
      pool.initArea(0, 2048, fd);
      pool.initArea(1, 16, -1); // no file: never written back
      for (let off = 0; off < 1000; off++) pool.store(0, off, textPage(off));
      pool.store(0, 1000, filledPage(7)); // same-filled: no frame, never written back
      pool.store(1, 3, textPage(3));
      expect(pool.poolBytes()).toBe(counters(pool)['zcache/pool_total_size']);
      const written = await new Promise<number>((resolve, reject) =>
        pool.writeback(100, (err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(written).toBeGreaterThanOrEqual(99);
      expect(written).toBeLessThanOrEqual(100);
      expect(pool.writebackSync(50)).toBeGreaterThanOrEqual(49);
      const c = counters(pool);
      expect(c['zcache/written_back_pages']).toBe(1000 - c['zcache/stored_pages'] + 2);
      expect(c['zcache/outstanding_writeback_pages']).toBe(0);
      // Written-back pages miss and are in the file; the others still hit.
      const into = new Uint8Array(PAGE);
      let misses = 0;
      for (let off = 0; off < 1000; off++) {
        if (!pool.load(0, off, into, false)) {
          misses++;
          readSync(fd, into, 0, PAGE, off * PAGE);
        }
        expect(Buffer.compare(into, textPage(off))).toBe(0);
      }
      expect(misses).toBe(c['zcache/written_back_pages']);
      while (pool.writebackSync(256) > 0);
      expect(counters(pool)['zcache/stored_pages']).toBe(2);

      const p = pool as unknown as Record<string, (...args: unknown[]) => unknown>;
      expect(() => p.writeback(0.5, () => {})).toThrow(RangeError);
      expect(() => p.writeback(-1, () => {})).toThrow(RangeError);
      expect(() => p.writeback(10)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => p.writebackSync('1')).toThrow(TypeError);
      expect(() => new b.Pool({ acceptThresholdPercent: 101 })).toThrow(RangeError);

      // Batches queued and then the pool closed at once: they complete (with 0 if they had not
      // started), close() waited for any that were writing.
      for (let off = 0; off < 1000; off++) pool.store(0, off, textPage(off + 1));
      const done = Array.from({ length: 8 }, () => new Promise<number>((resolve) => pool.writeback(64, (_e, n) => resolve(n))));
      pool.close();
      const results = await Promise.all(done);
      for (const n of results) expect(n).toBeGreaterThanOrEqual(0);
      expect(() => pool.writebackSync(1)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
      expect(() => pool.poolBytes()).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker exiting with writebacks in flight frees its pool safely', async () => {
    const root = packageRoot();
    const dir = mkdtempSync(join(tmpdir(), 'tmem-binding-'));
    const code = `
      const fs = require('node:fs');
      const b = require(${JSON.stringify(require.resolve('node-gyp-build', { paths: [root] }))})(${JSON.stringify(root)});
      const fd = fs.openSync(${JSON.stringify(join(dir, 'swap'))} + require('node:worker_threads').threadId, 'w+');
      const pool = new b.Pool({ maxPoolBytes: 64 << 20 });
      pool.initArea(0, 8192, fd);
      for (let off = 0; off < 8192; off++) pool.store(0, off, Buffer.alloc(4096, 'page ' + off));
      for (let i = 0; i < 32; i++) pool.writeback(256, () => {});
      process.exit(0); // the environment goes away with batches queued and running
    `;
    try {
      for (let round = 0; round < 4; round++) {
        const worker = new Worker(code, { eval: true });
        const exitCode = await new Promise((resolve, reject) => {
          worker.once('exit', resolve);
          worker.once('error', reject);
        });
        expect(exitCode).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works in worker threads, and frees pools that were never closed when a worker exits', async () => {
    const root = packageRoot();
    const code = `
      const { parentPort } = require('node:worker_threads');
      const b = require(${JSON.stringify(require.resolve('node-gyp-build', { paths: [root] }))})(${JSON.stringify(root)});
      const pools = [];
      for (let i = 0; i < 4; i++) {
        const pool = new b.Pool({ maxPoolBytes: 1 << 30 });
        pool.initArea(0, 4096, -1);
        const page = Buffer.alloc(4096, 'worker ' + i);
        for (let off = 0; off < 4096; off++) pool.store(0, off, page);
        pools.push(pool);
      }
      const into = new Uint8Array(4096);
      parentPort.postMessage(pools[3].load(0, 17, into, false) && Buffer.from(into).toString('latin1', 0, 8));
    `;
    for (let round = 0; round < 3; round++) {
      // The worker ends on its own with its pools still open: their cleanup hooks free them.
      const worker = new Worker(code, { eval: true });
      let message: unknown;
      worker.on('message', (m) => (message = m));
      const exitCode = await new Promise((resolve, reject) => {
        worker.once('exit', resolve);
        worker.once('error', reject);
      });
      expect(exitCode).toBe(0);
      expect(message).toBe('worker 3');
    }
  });
});
