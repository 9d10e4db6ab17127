// The swap layer's promises under failure and hostile surroundings (issue 14, items 2, 6, 10, 11):
// a batch read that fails part way changes nothing, swapoff removes only the file swapon created,
// the header slot is the swap layer's alone, counters make sense after swapoff, and a failed
// unload is a coded error that loses nothing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugfs, frontswap, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { backendsUnderTest } from './support/backends';
import { equalPages, PAGE, randomPage, tempDir, textPage } from './support/pages';
import { isRoot, mountTmpfs } from './support/tmpfs';

let tmp: ReturnType<typeof tempDir>;
const areas: SwapArea[] = [];
const area = (name: string, pages: number, dir = tmp.dir): SwapArea => {
  const a = swapon(join(dir, name), { pages });
  areas.push(a);
  return a;
};

beforeEach(() => {
  tmp = tempDir();
});

afterEach(async () => {
  for (const a of areas.splice(0)) if (a.active) a.swapoff();
  const loaded = loadedBackend();
  if (loaded) await unloadBackend(loaded);
  tmp.cleanup();
});

describe.each(backendsUnderTest)('takePages with $label', ({ backend, allocator }) => {
  it('a swap-file read failing part way frees nothing and loses nothing', async () => {
    // Slots 1 and 2 first hold two pages only in the file, then (after a wrap-around) two pages
    // only in the pool; slot 3 holds a page only in the file, which is then cut off the file.
    const a = area('swap', 4);
    await loadBackend(backend, { allocator });
    const old = [randomPage(), randomPage()];
    a.freePages(a.writePages(Buffer.concat(old)));
    const cut = a.writePage(randomPage());
    const fresh = [textPage(1), textPage(2)];
    const offs = a.writePages(Buffer.concat(fresh));
    expect(Array.from(offs)).toEqual([1, 2]);
    expect(cut).toBe(3);
    expect(a.poolUsage.pages).toBe(2);
    fs.truncateSync(a.path, 3 * PAGE);
    const before = debugfs.snapshot();
    expect(() => a.takePages(Uint32Array.of(1, 2, 3), new Uint8Array(3 * PAGE))).toThrow(
      expect.objectContaining({ code: 'ERR_TMEM_IO', message: expect.stringContaining('slot 3') }),
    );
    expect(a.usedPages).toBe(3);
    expect(a.poolUsage.pages).toBe(2);
    expect(debugfs.snapshot()['frontswap/curr_pages']).toBe(before['frontswap/curr_pages']);
    const into = new Uint8Array(PAGE);
    for (let i = 0; i < 2; i++) expect(equalPages(a.readPage(offs[i], into), fresh[i]), `slot ${offs[i]}`).toBe(true);
    // The same batch without the broken slot goes through and frees exactly its slots.
    const both = new Uint8Array(2 * PAGE);
    a.takePages(offs, both);
    expect(equalPages(both, Buffer.concat(fresh))).toBe(true);
    expect(a.usedPages).toBe(1);
    expect(a.poolUsage.pages).toBe(0);
  });
});

describe('swapoff removes only the file swapon created', () => {
  it('a file put in its place stays; the swap file itself is emptied wherever it went', () => {
    const a = area('swap', 16);
    const off = a.writePage(textPage(3));
    expect(off).toBe(1);
    fs.renameSync(a.path, `${a.path}.moved`);
    fs.writeFileSync(a.path, 'not a swap file');
    a.swapoff();
    expect(fs.readFileSync(a.path, 'utf8')).toBe('not a swap file');
    expect(fs.statSync(`${a.path}.moved`).size).toBe(0);
  });

  it('a directory or a symlink put in its place stays, and so does what it points at', () => {
    const a = area('swap', 16);
    fs.unlinkSync(a.path);
    fs.mkdirSync(a.path);
    fs.writeFileSync(join(a.path, 'keep'), 'x');
    a.swapoff();
    expect(fs.readFileSync(join(a.path, 'keep'), 'utf8')).toBe('x');

    const b = area('swap2', 16);
    const target = join(tmp.dir, 'target');
    fs.writeFileSync(target, 'target');
    fs.unlinkSync(b.path);
    fs.symlinkSync(target, b.path);
    b.swapoff();
    expect(fs.lstatSync(b.path).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe('target');
  });

  it('the file is gone after swapoff when nothing replaced it', () => {
    const a = area('swap', 16);
    a.writePage(textPage(4));
    a.swapoff();
    expect(fs.existsSync(a.path)).toBe(false);
  });
});

describe('a swap file does not outlive its process', () => {
  it.each([
    ['process.exit()', 'process.exit(0)'],
    ['the end of its event loop', ''],
  ])('a process that ends by %s without swapoff leaves no swap file (writeback in flight)', (_, end) => {
    const path = join(tmp.dir, 'exiting');
    const script = `
      const { swapon, loadBackend } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      (async () => {
        const area = swapon(${JSON.stringify(path)}, { pages: 4096 });
        await loadBackend('zcache', { maxPoolBytes: 64 * 4096 });
        const page = new Uint8Array(4096);
        for (let i = 0; i < 2000; i++) { page.fill(i & 0xff, 0, 1000); area.writePage(page); if (i % 100 === 0) await new Promise(setImmediate); }
        ${end};
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.existsSync(path)).toBe(false);
  });
});

describe('counters and the header slot', () => {
  it('usedPages, freeSlots and filePages are 0 after swapoff, never -1', () => {
    const a = area('swap', 16);
    a.writePage(textPage(5));
    a.swapoff();
    expect(a.usedPages).toBe(0);
    expect(a.freeSlots).toBe(0);
    expect(a.filePages).toBe(0);
    expect(a.poolUsage).toEqual({ pages: 0, compressedBytes: 0 });
  });

  it.each(backendsUnderTest)('frontswap hooks refuse slot 0 (the swap header) with $label', async ({ backend, allocator }) => {
    const a = area('swap', 16);
    await loadBackend(backend, { allocator });
    const header = fs.readFileSync(a.path).subarray(0, PAGE);
    const before = debugfs.snapshot();
    const page = textPage(6);
    expect(() => frontswap.store(a.type, 0, page)).toThrow(RangeError);
    expect(() => frontswap.load(a.type, 0, new Uint8Array(PAGE))).toThrow(RangeError);
    expect(() => frontswap.invalidatePage(a.type, 0)).toThrow(RangeError);
    expect(() => frontswap.storeBatch(a.type, Uint32Array.of(2, 0), new Uint8Array(2 * PAGE))).toThrow(RangeError);
    expect(() => frontswap.loadBatch(a.type, Uint32Array.of(0), new Uint8Array(PAGE))).toThrow(RangeError);
    expect(() => frontswap.invalidateBatch(a.type, Uint32Array.of(0))).toThrow(RangeError);
    expect(() => a.readPages(Uint32Array.of(0), new Uint8Array(PAGE))).toThrow(RangeError);
    expect(debugfs.snapshot()).toEqual(before);
    expect(frontswap.store(a.type, 1, page)).toBe(true);
    await unloadBackend(backend);
    expect(equalPages(fs.readFileSync(a.path).subarray(0, PAGE), header)).toBe(true);
  });
});

describe.each(backendsUnderTest)('unloadBackend with $label when the swap file is full', ({ backend, allocator }) => {
  it.skipIf(!isRoot)('throws ERR_TMEM_IO with the cause, keeps the backend and every page (needs root)', async () => {
    const fsys = mountTmpfs('64k');
    try {
      // 4 MiB of sparse slots on 64 KiB of tmpfs: a handful of pages fit in the file.
      const a = area('swap', 1024, fsys.dir);
      await loadBackend(backend, { allocator, writeback: false });
      const want = new Map<number, Uint8Array>();
      for (let i = 0; i < 100; i++) want.set(a.writePage(textPage(100 + i)), textPage(100 + i));
      expect(a.poolUsage.pages).toBe(100);
      const err = await unloadBackend(backend).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'ERR_TMEM_IO', cause: expect.objectContaining({ code: 'ENOSPC' }) });
      expect(loadedBackend()).toBe(backend);
      const into = new Uint8Array(PAGE);
      for (const [off, page] of want) expect(equalPages(a.readPage(off, into), page), `slot ${off}`).toBe(true);
      // Room again: the unload completes and every page reads back from the file.
      fsys.resize('8m');
      await unloadBackend(backend);
      expect(loadedBackend()).toBe(null);
      for (const [off, page] of want) expect(equalPages(a.readPage(off, into), page), `slot ${off}`).toBe(true);
      a.swapoff();
    } finally {
      fsys.unmount();
    }
  });
});
