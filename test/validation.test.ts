// Bad input gets a clear error and leaves state exactly as it was: every rejected call below is
// followed by a check that nothing moved (counters, slots, stored pages, readable bytes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOCATORS, compactBackend, debugfs, frontswap, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { PAGE, tempDir, textPage } from './support/pages';

describe.each(['zcache', 'zcache-js'] as const)('argument validation with %s', (name) => {
  let tmp: ReturnType<typeof tempDir>;
  let area: SwapArea;
  let off: number;
  const page = textPage(42);

  beforeAll(async () => {
    tmp = tempDir();
    area = swapon(`${tmp.dir}/swap`, { pages: 64 });
    await loadBackend(name);
    off = area.writePage(page);
  });

  afterAll(async () => {
    await unloadBackend(name);
    if (area.active) area.swapoff();
    tmp.cleanup();
  });

  function expectUnchanged(fn: () => unknown, error: object) {
    const before = debugfs.snapshot();
    const used = area.usedPages;
    expect(fn).toThrow(expect.objectContaining(error));
    expect(debugfs.snapshot()).toEqual(before);
    expect(area.usedPages).toBe(used);
    expect(Buffer.compare(area.readPage(off, new Uint8Array(PAGE)), page)).toBe(0);
  }

  it('rejects pages of the wrong size or type', () => {
    expectUnchanged(() => area.writePage(new Uint8Array(4095)), { name: 'RangeError' });
    expectUnchanged(() => area.writePage(new Uint8Array(8192)), { name: 'RangeError' });
    expectUnchanged(() => area.writePage('x'.repeat(4096) as never), { name: 'TypeError' });
    expectUnchanged(() => area.writePage(new Uint16Array(2048) as never), { name: 'TypeError' });
    expectUnchanged(() => area.readPage(off, new Uint8Array(100)), { name: 'RangeError' });
    expectUnchanged(() => frontswap.store(area.type, 3, new Uint8Array(10)), { name: 'RangeError' });
    expectUnchanged(() => frontswap.load(area.type, off, null as never), { name: 'TypeError' });
    expectUnchanged(() => area.writePages(new Uint8Array(PAGE + 1)), { name: 'TypeError' });
  });

  it('rejects non-integer, negative and out-of-range offsets', () => {
    const into = new Uint8Array(PAGE);
    expectUnchanged(() => area.readPage(1.5, into), { name: 'TypeError' });
    expectUnchanged(() => area.readPage(-1, into), { name: 'RangeError' });
    expectUnchanged(() => area.readPage(64, into), { name: 'RangeError' });
    expectUnchanged(() => area.readPage(0, into), { name: 'RangeError' }); // the header slot
    expectUnchanged(() => area.readPage(Number.NaN, into), { name: 'TypeError' });
    expectUnchanged(() => area.readPage('1' as never, into), { name: 'TypeError' });
    expectUnchanged(() => frontswap.store(area.type, 64, page), { name: 'RangeError' });
    expectUnchanged(() => frontswap.invalidatePage(area.type, -3), { name: 'RangeError' });
    expectUnchanged(() => area.readPages(Uint32Array.of(off, 99), new Uint8Array(2 * PAGE)), { name: 'RangeError' });
    expectUnchanged(() => area.freePages([off] as never), { name: 'TypeError' });
  });

  it('rejects slots that hold no page, and double frees, as a whole batch', () => {
    const into = new Uint8Array(PAGE);
    expectUnchanged(() => area.readPage(off + 1, into), { code: 'ERR_TMEM_SLOT_NOT_IN_USE' });
    expectUnchanged(() => area.freePage(off + 1), { code: 'ERR_TMEM_SLOT_NOT_IN_USE' });
    expectUnchanged(() => area.freePages(Uint32Array.of(off, off + 1)), { code: 'ERR_TMEM_SLOT_NOT_IN_USE' });
    expectUnchanged(() => area.freePages(Uint32Array.of(off, off)), { name: 'RangeError' });
    expectUnchanged(() => frontswap.storeBatch(area.type, Uint32Array.of(5, 5), new Uint8Array(2 * PAGE)), { name: 'RangeError' });
  });

  it('rejects unknown areas', () => {
    expectUnchanged(() => frontswap.store(31, 1, page), { code: 'ERR_TMEM_UNKNOWN_AREA' });
    expectUnchanged(() => frontswap.load(32, 1, new Uint8Array(PAGE)), { name: 'RangeError' });
    expectUnchanged(() => frontswap.invalidateArea(-1), { name: 'RangeError' });
  });

  it('rejects bad swapon and backend arguments', async () => {
    expectUnchanged(() => swapon(`${tmp.dir}/swap`, { pages: 64 }), { code: 'EEXIST' });
    expectUnchanged(() => swapon(`${tmp.dir}/other`, { pages: 1 }), { name: 'RangeError' });
    expectUnchanged(() => swapon(`${tmp.dir}/other`, { pages: 10, page: 1 } as never), { name: 'TypeError' });
    expectUnchanged(() => swapon('', { pages: 10 }), { name: 'TypeError' });
    await expect(loadBackend(name)).rejects.toMatchObject({ code: 'ERR_TMEM_BACKEND_LOADED' });
    await expect(loadBackend('zswap' as never)).rejects.toMatchObject({ code: 'ERR_TMEM_UNKNOWN_BACKEND' });
    await expect(unloadBackend(name === 'zcache' ? 'zcache-js' : 'zcache')).rejects.toMatchObject({
      code: 'ERR_TMEM_BACKEND_NOT_LOADED',
    });
    expect(() => debugfs.read('zcache/no_such_counter')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NO_COUNTER' }));
  });

  it('a full area refuses a write with a coded error and stores nothing', () => {
    const small = swapon(`${tmp.dir}/small`, { pages: 4 });
    try {
      const offs = small.writePages(new Uint8Array(3 * PAGE).fill(7));
      expect(small.freeSlots).toBe(0);
      const before = debugfs.snapshot();
      expect(() => small.writePage(page)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAP_FULL' }));
      small.freePage(offs[0]);
      expect(() => small.writePages(new Uint8Array(2 * PAGE))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAP_FULL' }));
      expect(small.usedPages).toBe(2);
      expect(debugfs.snapshot()['frontswap/succ_stores']).toBe(before['frontswap/succ_stores']);
    } finally {
      small.swapoff();
    }
  });

  it('use after swapoff is a coded error', () => {
    const gone = swapon(`${tmp.dir}/gone`, { pages: 8 });
    const o = gone.writePage(page);
    gone.swapoff();
    expect(() => gone.readPage(o, new Uint8Array(PAGE))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAPPED_OFF' }));
    expect(() => gone.writePage(page)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAPPED_OFF' }));
    expect(() => gone.swapoff()).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAPPED_OFF' }));
    expect(() => frontswap.load(gone.type, o, new Uint8Array(PAGE))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_UNKNOWN_AREA' }));
  });

  it('the swap file is created exclusively with mode 0600', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(area.path).mode & 0o777).toBe(0o600);
    expect(statSync(area.path).size).toBe(64 * PAGE);
  });
});

describe('allocator option', () => {
  it('names an allocator the backend has, else the load changes nothing', async () => {
    await expect(loadBackend('zcache', { allocator: 'slab' as never })).rejects.toThrow(RangeError);
    await expect(loadBackend('zcache-js', { allocator: 42 as never })).rejects.toThrow(RangeError);
    for (const backend of ['zcache', 'zcache-js'] as const) {
      const missing = (['zsmalloc', 'z3fold', 'zbud'] as const).filter((a) => !ALLOCATORS[backend].includes(a));
      for (const allocator of missing) {
        await expect(loadBackend(backend, { allocator })).rejects.toMatchObject({ code: 'ERR_TMEM_UNSUPPORTED' });
      }
      expect(loadedBackend()).toBe(null);
      await loadBackend(backend, { allocator: ALLOCATORS[backend][0] });
      expect(compactBackend()).toBeGreaterThanOrEqual(0);
      await unloadBackend(backend);
    }
    expect(compactBackend()).toBe(0);
  });
});
