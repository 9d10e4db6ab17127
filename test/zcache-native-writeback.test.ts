// The native zcache under a pool limit, through the public API, for each of its allocators:
// writeback batches run on the libuv thread pool while the main thread keeps storing and reading;
// a race of async writebacks against invalidations, re-stores (refused ones going to the file)
// and loads of the same slots, checked against a model; swapoff and unload with batches in flight. (I/O faults:
// writeback-faults.test.ts; throughput: npm run bench.)
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  debugfs,
  frontswap,
  unloadBackend,
  type SwapArea,
} from '../lib/index';
import { backendsUnderTest } from './support/backends';
import { swapHarness } from './support/harness';
import { equalPages, PAGE, randomPage, textPage } from './support/pages';
import { rng } from './support/rng';

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const zc = (name: string): number => debugfs.read(`zcache/${name}`);
const busyWaitMs = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function expectPage(a: SwapArea, offset: number, want: Uint8Array, into = new Uint8Array(PAGE)): void {
  a.readPage(offset, into);
  if (!equalPages(into, want)) throw new Error(`slot ${offset} read back wrong bytes`);
}

describe.each(backendsUnderTest.filter((b) => b.backend === 'zcache'))('native zcache writeback ($label)', ({ allocator }) => {
  const harness = swapHarness('zcache', allocator);
  const setup = harness.setup;

  it('runs on the thread pool while the main thread keeps storing and reading; every page reads back', async () => {
    const POOL = 256 * PAGE;
    const a = await setup(8192, { maxPoolBytes: POOL, writeback: { batchPages: 64, maxInFlightPages: 256 } });
    const offs: number[] = [];
    let waitsWithProgress = 0;
    let maxPool = 0;
    const into = new Uint8Array(PAGE);
    for (let i = 0; i < 6000; i++) {
      offs.push(a.writePage(textPage(i)));
      if (i % 7 === 0) expectPage(a, offs[(i * 31) % offs.length], textPage((i * 31) % offs.length), into);
      maxPool = Math.max(maxPool, zc('pool_total_size'));
      if (i % 50 === 49) await yieldToLoop(); // finished batches report back; the policy starts the next ones
      // From here to the last read: no JS yield and no store, so no direct reclaim and no
      // callbacks: any page written back in between was written by another thread. While a batch
      // is writing, wait for it (up to 2 s: on a loaded machine the pool thread may not be
      // scheduled for a while); otherwise look for a fraction of a millisecond, in which a batch
      // picked meanwhile may land. The counter is read with pauses (each read takes the pool's
      // mutex, which the batch needs to finish).
      const w0 = zc('written_back_pages');
      const running = zc('outstanding_writeback_pages') > 0;
      const until = performance.now() + (running ? 2000 : 0.2);
      while (performance.now() < until && zc('written_back_pages') === w0) busyWaitMs(0.1);
      if (zc('written_back_pages') > w0) waitsWithProgress++;
    }
    const written = zc('written_back_pages');
    console.log(
      `native writeback: ${written} pages written back; during ${waitsWithProgress} of ${offs.length} busy main-thread ` +
        `waits pages were written back by the thread pool; pool_limit_hit ${zc('pool_limit_hit')}, max pool ${maxPool / PAGE} frames`,
    );
    expect(written).toBeGreaterThan(3000);
    expect(waitsWithProgress).toBeGreaterThan(0);
    expect(maxPool).toBeLessThanOrEqual(POOL);
    const reads0 = debugfs.read(`swap/${a.type}/file_reads`);
    for (let i = 0; i < offs.length; i++) expectPage(a, offs[i], textPage(i), into);
    expect(debugfs.read(`swap/${a.type}/file_reads`) - reads0).toBeGreaterThan(3000);
    // flush() waits for running batches: nothing outstanding afterwards.
    await unloadBackend('zcache');
    expect(debugfs.list('zcache')).toEqual([]);
    for (let i = 0; i < offs.length; i++) expectPage(a, offs[i], textPage(i), into);
  });

  it('race: async writebacks vs invalidate, re-store (refused ones to the file) and load of the same slots, 150k ops vs a model', async () => {
    const SLOTS = 2048;
    const a = await setup(SLOTS, {
      maxPoolBytes: 96 * PAGE,
      writeback: { batchPages: 16, maxInFlightPages: 64, directReclaimPages: 8, lowWatermarkPercent: 50, highWatermarkPercent: 70 },
    });
    // A second descriptor of the swap file, for the swap layer's fallback of a refused re-store.
    const fd = fs.openSync(a.path, 'r+');
    const rand = rng(Number(process.env.TMEM_SEED ?? 4242));
    const want: (Uint8Array | null)[] = new Array(SLOTS).fill(null);
    const live: number[] = [];
    const into = new Uint8Array(PAGE);
    const pageFor = (): Uint8Array => {
      const r = rand();
      if (r < 0.1) return randomPage(); // refused: compress_poor
      return textPage(Math.floor(rand() * 1e6));
    };
    let refusedRestores = 0;
    let maxPool = 0;
    const OPS = 150_000;
    try {
      for (let op = 0; op < OPS; op++) {
        const r = rand();
        if (r < 0.25 && live.length < SLOTS - 2) {
          const p = pageFor();
          const off = a.writePage(p);
          want[off] = p;
          live.push(off);
        } else if (live.length === 0) {
          continue;
        } else if (r < 0.45) {
          // Re-store over a held slot, as the kernel does when a swapped page is written out again.
          const off = live[Math.floor(rand() * live.length)];
          const p = pageFor();
          if (!frontswap.store(a.type, off, p)) {
            const sealed = a.seals.seal(off, p, 0, 1);
            fs.writeSync(fd, sealed.bytes, sealed.first * PAGE, PAGE, off * PAGE);
            refusedRestores++;
          }
          want[off] = p;
        } else if (r < 0.8) {
          const off = live[Math.floor(rand() * live.length)];
          a.readPage(off, into);
          if (!equalPages(into, want[off]!)) throw new Error(`op ${op}: slot ${off} read back wrong bytes`);
        } else {
          const i = Math.floor(rand() * live.length);
          const off = live[i];
          if (r < 0.9) {
            a.takePage(off, into);
            if (!equalPages(into, want[off]!)) throw new Error(`op ${op}: take of slot ${off} returned wrong bytes`);
          } else {
            a.freePage(off);
          }
          want[off] = null;
          live[i] = live[live.length - 1];
          live.pop();
        }
        if ((op & 63) === 0) {
          maxPool = Math.max(maxPool, zc('pool_total_size'));
          await yieldToLoop();
        }
      }
      for (const off of live) expectPage(a, off, want[off]!, into);
      console.log(
        `native race: ${OPS} ops, written_back_pages ${zc('written_back_pages')}, refused re-stores ${refusedRestores}, ` +
          `pool_limit_hit ${zc('pool_limit_hit')}, file reads ${debugfs.read(`swap/${a.type}/file_reads`)}`,
      );
      expect(zc('written_back_pages')).toBeGreaterThan(1000);
      expect(refusedRestores).toBeGreaterThan(100);
      expect(maxPool).toBeLessThanOrEqual(96 * PAGE);
      await unloadBackend('zcache');
      for (const off of live) expectPage(a, off, want[off]!, into);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('swapoff and unload with batches in flight wait for them; nothing is lost', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await setup(4096, { maxPoolBytes: 128 * PAGE, writeback: { batchPages: 64, maxInFlightPages: 512 } });
      const offs: number[] = [];
      for (let i = 0; i < 1500; i++) offs.push(a.writePage(textPage(round * 10_000 + i)));
      // Background batches were started by the last stores and have not reported back yet.
      if (round % 2 === 0) {
        a.swapoff(); // invalidateArea waits for this area's pages in flight before the file closes
        await unloadBackend('zcache');
      } else {
        await unloadBackend('zcache'); // flush, then drain through the swap layer
        for (let i = 0; i < offs.length; i++) expectPage(a, offs[i], textPage(round * 10_000 + i));
      }
    }
  });
});
