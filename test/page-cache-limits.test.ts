// PageCache at the edges of its key space (issue 14, items 3 and 4): pages of files opened after
// millions of others, pages past 16 TiB (beyond cleancache's 32-bit index), and a huge truncation.
// Every read is checked against the bytes on disk.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../lib/backends/types';
import { ResidentPages } from '../lib/facade/resident-pages';
import { loadBackend, loadedBackend, PageCache, unloadBackend } from '../lib/index';
import { backendsUnderTest } from './support/backends';

const TIB16 = 2 ** 44;

describe('ResidentPages names a page by (file, index), never by one packed number', () => {
  it.each([2 ** 21, 2 ** 32, 2 ** 52])('file id %d keeps page 0 and page 1 apart', (fileId) => {
    const pages = new ResidentPages(4 * PAGE_SIZE);
    const evict = (): void => {};
    pages.page(pages.insert(fileId, 0, evict)).fill(10);
    pages.page(pages.insert(fileId, 1, evict)).fill(11);
    pages.page(pages.insert(fileId + 1, 0, evict)).fill(12);
    pages.page(pages.insert(fileId, 2 ** 41, evict)).fill(13);
    expect(pages.count).toBe(4);
    expect([0, 1].map((i) => pages.page(pages.lookup(fileId, i))[0])).toEqual([10, 11]);
    expect(pages.page(pages.lookup(fileId + 1, 0))[0]).toBe(12);
    expect(pages.page(pages.lookup(fileId, 2 ** 41))[0]).toBe(13);
    pages.removeFile(fileId, 1);
    expect(pages.lookup(fileId, 1)).toBe(-1);
    expect(pages.lookup(fileId, 0)).toBeGreaterThanOrEqual(0);
    expect(pages.count).toBe(2);
  });

  it('an evict callback that throws leaves the LRU consistent', () => {
    const pages = new ResidentPages(PAGE_SIZE);
    pages.insert(1, 0, () => {});
    expect(() =>
      pages.insert(1, 1, () => {
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(pages.count).toBe(0);
    expect(pages.lookup(1, 0)).toBe(-1);
    expect(pages.insert(1, 2, () => {})).toBe(0);
  });
});

// A sparse file past 16 TiB needs a file system that allows one: tmpfs does (ext4 stops at 16 TiB).
const shm = existsSync('/dev/shm') ? '/dev/shm' : null;

describe.each([{ label: 'no backend', backend: null, allocator: null }, ...backendsUnderTest])(
  'PageCache past 16 TiB with $label',
  ({ backend, allocator }) => {
    let dir = '';
    afterEach(async () => {
      if (loadedBackend()) await unloadBackend(loadedBackend()!);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.skipIf(!shm)('pages at index 2^32 and beyond read their own bytes, before and after eviction', async () => {
      if (backend) await loadBackend(backend, { allocator: allocator! });
      dir = mkdtempSync(join(shm!, 'tmem-pagecache-'));
      const path = join(dir, 'sparse');
      const fd = openSync(path, 'w');
      ftruncateSync(fd, TIB16 + 3 * PAGE_SIZE);
      // Page 0, page 2^32 (16 TiB) and page 2^32 + 1 hold different bytes; the rest is a hole.
      for (const [at, byte] of [[0, 1], [TIB16, 2], [TIB16 + PAGE_SIZE, 3]] as const) writeSync(fd, Buffer.alloc(PAGE_SIZE, byte), 0, PAGE_SIZE, at);
      closeSync(fd);
      const cache = new PageCache({ residentBytes: 2 * PAGE_SIZE, backend: 'none' });
      try {
        const file = cache.open(path);
        for (let round = 0; round < 3; round++) {
          expect(file.read(TIB16, 1)[0]).toBe(2);
          expect(file.read(TIB16 + PAGE_SIZE, 1)[0]).toBe(3);
          expect(file.read(0, 1)[0]).toBe(1);
          expect(file.read(TIB16 - PAGE_SIZE, 1)[0]).toBe(0);
          expect(file.read(TIB16 - 2, 4).equals(Buffer.from([0, 0, 2, 2]))).toBe(true);
        }
        file.write(TIB16 + 10, Buffer.from([9]));
        expect(file.read(TIB16 + 9, 3).equals(Buffer.from([2, 9, 2]))).toBe(true);
        // Cutting 16 TiB off the file is one call, not a loop over 2^32 pages.
        file.truncate(PAGE_SIZE);
        expect(file.read(0, 2 * PAGE_SIZE).length).toBe(PAGE_SIZE);
        expect(file.read(TIB16, 1).length).toBe(0);
      } finally {
        cache.close();
      }
    });
  },
);

describe('PageCache file handles and inode memory', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a replaced file that cannot be reopened leaves the handle on the file it had', () => {
    dir = mkdtempSync(join(tmpdir(), 'tmem-pagecache-'));
    const a = join(dir, 'a');
    writeFileSync(a, Buffer.alloc(PAGE_SIZE, 1));
    const cache = new PageCache({ residentBytes: 4 * PAGE_SIZE, backend: 'none' });
    try {
      const file = cache.open(a);
      expect(file.read(0, 1)[0]).toBe(1);
      renameSync(a, `${a}.away`);
      mkdirSync(a);
      expect(() => file.read(0, 1)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
      // The next open in the process gets the lowest free descriptor number.
      const other = openSync(join(dir, 'other'), 'w+');
      writeSync(other, Buffer.alloc(PAGE_SIZE, 7));
      rmdirSync(a);
      renameSync(`${a}.away`, a);
      expect(file.read(0, 1)[0]).toBe(1);
      closeSync(other);
      expect(readFileSync(join(dir, 'other'))[0]).toBe(7);
    } finally {
      cache.close();
    }
  });

  it('refuses a FIFO or a device, also one put in place of an open file (a write to a FIFO would block)', () => {
    dir = mkdtempSync(join(tmpdir(), 'tmem-pagecache-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const a = join(dir, 'a');
    writeFileSync(a, Buffer.alloc(PAGE_SIZE, 2));
    const cache = new PageCache({ residentBytes: 4 * PAGE_SIZE, backend: 'none' });
    try {
      for (const special of [fifo, '/dev/zero', '/dev/null']) {
        expect(() => cache.open(special)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_UNSUPPORTED' }));
      }
      expect(cache.stats().open_files).toBe(0);
      const file = cache.open(a);
      renameSync(a, `${a}.away`);
      renameSync(fifo, a);
      expect(() => file.write(0, Buffer.alloc(128 << 10, 3))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_UNSUPPORTED' }));
      renameSync(a, fifo);
      renameSync(`${a}.away`, a);
      expect(file.read(0, 2)).toEqual(Buffer.from([2, 2]));
    } finally {
      cache.close();
    }
  });

  it('remembers a bounded number of inodes, most recently seen kept', () => {
    dir = mkdtempSync(join(tmpdir(), 'tmem-pagecache-'));
    const path = join(dir, 'f');
    writeFileSync(path, 'x');
    const cache = new PageCache({ residentBytes: 4 * PAGE_SIZE, backend: 'none' });
    try {
      cache.open(path).close();
      const [[mine, identity]] = cache.known;
      for (let i = 0; i < 70_000; i++) {
        cache.remember(`0:${i}`, { ...identity, dev: 0n, ino: BigInt(i) });
        if (i % 1000 === 0) cache.remember(mine, identity);
      }
      expect(cache.known.size).toBe(65_536);
      expect(cache.known.has(mine)).toBe(true);
      expect(cache.known.has('0:0')).toBe(false);
    } finally {
      cache.close();
    }
  });
});
