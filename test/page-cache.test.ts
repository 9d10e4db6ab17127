// PageCache over real files: resident LRU, cleancache behind it, invalidation on write/truncate,
// replaced or changed files never served stale, and a randomized differential test against the
// bytes on disk, with no backend and with both backends.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugfs, loadBackend, loadedBackend, PageCache, unloadBackend } from '../lib/index';
import { tempDir } from './support/pages';
import { rng } from './support/rng';


/** Compressible file contents of `size` bytes. */
function contents(size: number, seed: number): Buffer {
  const rand = rng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; ) {
    const line = `${seed}:${i}:${Math.floor(rand() * 1e6)} lorem ipsum dolor\n`;
    i += out.write(line, i);
  }
  return out;
}

let tmp: ReturnType<typeof tempDir>;
let caches: PageCache[] = [];
beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  const b = loadedBackend();
  if (b) await unloadBackend(b);
  tmp.cleanup();
});
function cache(residentBytes: number): PageCache {
  const c = new PageCache({ residentBytes, backend: 'none' });
  caches.push(c);
  return c;
}

describe('PageCache', () => {
  it('reads ranges exactly, including across pages and past the end', () => {
    const path = `${tmp.dir}/f`;
    const data = contents(50_000, 1);
    writeFileSync(path, data);
    const f = cache(16 * 4096).open(path);
    expect(f.size).toBe(50_000);
    expect(Buffer.compare(f.read(0, 50_000), data)).toBe(0);
    expect(Buffer.compare(f.read(4000, 200), data.subarray(4000, 4200))).toBe(0);
    expect(Buffer.compare(f.read(49_990, 100), data.subarray(49_990))).toBe(0);
    expect(f.read(60_000, 10).length).toBe(0);
    expect(f.read(0, 0).length).toBe(0);
  });

  it('works with no backend as a resident LRU over pread', () => {
    const path = `${tmp.dir}/f`;
    writeFileSync(path, contents(40 * 4096, 2));
    const c = cache(8 * 4096);
    const f = c.open(path);
    f.read(0, 40 * 4096);
    f.read(0, 40 * 4096);
    const s = c.stats();
    expect(s.hits_cleancache).toBe(0);
    expect(s.reads_disk).toBe(80);
    f.read(39 * 4096, 10);
    expect(c.stats().hits_resident).toBe(1);
  });

  it.each(['zcache', 'zcache-js'] as const)('a re-read hits cleancache before the disk with %s', async (name) => {
    await loadBackend(name);
    const path = `${tmp.dir}/f`;
    const data = contents(64 * 4096, 3);
    writeFileSync(path, data);
    const c = cache(8 * 4096);
    const f = c.open(path);
    expect(Buffer.compare(f.read(0, data.length), data)).toBe(0);
    const gets0 = debugfs.read('cleancache/succ_gets');
    expect(Buffer.compare(f.read(0, data.length), data)).toBe(0);
    expect(debugfs.read('cleancache/succ_gets') - gets0).toBeGreaterThan(50);
    expect(c.stats().reads_disk).toBeLessThan(64 + 14);
    // Closing and reopening the unchanged file keeps its clean pages.
    f.close();
    const g = c.open(path);
    const gets1 = debugfs.read('cleancache/succ_gets');
    expect(Buffer.compare(g.read(0, data.length), data)).toBe(0);
    expect(debugfs.read('cleancache/succ_gets') - gets1).toBeGreaterThan(40);
  });

  it.each([null, 'zcache', 'zcache-js'] as const)('write, truncate and replacement never serve stale pages (backend %s)', async (name) => {
    if (name) await loadBackend(name);
    const path = `${tmp.dir}/f`;
    writeFileSync(path, contents(20 * 4096, 4));
    const c = cache(4 * 4096);
    const f = c.open(path);
    f.read(0, 20 * 4096); // most pages now sit in cleancache
    f.write(5000, Buffer.from('NEW BYTES'));
    expect(f.read(5000, 9).toString()).toBe('NEW BYTES');
    f.truncate(3 * 4096 + 10);
    expect(f.size).toBe(3 * 4096 + 10);
    expect(Buffer.compare(f.read(0, 1 << 20), readFileSync(path))).toBe(0);
    f.truncate(8 * 4096);
    expect(Buffer.compare(f.read(0, 1 << 20), readFileSync(path))).toBe(0);
    // Replaced on disk by another writer: a new inode under the same path.
    const fresh = contents(20 * 4096, 5);
    writeFileSync(`${path}.new`, fresh);
    renameSync(`${path}.new`, path);
    expect(Buffer.compare(f.read(0, 1 << 20), fresh)).toBe(0);
    // Changed in place behind our back (size differs).
    truncateSync(path, 7 * 4096);
    expect(Buffer.compare(f.read(0, 1 << 20), fresh.subarray(0, 7 * 4096))).toBe(0);
  });

  it('rejects bad arguments and use after close', () => {
    const path = `${tmp.dir}/f`;
    writeFileSync(path, 'abc');
    const c = cache(4096);
    const f = c.open(path);
    expect(() => f.read(-1, 1)).toThrow(RangeError);
    expect(() => f.read(0, 1.5)).toThrow(TypeError);
    expect(() => f.write(0, 'x' as never)).toThrow(TypeError);
    expect(() => c.open(`${tmp.dir}/missing`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => new PageCache({ residentBytes: 10, backend: 'none' })).toThrow(RangeError);
    f.close();
    expect(() => f.read(0, 1)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    c.close();
    expect(() => c.open(path)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
  });

  describe.each([null, 'zcache', 'zcache-js'] as const)('randomized differential test (backend %s)', (name) => {
    it('random reads, writes, truncates and replacements match the bytes on disk', async () => {
      if (name) await loadBackend(name, { maxPoolBytes: 2 << 20 });
      const rand = rng(Number(process.env.TMEM_SEED ?? 4242));
      const paths = [0, 1, 2, 3].map((i) => `${tmp.dir}/file${i}`);
      paths.forEach((p, i) => writeFileSync(p, contents(Math.floor(rand() * 30 * 4096), i)));
      const c = cache(6 * 4096);
      const files = paths.map((p) => c.open(p));
      let version = 100;
      for (let op = 0; op < 4000; op++) {
        const i = Math.floor(rand() * files.length);
        const f = files[i];
        const r = rand();
        if (r < 0.6) {
          const disk = readFileSync(paths[i]);
          const pos = Math.floor(rand() * (disk.length + 4096));
          const len = Math.floor(rand() * 3 * 4096);
          const got = f.read(pos, len);
          const want = disk.subarray(Math.min(pos, disk.length), Math.min(pos + len, disk.length));
          if (Buffer.compare(got, want) !== 0) throw new Error(`op ${op}: read(${pos}, ${len}) of file ${i} differs from disk`);
        } else if (r < 0.8) {
          const pos = Math.floor(rand() * 32 * 4096);
          f.write(pos, rand() < 0.5 ? randomBytes(Math.floor(rand() * 6000)) : contents(Math.floor(rand() * 9000), version++));
        } else if (r < 0.9) {
          f.truncate(Math.floor(rand() * 30 * 4096));
        } else {
          writeFileSync(`${paths[i]}.tmp`, contents(Math.floor(rand() * 30 * 4096), version++));
          renameSync(`${paths[i]}.tmp`, paths[i]);
        }
      }
      expect(c.stats().reads).toBeGreaterThan(1000);
    });
  });
});

describe('outside check: a 64 MiB file re-read through a 4 MiB PageCache', () => {
  it.each(['zcache', 'zcache-js'])('second pass served from cleancache with %s, rewrite seen', async (backend) => {
    const { execFileSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const root = join(__dirname, '..');
    const out = execFileSync(process.execPath, [join(root, 'examples/pagecache-reread.mjs'), '64', '4', backend], {
      cwd: root,
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.mismatchesPass1 + r.mismatchesPass2 + r.mismatchesAfterRewrite).toBe(0);
    expect(r.succGetsPass2).toBeGreaterThan(r.pages * 0.9);
  });
});
