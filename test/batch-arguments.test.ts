// Batch calls whose arguments share memory, change under them, or lie about themselves (issue 14,
// items 1 and 8). Every batch entry point reads each argument once: offsets are copied before
// anything happens, outputs are written at the end, and typed arrays are measured through their
// internal slots, not through properties a subclass, an own property or a Proxy can fake. Run with
// no backend and with every backend × allocator.
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleancache, debugfs, frontswap, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { backendsUnderTest } from './support/backends';
import { PAGE, tempDir, textPage } from './support/pages';

const cases = [{ label: 'no backend', load: async () => {} }].concat(
  backendsUnderTest.map((b) => ({ label: b.label, load: () => loadBackend(b.backend, { allocator: b.allocator }) })),
);

/** `n` distinct text pages back to back. */
function pagesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * PAGE);
  for (let i = 0; i < n; i++) out.set(textPage(seed + i), i * PAGE);
  return out;
}

/** A Uint8Array of `real` bytes that claims, through every property a caller can override, to have `claimed`. */
function liar(real: number, claimed: number): Uint8Array {
  class Liar extends Uint8Array {
    override get byteLength(): number {
      return claimed;
    }
    override get length(): number {
      return claimed;
    }
  }
  return new Liar(real);
}

describe.each(cases)('batch arguments with $label', ({ load }) => {
  let tmp: ReturnType<typeof tempDir>;
  let area: SwapArea;

  beforeEach(async () => {
    tmp = tempDir();
    area = swapon(`${tmp.dir}/swap`, { pages: 256 });
    await load();
  });

  afterEach(async () => {
    if (area.active) area.swapoff();
    const loaded = loadedBackend();
    if (loaded) await unloadBackend(loaded);
    tmp.cleanup();
  });

  /** Every used slot of `area` still reads back `want[slot]`. */
  function expectIntact(want: Map<number, Uint8Array>): void {
    expect(area.usedPages).toBe(want.size);
    const into = new Uint8Array(PAGE);
    for (const [off, page] of want) expect(Buffer.compare(area.readPage(off, into), page), `slot ${off}`).toBe(0);
  }

  it('readPages and takePages into a buffer that holds the offsets', () => {
    const pages = pagesOf(4, 10);
    const offs = area.writePages(pages);
    const shared = new ArrayBuffer(4 * PAGE);
    const into = new Uint8Array(shared);
    new Uint32Array(shared, 0, 4).set(offs);
    area.readPages(new Uint32Array(shared, 0, 4), into);
    expect(Buffer.compare(into, pages)).toBe(0);
    new Uint32Array(shared, 0, 4).set(offs);
    area.takePages(new Uint32Array(shared, 0, 4), into);
    expect(Buffer.compare(into, pages)).toBe(0);
    expect(area.usedPages).toBe(0);
  });

  it('writePages with the offsets output inside the pages it stores', () => {
    const shared = new ArrayBuffer(4 * PAGE);
    const pages = new Uint8Array(shared);
    pages.set(pagesOf(4, 20));
    const original = pages.slice();
    const offs = new Uint32Array(shared, 0, 4);
    expect(area.writePages(pages, offs)).toBe(offs);
    const want = new Map<number, Uint8Array>();
    for (let i = 0; i < 4; i++) want.set(offs[i], original.subarray(i * PAGE, (i + 1) * PAGE));
    expectIntact(want);
  });

  it('frontswap batch hooks with aliased offsets, pages, results and hits', () => {
    const shared = new ArrayBuffer(4 * PAGE);
    const pages = new Uint8Array(shared);
    pages.set(pagesOf(4, 30));
    const original = pages.slice();
    const offsets = Uint32Array.of(11, 12, 13, 14);
    // results are written over the first bytes of page 0: after the pages were stored, not before.
    const results = frontswap.storeBatch(area.type, offsets, pages, new Uint8Array(shared, 0, 4));
    const stored = Array.from(results);
    const into = new Uint8Array(4 * PAGE);
    const hits = frontswap.loadBatch(area.type, offsets, into);
    for (let i = 0; i < 4; i++) {
      expect(hits[i]).toBe(stored[i]);
      if (hits[i]) expect(Buffer.compare(into.subarray(i * PAGE, (i + 1) * PAGE), original.subarray(i * PAGE, (i + 1) * PAGE))).toBe(0);
    }
    // loadBatch with the offsets inside `into` and the hits inside `into` as well.
    const back = new ArrayBuffer(4 * PAGE);
    new Uint32Array(back, 0, 4).set(offsets);
    const got = frontswap.loadBatch(area.type, new Uint32Array(back, 0, 4), new Uint8Array(back), new Uint8Array(back, 4 * PAGE - 4, 4));
    expect(Array.from(got)).toEqual(stored);
    frontswap.invalidateBatch(area.type, offsets);
    expect(frontswap.currPages()).toBe(0);
  });

  it('offsets in a SharedArrayBuffer that another thread keeps changing', async () => {
    const pages = pagesOf(8, 40);
    const offs = area.writePages(pages);
    const want = new Map<number, Uint8Array>();
    for (let i = 0; i < 8; i++) want.set(offs[i], pages.subarray(i * PAGE, (i + 1) * PAGE));
    // The other thread keeps turning the entries, one after the other, from the slots in use to
    // slots far out of range and back.
    const sab = new SharedArrayBuffer(8 * 4 + 4);
    const shared = new Uint32Array(sab, 0, 8);
    const stop = new Int32Array(sab, 32, 1);
    shared.set(offs);
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const a = new Uint32Array(workerData, 0, 8), stop = new Int32Array(workerData, 32, 1), orig = a.slice();
       for (let r = 0; Atomics.load(stop, 0) === 0; r++) for (let i = 0; i < 8; i++) a[i] = r & 1 ? 0x7fffff00 + i : orig[i];`,
      { eval: true, workerData: sab },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const into = new Uint8Array(8 * PAGE);
    const attempt = (call: () => unknown): boolean => {
      try {
        call();
        return true;
      } catch (err) {
        expect(err).toBeInstanceOf(RangeError);
        return false;
      }
    };
    let ok = 0;
    try {
      for (let round = 0; round < 3000; round++) {
        if (attempt(() => area.readPages(shared, into))) {
          ok++;
          expect(Buffer.compare(into, pages)).toBe(0);
        }
        if (attempt(() => frontswap.loadBatch(area.type, shared, into))) ok++;
      }
      expect(ok).toBeGreaterThan(0);
      expectIntact(want);
      // A call that frees what it read frees exactly the slots it read.
      while (!attempt(() => area.takePages(shared, into)));
      expect(Buffer.compare(into, pages)).toBe(0);
      expect(area.usedPages).toBe(0);
    } finally {
      Atomics.store(stop, 0, 1);
      await worker.terminate();
    }
  });

  it('pages in a SharedArrayBuffer that another thread keeps changing: pool and file hold one version', async () => {
    const sab = new SharedArrayBuffer(4 * PAGE + 4);
    const pages = new Uint8Array(sab, 0, 4 * PAGE);
    const stop = new Int32Array(sab, 4 * PAGE, 1);
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const words = new Uint32Array(workerData, 0, ${PAGE}), stop = new Int32Array(workerData, ${4 * PAGE}, 1);
       for (let r = 1; Atomics.load(stop, 0) === 0; r++) for (let i = 0; i < words.length; i += 7) words[i] = Math.imul(r, 2654435761) >>> (i & 15);`,
      { eval: true, workerData: sab },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const offs: number[] = [];
    frontswap.writethrough = true;
    try {
      for (let round = 0; round < 40; round++) {
        offs.push(area.writePage(pages.subarray(0, PAGE)));
        offs.push(...area.writePages(pages));
        if (offs.length > 200) area.freePages(Uint32Array.from(offs.splice(0, 100)));
      }
    } finally {
      frontswap.writethrough = false;
      Atomics.store(stop, 0, 1);
      await worker.terminate();
    }
    // Whatever version of a page was taken, the pool and the swap file took the same one.
    const { openSync, readSync, closeSync } = await import('node:fs');
    const fd = openSync(area.path, 'r');
    try {
      const fromPool = new Uint8Array(PAGE);
      const fromFile = new Uint8Array(PAGE);
      for (const off of offs) {
        area.readPage(off, fromPool);
        readSync(fd, fromFile, 0, PAGE, off * PAGE);
        expect(Buffer.compare(fromPool, fromFile), `slot ${off}`).toBe(0);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('a Uint8Array that lies about its length is measured by its memory', () => {
    const before = debugfs.snapshot();
    expect(() => area.writePage(liar(16, PAGE))).toThrow(RangeError);
    expect(() => area.writePages(liar(16, PAGE))).toThrow(TypeError);
    expect(() => frontswap.store(area.type, 5, liar(16, PAGE))).toThrow(RangeError);
    expect(debugfs.snapshot()).toEqual(before);
    expect(area.usedPages).toBe(0);
    // Real pages that claim to be small are pages all the same.
    const page = liar(PAGE, 16);
    page.set(textPage(50));
    const off = area.writePage(page);
    const into = liar(PAGE, 3);
    area.readPage(off, into);
    expect(Buffer.compare(into, textPage(50))).toBe(0);
    const two = liar(2 * PAGE, 1);
    two.set(pagesOf(2, 51));
    const offs = area.writePages(two, new Uint32Array(2));
    const back = liar(2 * PAGE, 0);
    area.readPages(offs, back);
    expect(Buffer.compare(back, pagesOf(2, 51))).toBe(0);
    expect(area.usedPages).toBe(3);
  });

  it('objects that only look like typed arrays are refused before anything changes', () => {
    const off = area.writePage(textPage(60));
    const detached = new Uint8Array(PAGE);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    const shadowed = new Uint8Array(16);
    Object.defineProperty(shadowed, 'byteLength', { value: PAGE });
    Object.defineProperty(shadowed, 'length', { value: PAGE });
    const fakes: unknown[] = [
      new Proxy(new Uint8Array(PAGE), {}),
      Object.create(Uint8Array.prototype),
      Object.setPrototypeOf({ length: PAGE, byteLength: PAGE }, Buffer.prototype),
      detached,
      shadowed,
      new DataView(new ArrayBuffer(PAGE)),
    ];
    const before = debugfs.snapshot();
    for (const fake of fakes) {
      const page = fake as Uint8Array;
      expect(() => area.writePage(page)).toThrow(/must be|detached/);
      expect(() => area.writePages(page)).toThrow(/must be|detached/);
      expect(() => area.readPage(off, page)).toThrow(/must be|detached/);
      expect(() => frontswap.store(area.type, 7, page)).toThrow(/must be|detached/);
      expect(() => frontswap.load(area.type, off, page)).toThrow(/must be|detached/);
      expect(() => area.readPages(new Proxy(Uint32Array.of(off), {}), page)).toThrow(TypeError);
    }
    expect(debugfs.snapshot()).toEqual(before);
    expect(area.usedPages).toBe(1);
  });

  it('options are read before the page: a getter that shrinks the page finds it refused', () => {
    const off = area.writePage(textPage(80));
    frontswap.store(area.type, 9, textPage(81));
    const pool = cleancache.initFs();
    try {
      const before = debugfs.snapshot();
      // A length-tracking view of a resizable buffer: a page when the call starts, empty once an
      // options getter has run.
      const buffer = new ArrayBuffer(PAGE, { maxByteLength: 2 * PAGE });
      const page = new Uint8Array(buffer);
      const shrinking = (key: string): object =>
        Object.defineProperty({}, key, {
          enumerable: true,
          get: () => {
            buffer.resize(0);
            return true;
          },
        });
      expect(() => frontswap.load(area.type, 9, page, shrinking('exclusive'))).toThrow(RangeError);
      buffer.resize(PAGE);
      expect(() => cleancache.putPage(pool, 3, 0, page, shrinking('wasActive'))).toThrow(RangeError);
      expect(debugfs.snapshot()).toEqual(before);
      expect(Buffer.compare(area.readPage(off, new Uint8Array(PAGE)), textPage(80))).toBe(0);
    } finally {
      cleancache.invalidateFs(pool);
    }
  });

  it('cleancache pages and keys are read once, through their memory', () => {
    const pool = cleancache.initFs();
    try {
      expect(() => cleancache.putPage(pool, 1, 0, liar(16, PAGE))).toThrow(RangeError);
      expect(() => cleancache.getPage(pool, 1, 0, new Proxy(new Uint8Array(PAGE), {}) as Uint8Array)).toThrow(TypeError);
      class LongKey extends Uint32Array {
        override get length(): number {
          return 6;
        }
      }
      const key = new LongKey(1);
      key[0] = 7;
      cleancache.putPage(pool, key, 0, textPage(70));
      const into = new Uint8Array(PAGE);
      expect(cleancache.getPage(pool, Uint32Array.of(7), 0, into)).toBe(loadedBackend() !== null);
      if (loadedBackend()) expect(Buffer.compare(into, textPage(70))).toBe(0);
    } finally {
      cleancache.invalidateFs(pool);
    }
  });
});
