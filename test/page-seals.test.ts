// Pages that leave RAM are checked (issue 14): a byte flipped on disk under a page written by any
// of the writers (a refused store, the backend's writeback, writethrough, pages moved out by
// shrink/unload) reads as ERR_TMEM_CORRUPT with its area and offset, counted in
// swap/<type>/checksum_failures, with the slot still in use and every other page intact; a file
// truncated (and regrown) or a slot never written is corrupt, never zeros; with `encrypt` the file
// holds none of the plaintext and tampering is detected. Over every backend and allocator, and none.
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugfs, frontswap, loadBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { loadNative } from '../lib/native/binding';
import { PageSeals, UNWRITTEN } from '../lib/swap/page-seals';
import { crc32c } from '../lib/util/crc32c';
import { backendsUnderTest } from './support/backends';
import { PAGE, randomPage, tempDir } from './support/pages';

const MARKER = 'tmem-plaintext-marker';

/** A compressible page that names itself: the marker, its id, then text. */
function markedPage(id: number): Uint8Array {
  const p = new Uint8Array(PAGE);
  let s = '';
  for (let i = 0; s.length < PAGE; i++) s += `${MARKER}:${id}:${i};`;
  p.set(Buffer.from(s.slice(0, PAGE), 'latin1'));
  return p;
}

function flipByte(path: string, slot: number, at: number): void {
  const fd = fs.openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, slot * PAGE + at);
    b[0] ^= 0x40;
    fs.writeSync(fd, b, 0, 1, slot * PAGE + at);
  } finally {
    fs.closeSync(fd);
  }
}

function failures(area: SwapArea): number {
  return debugfs.read(`swap/${area.type}/checksum_failures`);
}

function expectCorrupt(fn: () => unknown, area: SwapArea, offset: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toMatchObject({ code: 'ERR_TMEM_CORRUPT', area: area.type, offset });
}

/**
 * For every slot: flip a byte of its file copy and read it. A page the pool holds reads back
 * exact; one only in the file fails with ERR_TMEM_CORRUPT (counted, slot still in use) and reads
 * back exact once the byte is restored. Returns how many slots were file-only.
 */
function flipEachAndCheck(area: SwapArea, slots: Uint32Array, pageOf: (i: number) => Uint8Array): number {
  const into = new Uint8Array(PAGE);
  let corrupt = 0;
  for (let i = 0; i < slots.length; i++) {
    const at = (i * 97) % PAGE;
    flipByte(area.path, slots[i], at);
    const before = failures(area);
    const used = area.usedPages;
    let threw = false;
    try {
      area.readPage(slots[i], into);
    } catch (err) {
      threw = true;
      expect(err).toMatchObject({ code: 'ERR_TMEM_CORRUPT', area: area.type, offset: slots[i] });
      expect(failures(area)).toBe(before + 1);
      expect(area.usedPages).toBe(used);
      expect(into.every((b) => b === 0)).toBe(true);
      corrupt++;
    }
    if (!threw) expect(Buffer.compare(into, pageOf(i))).toBe(0);
    flipByte(area.path, slots[i], at);
    area.readPage(slots[i], into);
    expect(Buffer.compare(into, pageOf(i))).toBe(0);
  }
  return corrupt;
}

const subjects = [{ label: 'no backend', backend: null, allocator: null }, ...backendsUnderTest];

describe.each([false, true])('encrypt: %s', (encrypt) => {
  describe.each(subjects)('$label', ({ backend, allocator }) => {
    let tmp: ReturnType<typeof tempDir>;
    let area: SwapArea;
    const N = 600;

    beforeEach(() => {
      tmp = tempDir();
      area = swapon(`${tmp.dir}/swap`, { pages: N + 8, encrypt });
    });

    afterEach(async () => {
      frontswap.writethrough = false;
      if (backend && debugfs.list('zcache').length > 0) await unloadBackend(backend);
      if (area.active) area.swapoff();
      tmp.cleanup();
    });

    async function load(options: Record<string, unknown>): Promise<void> {
      if (backend) await loadBackend(backend, { allocator: allocator!, ...options } as never);
    }

    it('refused stores: a flipped byte is ERR_TMEM_CORRUPT, counted, the slot kept, others intact', async () => {
      await load({});
      // Random pages do not compress: every store is refused and goes to the file.
      const pages = Array.from({ length: 40 }, () => randomPage());
      const slots = Uint32Array.from(pages, (p) => area.writePage(p));
      expect(flipEachAndCheck(area, slots, (i) => pages[i])).toBe(slots.length);
      // Batch reads: one corrupt page fails the whole call, and takePages frees nothing.
      flipByte(area.path, slots[7], 5);
      const into = new Uint8Array(slots.length * PAGE);
      expectCorrupt(() => area.readPages(slots, into), area, slots[7]);
      expect(into.subarray(7 * PAGE, 8 * PAGE).every((b) => b === 0)).toBe(true);
      expectCorrupt(() => area.takePages(slots, into), area, slots[7]);
      expect(area.usedPages).toBe(slots.length);
      // The non-blocking path (SwapCache getAsync) checks the same way.
      const before = failures(area);
      await expect(area.readPagesAsync(slots, into)).rejects.toMatchObject({ code: 'ERR_TMEM_CORRUPT', area: area.type, offset: slots[7] });
      expect(failures(area)).toBe(before + 1);
      expect(into.subarray(7 * PAGE, 8 * PAGE).every((b) => b === 0)).toBe(true);
      flipByte(area.path, slots[7], 5);
      await area.readPagesAsync(slots, into);
      for (let i = 0; i < slots.length; i++) expect(Buffer.compare(into.subarray(i * PAGE, (i + 1) * PAGE), pages[i])).toBe(0);
      area.takePages(slots, into);
      for (let i = 0; i < slots.length; i++) expect(Buffer.compare(into.subarray(i * PAGE, (i + 1) * PAGE), pages[i])).toBe(0);
      expect(area.usedPages).toBe(0);
    });

    it('a truncated file, and one truncated and regrown, read as corrupt, never zeros', async () => {
      await load({});
      const pages = Array.from({ length: 8 }, () => randomPage());
      const slots = Uint32Array.from(pages, (p) => area.writePage(p));
      const into = new Uint8Array(PAGE);
      fs.truncateSync(area.path, PAGE);
      for (const s of slots) expectCorrupt(() => area.readPage(s, into), area, s);
      fs.truncateSync(area.path, area.pages * PAGE);
      for (const s of slots) expectCorrupt(() => area.readPage(s, into), area, s);
      expect(area.usedPages).toBe(slots.length);
    });

    // Pages a backend wrote to the file itself: only with a backend.
    if (backend) {
      it('writeback: pages the backend wrote to the file are checked', async () => {
        await load({ maxPoolBytes: 64 << 10 });
        const pages = Array.from({ length: N }, (_, i) => markedPage(i));
        const slots = Uint32Array.from(pages, (p) => area.writePage(p));
        while (debugfs.read('zcache/outstanding_writeback_pages') > 0) await new Promise((r) => setTimeout(r, 20));
        expect(debugfs.read('zcache/written_back_pages')).toBeGreaterThan(0);
        const fileOnly = area.filePages;
        expect(fileOnly).toBeGreaterThan(0);
        expect(flipEachAndCheck(area, slots, (i) => pages[i])).toBe(fileOnly);
      });

      it('writethrough: the file copy is checked once the pool has dropped its own', async () => {
        await load({});
        frontswap.writethrough = true;
        const pages = Array.from({ length: 16 }, (_, i) => markedPage(i));
        const slots = Uint32Array.from(pages, (p) => area.writePage(p));
        frontswap.writethrough = false;
        expect(area.poolUsage.pages).toBe(slots.length);
        for (const s of slots) frontswap.invalidatePage(area.type, s);
        expect(flipEachAndCheck(area, slots, (i) => pages[i])).toBe(slots.length);
      });

      it('a slot whose page was never written to the file is corrupt, not zeros', async () => {
        await load({});
        const slot = area.writePage(markedPage(1));
        expect(area.poolUsage.pages).toBe(1);
        // The backend loses the page (frontswap's own hook): the file never had it.
        frontswap.invalidatePage(area.type, slot);
        expectCorrupt(() => area.readPage(slot, new Uint8Array(PAGE)), area, slot);
      });
    }

    it('shrink and unload: the pages moved to the file are sealed; every page comes back', async () => {
      await load({});
      const pages = Array.from({ length: 64 }, (_, i) => markedPage(i));
      const slots = Uint32Array.from(pages, (p) => area.writePage(p));
      if (backend) await unloadBackend(backend);
      expect(area.filePages).toBe(slots.length);
      expect(flipEachAndCheck(area, slots, (i) => pages[i])).toBe(slots.length);
    });

    if (encrypt) it('the file holds none of the plaintext; a tampered page fails; swapoff after all', async () => {
      await load({ maxPoolBytes: 64 << 10 });
      const pages = Array.from({ length: N }, (_, i) => markedPage(i));
      const slots = Uint32Array.from(pages, (p) => area.writePage(p));
      while (backend && debugfs.read('zcache/outstanding_writeback_pages') > 0) await new Promise((r) => setTimeout(r, 20));
      if (backend) await unloadBackend(backend);
      expect(area.encrypted).toBe(true);
      expect(area.filePages).toBe(N);
      const file = fs.readFileSync(area.path);
      expect(file.includes(Buffer.from(MARKER, 'latin1'))).toBe(false);
      expect(file.includes(Buffer.from(pages[3].subarray(100, 132)))).toBe(false);
      const into = new Uint8Array(PAGE);
      for (let i = 0; i < N; i++) {
        area.readPage(slots[i], into);
        expect(Buffer.compare(into, pages[i])).toBe(0);
      }
      area.swapoff();
    });
  });
});

describe('swapon encrypt option', () => {
  it('must be a boolean', () => {
    const tmp = tempDir();
    try {
      expect(() => swapon(`${tmp.dir}/swap`, { pages: 16, encrypt: 'yes' as never })).toThrow(TypeError);
      expect(fs.existsSync(`${tmp.dir}/swap`)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('PageSeals', () => {
  it('GCM catches a changed page even when its CRC is made to match', () => {
    const seals = new PageSeals(3, 8, true);
    const page = markedPage(7);
    const buf = new Uint8Array(seals.seal(5, page, 0, 1).bytes.subarray(0, PAGE));
    expect(Buffer.from(buf).includes(Buffer.from(MARKER))).toBe(false);
    buf[10] ^= 1;
    seals.crcs[5] = (crc32c(buf) ^ UNWRITTEN) >>> 0; // what only a writer of process memory could do
    expect(() => seals.open(5, buf, 0)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CORRUPT', area: 3, offset: 5 }));
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(seals.failures).toBe(1);
  });

  it('a slot sealed twice gets a new nonce: same page, different ciphertext, both open', () => {
    const seals = new PageSeals(0, 4, true);
    const page = markedPage(1);
    const a = new Uint8Array(seals.seal(2, page, 0, 1).bytes.subarray(0, PAGE));
    const b = new Uint8Array(seals.seal(2, page, 0, 1).bytes.subarray(0, PAGE));
    expect(Buffer.compare(a, b)).not.toBe(0);
    seals.open(2, b, 0);
    expect(Buffer.compare(b, page)).toBe(0);
    expect(Array.from(seals.counters!.subarray(4, 6))).toEqual([2, 0]);
  });

  it.runIf((() => { try { return !!loadNative(); } catch { return false; } })())('the addon computes the same CRC32C as JavaScript', () => {
    const native = loadNative();
    for (const len of [0, 1, 7, 9, 100, 4095, 4096, 10_000]) {
      const data = randomPage().subarray(0, Math.min(len, PAGE));
      const big = new Uint8Array(len);
      for (let i = 0; i < len; i++) big[i] = data[i % data.length] ^ i;
      expect(native.crc32c(big)).toBe(crc32c(big));
    }
    expect(['sse4.2', 'armv8', 'table']).toContain(native.crc32cImpl);
  });
});
