// The ephemeral (cleancache) pool of the native zcache: the backend's cleancache ops and their
// errors, the counters (a superset of zcache-js's, same names), the key buffer being copied,
// writeback evicting ephemeral frames first, close() dropping clean pages; a pool filled with
// ephemeral pages never blocks or loses a persistent page; and the V8 heap does not grow with
// ephemeral pages (the index is native memory).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseZcacheOptions } from '../lib/backends/options';
import { PAGE_SIZE, type Backend, type CleancacheOps, type ZcacheOptions } from '../lib/backends/types';
import { createZcache } from '../lib/backends/zcache/backend';
import { createZcacheJs } from '../lib/backends/zcache-js';
import { loadNative } from '../lib/native/binding';
import { cleancache, debugfs, loadBackend, loadedBackend, swapon, unloadBackend, type SwapArea } from '../lib/index';
import { equalPages, PAGE, randomPage, tempDir, textPage } from './support/pages';

const open = (options: ZcacheOptions = {}): Backend => createZcache(parseZcacheOptions({ writeback: false, ...options }));
const cc = (b: Backend): CleancacheOps => b.cleancache!;
const zc = (b: Backend): Record<string, number> => b.stats().zcache;

function key(...words: number[]): Uint32Array {
  const k = new Uint32Array(6);
  k.set(words);
  return k;
}
const into = (): Uint8Array => new Uint8Array(PAGE_SIZE);

const closers: Backend[] = [];
afterEach(async () => {
  for (const b of closers.splice(0)) await b.close();
});
function backend(options: ZcacheOptions = {}): Backend {
  const b = open(options);
  closers.push(b);
  return b;
}

describe('native zcache cleancache ops', () => {
  it('pool ids, unknown pools, page size and key checks', () => {
    const ops = cc(backend());
    const a = ops.initFs(PAGE_SIZE);
    const b = ops.initFs(PAGE_SIZE);
    const s = ops.initSharedFs('uuid-1', PAGE_SIZE);
    expect([a, b, s]).toEqual([0, 1, 2]);
    expect(ops.initSharedFs('uuid-1', PAGE_SIZE)).toBe(s);
    ops.invalidateFs(b);
    expect(ops.initFs(PAGE_SIZE)).toBe(b);
    expect(() => ops.initFs(8192)).toThrow(RangeError);
    expect(() => ops.initSharedFs('', PAGE_SIZE)).toThrow(TypeError);
    expect(() => ops.getPage(999, key(1), 0, into(), true)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_TMEM_UNKNOWN_POOL' }));
    expect(() => ops.putPage(999, key(1), 0, textPage(1), true)).toThrow(RangeError);
    expect(() => ops.putPage(a, new Uint32Array(5), 0, textPage(1), true)).toThrow(RangeError);
    expect(() => ops.putPage(a, key(1), 0, new Uint8Array(10), true)).toThrow(RangeError);
    ops.invalidatePage(999, key(1), 0); // invalidations of unknown pools do nothing
    ops.invalidateInode(999, key(1));
    ops.invalidateFs(999);
  });

  it('exclusive and shared gets, a reused key buffer, put-put coherency, invalidation, counters', () => {
    const b = backend({ ignoreNonactivePuts: true });
    const ops = cc(b);
    const priv = ops.initFs(PAGE_SIZE);
    const shared = ops.initSharedFs('s', PAGE_SIZE);
    const k = new Uint32Array(6);
    for (let i = 0; i < 8; i++) {
      k[0] = i; // one buffer for every call, as the hook layer does
      ops.putPage(shared, k, i, textPage(i), true);
      ops.putPage(priv, k, i, textPage(100 + i), true);
    }
    const out = into();
    for (let i = 0; i < 8; i++) {
      k[0] = i;
      expect(ops.getPage(shared, k, i, out, false) && equalPages(out, textPage(i))).toBe(true);
      expect(ops.getPage(shared, k, i, out, false)).toBe(true);
      expect(ops.getPage(priv, k, i, out, true) && equalPages(out, textPage(100 + i))).toBe(true);
      expect(ops.getPage(priv, k, i, out, true)).toBe(false);
    }
    ops.putPage(shared, key(0), 0, textPage(50), true);
    expect(ops.getPage(shared, key(0), 0, out, false) && equalPages(out, textPage(50))).toBe(true);
    ops.putPage(shared, key(0), 0, randomPage(), true); // compress_poor: dropped, and the older copy too
    expect(ops.getPage(shared, key(0), 0, out, false)).toBe(false);
    ops.putPage(shared, key(1), 1, textPage(51), false); // ignored, and the older copy dropped
    expect(ops.getPage(shared, key(1), 1, out, false)).toBe(false);
    ops.invalidateInode(shared, key(2));
    expect(ops.getPage(shared, key(2), 2, out, false)).toBe(false);
    ops.invalidatePage(shared, key(3), 3);
    let s = zc(b);
    expect(s.eph_puts).toBe(19);
    expect(s.eph_gets).toBe(8 * 3 + 1);
    expect(s.eph_invalidates).toBe(2);
    expect(s.eph_nonactive_puts_ignored).toBe(1);
    expect(s.eph_zpages).toBe(4);
    expect(s.eph_pageframes).toBeGreaterThan(0);
    expect(s.eph_zbytes).toBe(b.stats().zbud.zbytes);
    expect(s.stored_pages).toBe(0);
    expect(s.pers_zpages).toBe(0);
    expect(s.compressed_bytes).toBe(0);
    expect(s.reject_compress_poor).toBe(0);
    ops.invalidateFs(shared);
    ops.invalidateFs(priv);
    s = zc(b);
    expect(s.eph_zpages).toBe(0);
    expect(s.pool_pages).toBe(0);
  });

  it('reports every counter zcache-js reports, under the same names', async () => {
    const js = createZcacheJs(parseZcacheOptions({ writeback: false }));
    const nat = backend();
    const jsStats = js.stats();
    const natStats = nat.stats();
    for (const dir of Object.keys(jsStats)) {
      for (const name of Object.keys(jsStats[dir])) expect(natStats[dir], `${dir}/${name}`).toHaveProperty(name);
    }
    await js.close();
  });

  it('writebackSync evicts ephemeral frames first and counts their pages; close drops clean pages', () => {
    const pool = new (loadNative().Pool)({ maxPoolBytes: 64 * PAGE_SIZE });
    const names = pool.statNames;
    const values = new Float64Array(names.length);
    const stat = (name: string): number => {
      pool.stats(values);
      return values[names.indexOf(`zcache/${name}`)];
    };
    const id = pool.ephInitFs();
    for (let i = 0; i < 10; i++) pool.ephPut(id, key(1), i, textPage(i), true);
    const frames = stat('eph_pageframes');
    expect(frames).toBeGreaterThan(0);
    pool.initArea(0, 16, -1);
    pool.store(0, 3, textPage(77));
    // The area has no file: only ephemeral frames can go, and they count as progress.
    expect(pool.writebackSync(1000)).toBe(10);
    expect(stat('eph_pageframes')).toBe(0);
    expect(stat('evicted_eph_pageframes')).toBe(frames);
    expect(stat('evicted_eph_zpages')).toBe(10);
    expect(stat('written_back_pages')).toBe(0);
    expect(stat('stored_pages')).toBe(1);
    pool.ephPut(id, key(1), 0, textPage(0), true);
    pool.close();
    expect(() => pool.ephGet(id, key(1), 0, into(), true)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
  });
});

describe('ephemeral filling never blocks or loses a persistent page (native zcache)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let area: SwapArea | null = null;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    if (area?.active) area.swapoff();
    area = null;
    if (loadedBackend()) await unloadBackend('zcache');
  });
  afterAll(() => tmp.cleanup());

  it.each([false, true])('pool full of cleancache pages, then swap (writeback %s)', async (writeback) => {
    const FRAMES = 64;
    area = swapon(join(tmp.dir, `swap-${writeback}`), { pages: 1024 });
    await loadBackend('zcache', { maxPoolBytes: FRAMES * PAGE, writeback });
    const zs = (name: string): number => debugfs.read(`zcache/${name}`);
    const pool = cleancache.initFs();
    for (let i = 0; zs('eph_pageframes') < FRAMES || i < 4 * FRAMES; i++) cleancache.putPage(pool, 1, i, textPage(10_000 + i));
    expect(zs('eph_pageframes')).toBe(FRAMES);
    expect(zs('pool_pages')).toBe(FRAMES);
    expect(zs('evicted_eph_pageframes')).toBeGreaterThan(0);
    expect(zs('pers_ate_eph')).toBe(0);

    const a = area;
    const written = new Map<number, Uint8Array>();
    let refusedWithEph = 0;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const page = textPage(i);
      const eph = zs('eph_pageframes');
      const before = debugfs.read(`swap/${a.type}/frontswap_pages`);
      written.set(a.writePage(page), page);
      if (debugfs.read(`swap/${a.type}/frontswap_pages`) === before) {
        refused++;
        if (eph > 0) refusedWithEph++;
      }
      // Ephemeral puts keep coming: they never evict a persistent page.
      cleancache.putPage(pool, 2, i, textPage(20_000 + i));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // let background writeback run
    }
    expect(refusedWithEph).toBe(0);
    expect(zs('pers_ate_eph')).toBeGreaterThan(0);
    expect(zs('pool_pages')).toBeLessThanOrEqual(FRAMES);
    if (writeback) expect(zs('written_back_pages')).toBeGreaterThan(0);
    else expect(refused).toBeGreaterThan(0);
    const out = new Uint8Array(PAGE);
    for (const [off, page] of written) {
      a.readPage(off, out);
      if (!equalPages(out, page)) throw new Error(`slot ${off} read back wrong bytes`);
    }
    for (let i = 0; i < 4 * FRAMES; i++) {
      if (cleancache.getPage(pool, 1, i, out) && !equalPages(out, textPage(10_000 + i))) throw new Error(`clean page ${i} is wrong`);
    }
    for (let i = 0; i < 600; i++) {
      if (cleancache.getPage(pool, 2, i, out) && !equalPages(out, textPage(20_000 + i))) throw new Error(`clean page 2/${i} is wrong`);
    }
    cleancache.invalidateFs(pool);
  });
});

const gc = (globalThis as { gc?: () => void }).gc;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    if (gc) gc();
    else await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

it('keeps 50,000 ephemeral (cleancache) pages with < 5 MB of V8 heap growth', async () => {
  const N = 50_000;
  const b = open({ maxPoolBytes: 512 << 20 });
  const c = b.cleancache!;
  const pool = c.initFs(PAGE_SIZE);
  const shared = c.initSharedFs('heap-test', PAGE_SIZE);
  const page = new Uint8Array(PAGE_SIZE);
  const text = 'GET /api/items/12345 HTTP/1.1 200 OK user=alice latency_ms=12 bytes=5120 cache=miss\n';
  for (let i = 0; i < PAGE_SIZE; i++) page[i] = text.charCodeAt(i % text.length);
  const k = new Uint32Array(6);

  const before = await settledHeap();
  for (let n = 0; n < N; n++) {
    page[n % 997] = n & 0xff;
    page[(n * 7) % PAGE_SIZE] = (n >>> 8) & 0xff;
    k[0] = n >>> 6; // 64 pages per inode, ~780 inodes
    k[5] = 0xabcd;
    c.putPage(n % 3 === 0 ? shared : pool, k, n & 63, page, true);
  }
  const after = await settledHeap();
  const s = b.stats().zcache;
  expect(s.eph_zpages).toBe(N);
  expect(s.eph_puts).toBe(N);
  const growth = after - before;
  console.log(
    `native zcache heap (ephemeral): ${s.eph_zpages} pages, ${s.eph_pageframes} frames, ` +
      `metadata ${(s.metadata_bytes / 2 ** 20).toFixed(2)} MiB, heapUsed growth ${(growth / 2 ** 20).toFixed(2)} MiB`,
  );
  expect(growth).toBeLessThan(5 * 2 ** 20);
  k[0] = 0;
  expect(c.getPage(shared, k, 0, into(), false)).toBe(true);
  await b.close();
});
