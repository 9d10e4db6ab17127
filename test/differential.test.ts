// Randomized differential test: ≥100,000 random store/load/invalidate/invalidate-area ops on
// zero-filled, same-filled, compressible and random pages, every load checked against a reference
// model of what frontswap must hold (a refused store drops the old copy, so the model does too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontswap, loadBackend, swapon, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
import { filledPage, PAGE, randomPage, tempDir, textPage, zeroPage } from './support/pages';
import { rng } from './support/rng';
import { backendsUnderTest } from './support/backends';


const OPS = 120_000;
const SLOTS = 2048;

describe.each(backendsUnderTest)('differential test with $label', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  let tmp: ReturnType<typeof tempDir>;
  let areas: SwapArea[];
  const library: Uint8Array[] = [];

  beforeAll(async () => {
    tmp = tempDir();
    areas = [0, 1, 2].map((i) => swapon(`${tmp.dir}/swap${i}`, { pages: SLOTS }));
    await load();
    for (let i = 0; i < 64; i++) library.push(zeroPage(), filledPage(i * 0x01010101), textPage(i), randomPage());
  });

  afterAll(async () => {
    await unloadBackend(name);
    for (const a of areas) a.swapoff();
    tmp.cleanup();
  });

  it(`${OPS} random ops agree with the model`, () => {
    const seed = Number(process.env.TMEM_SEED ?? 20261121);
    const rand = rng(seed);
    // model[area][offset] = index into `library` + 1, 0 when frontswap must not hold the offset.
    const model = areas.map(() => new Int32Array(SLOTS));
    const into = new Uint8Array(PAGE);
    const batchOffsets = new Uint32Array(8);
    const batchPages = new Uint8Array(8 * PAGE);
    const batchInto = new Uint8Array(8 * PAGE);
    let hits = 0;
    let stores = 0;
    for (let op = 0; op < OPS; op++) {
      const a = Math.floor(rand() * areas.length);
      const type = areas[a].type;
      const m = model[a];
      const offset = 1 + Math.floor(rand() * (SLOTS - 1));
      const r = rand();
      if (r < 0.45) {
        const id = Math.floor(rand() * library.length);
        const ok = frontswap.store(type, offset, library[id]);
        m[offset] = ok ? id + 1 : 0;
        if (ok) stores++;
      } else if (r < 0.8) {
        const exclusive = rand() < 0.2;
        const hit = frontswap.load(type, offset, into, { exclusive });
        if (m[offset] === 0) {
          expect(hit, `op ${op} (seed ${seed}): load of offset ${offset} hit after it was dropped`).toBe(false);
        } else {
          expect(hit, `op ${op} (seed ${seed}): stored page ${offset} missed`).toBe(true);
          if (Buffer.compare(into, library[m[offset] - 1]) !== 0) {
            throw new Error(`op ${op} (seed ${seed}): area ${a} offset ${offset} loaded wrong bytes`);
          }
          hits++;
          if (exclusive) m[offset] = 0;
        }
      } else if (r < 0.95) {
        frontswap.invalidatePage(type, offset);
        m[offset] = 0;
      } else if (r < 0.9998) {
        // A batch store then batch load of distinct offsets.
        const n = 1 + Math.floor(rand() * 8);
        for (let i = 0; i < n; i++) batchOffsets[i] = 1 + ((offset + i * 131) % (SLOTS - 1));
        const ids = Array.from({ length: n }, () => Math.floor(rand() * library.length));
        ids.forEach((id, i) => batchPages.set(library[id], i * PAGE));
        const offs = batchOffsets.subarray(0, n);
        const stored = frontswap.storeBatch(type, offs, batchPages.subarray(0, n * PAGE));
        for (let i = 0; i < n; i++) m[offs[i]] = stored[i] ? ids[i] + 1 : 0;
        const got = frontswap.loadBatch(type, offs, batchInto.subarray(0, n * PAGE));
        for (let i = 0; i < n; i++) {
          expect(got[i]).toBe(m[offs[i]] === 0 ? 0 : 1);
          if (got[i] && Buffer.compare(batchInto.subarray(i * PAGE, (i + 1) * PAGE), library[m[offs[i]] - 1]) !== 0) {
            throw new Error(`op ${op} (seed ${seed}): batch load of offset ${offs[i]} returned wrong bytes`);
          }
        }
      } else {
        frontswap.invalidateArea(type);
        m.fill(0);
      }
    }
    let held = 0;
    for (const m of model) for (const v of m) if (v) held++;
    expect(frontswap.currPages()).toBe(held);
    expect(hits).toBeGreaterThan(OPS / 20);
    expect(stores).toBeGreaterThan(OPS / 5);
  });
});
