// zcache-js under a pool limit, for each of its allocators: zswap's accept-threshold hysteresis,
// writeback of the LRU entries to the swap files (background batches and direct reclaim), second
// chance for recently loaded pages, raw pages. Through the public API except the last test, which
// drives the writeback mechanics directly.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOCATORS, parseZcacheOptions } from '../lib/backends/options';
import { createZcacheJs } from '../lib/backends/zcache-js';
import type { WritebackMechanics } from '../lib/backends/writeback-policy';
import { debugfs, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
import { swapHarness } from './support/harness';
import { equalPages, filledPage, PAGE, randomPage, textPage } from './support/pages';

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const zc = (name: string): number => debugfs.read(`zcache/${name}`);


const swapStat = (a: SwapArea, name: string): number => debugfs.read(`swap/${a.type}/${name}`);

function expectPage(a: SwapArea, offset: number, want: Uint8Array, into = new Uint8Array(PAGE)): void {
  a.readPage(offset, into);
  if (!equalPages(into, want)) throw new Error(`slot ${offset} read back wrong bytes`);
}

describe.each(ALLOCATORS['zcache-js'])('zcache-js with %s', (allocator) => {
  const harness = swapHarness('zcache-js');
  const setup = (pages: number, options: ZcacheOptions): Promise<SwapArea> => harness.setup(pages, { allocator, ...options });

  describe('pool limit hysteresis (writeback off)', () => {
    it('refuses stores once full until the pool is under acceptThresholdPercent; same-filled pages always', async () => {
      // 40 frames, threshold 90%: accepting again needs fewer than 36 frames in use.
      const a = await setup(256, { maxPoolBytes: 40 * PAGE, writeback: false, storeIncompressible: true });
      const pages = new Map<number, Uint8Array>();
      const write = (p: Uint8Array): { off: number; stored: boolean } => {
        const before = swapStat(a, 'frontswap_pages');
        const off = a.writePage(p);
        pages.set(off, p);
        return { off, stored: swapStat(a, 'frontswap_pages') === before + 1 };
      };
      const free = (off: number): void => {
        a.freePage(off);
        pages.delete(off);
      };
      const inPool: number[] = [];
      for (let i = 0; i < 40; i++) {
        const r = write(randomPage()); // stored raw: one whole frame each
        expect(r.stored).toBe(true);
        inPool.push(r.off);
      }
      expect(zc('pool_total_size')).toBe(40 * PAGE);
      expect(write(randomPage()).stored).toBe(false); // no frame left
      expect([zc('pool_limit_hit'), zc('reject_alloc_fail')]).toEqual([1, 1]);
      expect(write(textPage(1)).stored).toBe(false); // reached full: refused before any allocation
      expect([zc('pool_limit_hit'), zc('reject_alloc_fail')]).toEqual([2, 1]);
      expect(write(filledPage(0x7f7f7f7f)).stored).toBe(true); // same-filled: no frame needed
      // Down to 36 frames: not under 90% of 40 yet.
      for (let i = 0; i < 4; i++) free(inPool.shift()!);
      expect(zc('pool_total_size')).toBe(36 * PAGE);
      expect(write(randomPage()).stored).toBe(false);
      expect(zc('pool_limit_hit')).toBe(3);
      // 35 frames: under the threshold, the flag clears and stores are accepted again up to the cap.
      free(inPool.shift()!);
      for (let i = 0; i < 5; i++) expect(write(randomPage()).stored).toBe(true);
      expect(zc('pool_total_size')).toBe(40 * PAGE);
      expect(write(randomPage()).stored).toBe(false);
      expect([zc('pool_limit_hit'), zc('reject_alloc_fail'), zc('written_back_pages')]).toEqual([4, 2, 0]);
      // Every page in use reads back exactly, from the pool or (refused ones) from the file.
      for (const [off, p] of pages) expectPage(a, off, p);
    });
  });

  describe('writeback to the swap file', () => {
    const POOL = 1 << 20;
    const N = 5000;

    it(`${N} pages through a 1 MiB pool with yields: bounded, written back, every page exact`, async () => {
      const a = await setup(N + 16, { maxPoolBytes: POOL });
      const offs = new Uint32Array(N);
      let maxPool = 0;
      for (let i = 0; i < N; i++) {
        offs[i] = a.writePage(textPage(i));
        const pool = zc('pool_total_size');
        if (pool > maxPool) maxPool = pool;
        if (pool > POOL) throw new Error(`write ${i}: pool_total_size ${pool} > ${POOL}`);
        if (i % 50 === 49) await yieldToLoop();
      }
      expect(maxPool).toBeGreaterThan(POOL * 0.8);
      console.log(
        `1 MiB pool, ${N} pages: written_back_pages ${zc('written_back_pages')}, pool_limit_hit ${zc('pool_limit_hit')}, ` +
          `max pool ${maxPool} bytes`,
      );
      expect(zc('written_back_pages')).toBeGreaterThan(0);
      const readsBefore = swapStat(a, 'file_reads');
      const loadsBefore = debugfs.read('frontswap/loads');
      const into = new Uint8Array(PAGE);
      for (let i = 0; i < N; i++) expectPage(a, offs[i], textPage(i), into);
      const fromFile = swapStat(a, 'file_reads') - readsBefore;
      const fromPool = debugfs.read('frontswap/loads') - loadsBefore;
      expect(fromFile + fromPool).toBe(N);
      expect(fromFile).toBeGreaterThanOrEqual(zc('written_back_pages') > N / 2 ? N / 2 : 1);
      expect(fromPool).toBeGreaterThan(0);
      expect(zc('reject_reclaim_fail')).toBe(0);
      // Unload flushes background writeback, then drains the pool to the file: still every page exact.
      await unloadBackend('zcache-js');
      for (let i = 0; i < N; i++) expectPage(a, offs[i], textPage(i), into);
    });

    it('gives a recently loaded frame a second chance over an older one', async () => {
      // 32 frames; raw pages take one frame each. Writeback starts at 16 frames and stops under 14.4,
      // one page per batch: exactly two pages go, the two least recently used unreferenced ones.
      const a = await setup(256, {
        maxPoolBytes: 32 * PAGE,
        storeIncompressible: true,
        writeback: { highWatermarkPercent: 50, lowWatermarkPercent: 45, batchPages: 1, maxInFlightPages: 1, directReclaimPages: 0 },
      });
      const src = Array.from({ length: 16 }, () => randomPage());
      const offs = src.slice(0, 15).map((p) => a.writePage(p));
      expect(zc('pool_total_size')).toBe(15 * PAGE);
      expectPage(a, offs[0], src[0]); // the oldest frame is referenced now
      offs.push(a.writePage(src[15])); // 16 frames: background writeback starts
      expect(zc('outstanding_writeback_pages')).toBe(1);
      for (let i = 0; i < 10; i++) await yieldToLoop();
      expect([zc('written_back_pages'), zc('outstanding_writeback_pages'), zc('pool_total_size')]).toEqual([2, 0, 14 * PAGE]);
      const reads = (): number => swapStat(a, 'file_reads');
      const r0 = reads();
      expectPage(a, offs[0], src[0]);
      expect(reads()).toBe(r0); // survived: still in the pool
      expectPage(a, offs[1], src[1]);
      expectPage(a, offs[2], src[2]);
      expect(reads()).toBe(r0 + 2); // written back: read from the file
      for (let i = 3; i < 16; i++) expectPage(a, offs[i], src[i]);
      expect(reads()).toBe(r0 + 2);
    });

    it('makes progress by direct reclaim in a tight loop that never yields', async () => {
      const a = await setup(N + 16, { maxPoolBytes: POOL });
      const offs = new Uint32Array(N);
      for (let i = 0; i < N; i++) {
        offs[i] = a.writePage(textPage(i));
        if (zc('pool_total_size') > POOL) throw new Error(`write ${i}: pool over its cap`);
      }
      // No await so far: background batches have not run, only direct reclaim.
      const written = zc('written_back_pages');
      expect(written).toBeGreaterThan(0);
      expect(zc('pool_limit_hit')).toBeGreaterThan(0);
      const into = new Uint8Array(PAGE);
      for (let i = 0; i < N; i++) expectPage(a, offs[i], textPage(i), into);
      // Refused stores went to the file themselves: pool + written back + refused = all pages.
      expect(debugfs.read('frontswap/succ_stores')).toBeGreaterThan(written);
    });

    it('writes raw (incompressible) pages back and reads them exactly', async () => {
      const a = await setup(600, { maxPoolBytes: 64 * PAGE, storeIncompressible: true });
      const src: Uint8Array[] = [];
      const offs: number[] = [];
      let maxRaw = 0;
      for (let i = 0; i < 500; i++) {
        src.push(randomPage());
        offs.push(a.writePage(src[i]));
        maxRaw = Math.max(maxRaw, zc('stored_incompressible_pages'));
        if (zc('pool_total_size') > 64 * PAGE) throw new Error('pool over its cap');
        if (i % 25 === 24) await yieldToLoop();
      }
      expect(maxRaw).toBeGreaterThan(32);
      expect(zc('written_back_pages')).toBeGreaterThan(100);
      expect(zc('reject_compress_poor')).toBe(0);
      const r0 = swapStat(a, 'file_reads');
      for (let i = 0; i < 500; i++) expectPage(a, offs[i], src[i]);
      expect(swapStat(a, 'file_reads') - r0).toBeGreaterThan(100);
    });
  });

  describe('writeback mechanics', () => {
    it('writes adjacent slots in coalesced pwrites; async batches count as outstanding', async () => {
      const N = 8192;
      const path = join(harness.dir, 'mech-swap');
      const fd = fs.openSync(path, 'w+');
      try {
        fs.ftruncateSync(fd, (N + 1) * PAGE);
        const b = createZcacheJs(parseZcacheOptions({ maxPoolBytes: 64 << 20, writeback: false, allocator }));
        const mech = b.frontswap as unknown as WritebackMechanics;
        b.frontswap.init(0, { type: 0, pages: N + 1, path, fd });
        for (let i = 1; i <= N; i++) expect(b.frontswap.store(0, i, textPage(i))).toBe(true);
        expect(mech.poolBytes()).toBe(b.stats().zcache.pool_total_size);
        const written = mech.writebackSync(N);
        expect(written).toBe(N);
        expect(mech.poolBytes()).toBe(0);
        const into = new Uint8Array(PAGE);
        for (let i = 1; i <= N; i++) {
          fs.readSync(fd, into, 0, PAGE, i * PAGE);
          if (!equalPages(into, textPage(i))) throw new Error(`slot ${i} of the file holds wrong bytes`);
          expect(b.frontswap.load(0, i, into, false)).toBe(false);
        }
        // Async form: counted as outstanding while scheduled.
        for (let i = 1; i <= 100; i++) b.frontswap.store(0, i, textPage(-i));
        const pending = mech.writeback(10);
        expect(b.stats().zcache.outstanding_writeback_pages).toBe(10);
        expect(await pending).toBeGreaterThanOrEqual(10);
        expect(b.stats().zcache.outstanding_writeback_pages).toBe(0);
        expect(b.stats().zcache.written_back_pages).toBe(N + (await pending));
        await b.flush();
        await b.close();
      } finally {
        fs.closeSync(fd);
      }
    });
  });
});
