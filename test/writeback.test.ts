// Writeback under a pool limit (issue #3): a working set four times the pool limit, ≥1,000,000
// random store/load/free ops on real heap pages through a swap area, every load exact, the pool
// never above its limit plus one frame, pages written back to the swap file; an unload in the
// middle of the workload and a reload lose nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfs, loadBackend, swapon, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
// @ts-expect-error plain ES module without types
import { heapPages } from '../bench/corpus/heap-pages.mjs';
import { PAGE, tempDir } from './support/pages';
import { rng } from './support/rng';
import { backendsUnderTest } from './support/backends';

const POOL = 4 << 20;
const WORKING_SET_PAGES = (4 * POOL) / PAGE; // four times the pool limit, in page bytes
const OPS = 1_000_000;
const options = { maxPoolBytes: POOL };


let corpus: Buffer;
beforeAll(async () => {
  corpus = await heapPages({ maxPages: 24_000 });
}, 120_000);

describe.each(backendsUnderTest)('writeback with $label', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  let tmp: ReturnType<typeof tempDir>;
  let area: SwapArea;

  beforeAll(() => {
    tmp = tempDir();
    area = swapon(`${tmp.dir}/swap`, { pages: WORKING_SET_PAGES + 64 });
  });

  afterAll(async () => {
    if (debugfs.list('zcache').length > 0) await unloadBackend(name);
    area.swapoff();
    tmp.cleanup();
  });

  it(`${OPS} random ops on a working set 4x the pool: exact, bounded, written back, unload/reload safe`, async () => {
    await load(options);
    const corpusPages = corpus.length / PAGE;
    const rand = rng(Number(process.env.TMEM_SEED ?? 31337));
    const pageOf = new Int32Array(area.pages).fill(-1); // slot -> corpus page id
    const live = new Uint32Array(WORKING_SET_PAGES); // slots in use, for random picks
    let nLive = 0;
    const into = new Uint8Array(PAGE);
    let maxPool = 0;
    let reads = 0;
    const verifyAll = () => {
      for (let i = 0; i < nLive; i++) {
        area.readPage(live[i], into);
        const id = pageOf[live[i]];
        if (Buffer.compare(into, corpus.subarray(id * PAGE, (id + 1) * PAGE)) !== 0) {
          throw new Error(`slot ${live[i]} read back wrong bytes after unload`);
        }
      }
    };
    for (let op = 0; op < OPS; op++) {
      const r = rand();
      if (nLive < WORKING_SET_PAGES && (r < 0.4 || nLive < WORKING_SET_PAGES / 2)) {
        const id = Math.floor(rand() * corpusPages);
        const off = area.writePage(corpus.subarray(id * PAGE, (id + 1) * PAGE));
        pageOf[off] = id;
        live[nLive++] = off;
      } else if (r < 0.85) {
        const off = live[Math.floor(rand() * nLive)];
        area.readPage(off, into);
        const id = pageOf[off];
        if (Buffer.compare(into, corpus.subarray(id * PAGE, (id + 1) * PAGE)) !== 0) {
          throw new Error(`op ${op}: slot ${off} read back wrong bytes`);
        }
        reads++;
      } else {
        const i = Math.floor(rand() * nLive);
        const off = live[i];
        if (r < 0.9) area.takePage(off, into);
        else area.freePage(off);
        pageOf[off] = -1;
        live[i] = live[--nLive];
      }
      if ((op & 255) === 0) {
        maxPool = Math.max(maxPool, debugfs.read('zcache/pool_total_size'));
        if ((op & 4095) === 0) await new Promise(setImmediate); // let background writeback finish batches
      }
      if (op === OPS / 2) {
        await unloadBackend(name);
        verifyAll();
        await load(options);
      }
    }
    const stats = debugfs.snapshot();
    expect(reads).toBeGreaterThan(OPS / 3);
    expect(maxPool).toBeLessThanOrEqual(POOL + PAGE);
    expect(stats['zcache/written_back_pages']).toBeGreaterThan(0);
    expect(stats[`swap/${area.type}/file_reads`]).toBeGreaterThan(0);
    await unloadBackend(name);
    verifyAll();
  });
});
