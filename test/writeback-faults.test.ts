// A real I/O fault during writeback, for both backends: the swap file lives on a 64 KiB tmpfs
// (root only: mounting needs it; CI runs as root), so writeback's pwrite fails with ENOSPC. The
// pages must stay in the pool exactly as they were, reject_reclaim_fail counts the failures, and
// the service keeps working.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfs, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea, type ZcacheOptions } from '../lib/index';
import { equalPages, PAGE, textPage } from './support/pages';
import { backendsUnderTest } from './support/backends';
import { isRoot, mountTmpfs, type Tmpfs } from './support/tmpfs';

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const zc = (name: string): number => debugfs.read(`zcache/${name}`);

function expectPage(a: SwapArea, offset: number, want: Uint8Array, into = new Uint8Array(PAGE)): void {
  a.readPage(offset, into);
  if (!equalPages(into, want)) throw new Error(`slot ${offset} read back wrong bytes`);
}

describe.each(backendsUnderTest)('writeback I/O errors with $label: a swap file on a full 64 KiB tmpfs', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  let tmpfs: Tmpfs | null = null;
  let mnt = '';
  let area: SwapArea | null = null;
  const setup = async (pages: number, options: { maxPoolBytes: number }, dir: string): Promise<SwapArea> => {
    area = swapon(join(dir, 'swap'), { pages });
    await load(options);
    return area;
  };
  beforeAll(() => {
    if (!isRoot) {
      console.warn('writeback-faults: skipping: mounting a tmpfs needs root (CI runs as root)');
      return;
    }
    tmpfs = mountTmpfs('64k');
    mnt = tmpfs.dir;
  });
  afterAll(async () => {
    if (area?.active) area.swapoff();
    if (loadedBackend()) await unloadBackend(name);
    tmpfs?.unmount();
  });

  it.skipIf(!isRoot)('ENOSPC keeps the pages in the pool exactly, counts reject_reclaim_fail, the process goes on (needs root)', async () => {
    // 1024 slots (4 MiB, sparse) on 64 KiB of tmpfs: the header and ~15 pages fit, then pwrite fails.
    const a = await setup(1024, { maxPoolBytes: 64 * PAGE }, mnt);
    const held = new Map<number, number>(); // slot -> textPage seed
    let ioErrors = 0;
    let seed = 0;
    const writeSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++, seed++) {
        try {
          held.set(a.writePage(textPage(seed)), seed);
        } catch (err) {
          // A store the full pool refused falls back to the file, which is full too.
          expect(err).toMatchObject({ code: 'ERR_TMEM_IO' });
          ioErrors++;
        }
        if (zc('pool_total_size') > 64 * PAGE) throw new Error('pool over its cap');
        if (i % 10 === 9) await yieldToLoop();
      }
    };
    const verify = (): void => {
      const into = new Uint8Array(PAGE);
      for (const [off, s] of held) expectPage(a, off, textPage(s), into);
    };
    await writeSome(400);
    for (let i = 0; i < 10; i++) await yieldToLoop();
    await (async () => {
      // Let any batch still on the thread pool report back.
      for (let i = 0; i < 50 && zc('outstanding_writeback_pages') > 0; i++) await new Promise((r) => setTimeout(r, 5));
    })();
    console.log(
      `${name} tmpfs fault: written_back_pages ${zc('written_back_pages')}, reject_reclaim_fail ${zc('reject_reclaim_fail')}, ` +
        `stored_pages ${zc('stored_pages')}, fallback write errors ${ioErrors}`,
    );
    expect(zc('reject_reclaim_fail')).toBeGreaterThan(0);
    expect(ioErrors).toBeGreaterThan(0);
    expect(zc('written_back_pages')).toBeLessThanOrEqual(15);
    expect(zc('stored_pages')).toBeGreaterThan(64); // ~two pages per frame, all still held
    expect(fs.statfsSync(mnt).bavail).toBe(0);
    verify();
    // Still working: free the older half, write more, everything reads back.
    const offs = [...held.keys()];
    for (const off of offs.slice(0, offs.length >> 1)) {
      a.freePage(off);
      held.delete(off);
    }
    expect(zc('pool_total_size')).toBeLessThan(0.9 * 64 * PAGE);
    const storesBefore = debugfs.read('frontswap/succ_stores');
    await writeSome(40);
    expect(debugfs.read('frontswap/succ_stores')).toBeGreaterThan(storesBefore);
    verify();
    // Unloading would move the pool's pages to the full file: swap the area off first.
    a.swapoff();
    area = null;
    await unloadBackend(name);
  });
});
