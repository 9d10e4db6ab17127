// DESIGN §5, rule by rule, against every allocator of both backends: pools (private and shared, placeholder ids
// bound at registration), coherency (put-put-get, get-get after a miss), exclusive gets on
// private pools, invalidation of page/inode/fs, counters, key validation.
import { afterEach, describe, expect, it } from 'vitest';
import { cleancache, debugfs, loadBackend, loadedBackend, unloadBackend, type ZcacheOptions } from '../lib/index';
import { PAGE, randomPage, textPage } from './support/pages';
import { backendsUnderTest } from './support/backends';

const into = () => new Uint8Array(PAGE);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

afterEach(async () => {
  const b = loadedBackend();
  if (b) await unloadBackend(b);
});

describe('cleancache with no backend', () => {
  it('every hook is a no-op: puts are dropped, gets miss', () => {
    const pool = cleancache.initFs();
    const before = debugfs.snapshot();
    cleancache.putPage(pool, 7, 0, textPage(1));
    expect(cleancache.getPage(pool, 7, 0, into())).toBe(false);
    cleancache.invalidatePage(pool, 7, 0);
    cleancache.invalidateInode(pool, 7);
    const after = debugfs.snapshot();
    expect(after['cleancache/puts']).toBe(before['cleancache/puts']);
    expect(after['cleancache/failed_gets']).toBe(before['cleancache/failed_gets'] + 1);
    cleancache.invalidateFs(pool);
  });

  it('validates keys, indexes, pages and pool ids, changing nothing', () => {
    const pool = cleancache.initFs();
    const before = debugfs.snapshot();
    expect(() => cleancache.putPage(pool, -1, 0, textPage(1))).toThrow(RangeError);
    expect(() => cleancache.putPage(pool, 1.5, 0, textPage(1))).toThrow(TypeError);
    expect(() => cleancache.putPage(pool, new Uint32Array(7), 0, textPage(1))).toThrow(RangeError);
    expect(() => cleancache.putPage(pool, [1, 2 ** 32], 0, textPage(1))).toThrow(RangeError);
    expect(() => cleancache.putPage(pool, 'inode' as never, 0, textPage(1))).toThrow(TypeError);
    expect(() => cleancache.putPage(pool, 1, -1, textPage(1))).toThrow(RangeError);
    expect(() => cleancache.putPage(pool, 1, 0, new Uint8Array(10))).toThrow(RangeError);
    expect(() => cleancache.getPage(pool + 1000, 1, 0, into())).toThrow(expect.objectContaining({ code: 'ERR_TMEM_UNKNOWN_POOL' }));
    expect(() => cleancache.initFs(8192)).toThrow(RangeError);
    expect(() => cleancache.initSharedFs('')).toThrow(TypeError);
    expect(debugfs.snapshot()).toEqual(before);
    cleancache.invalidateFs(pool);
  });
});

describe.each(backendsUnderTest)('cleancache contract with $label', ({ backend: name, allocator }) => {
  const load = (options: ZcacheOptions = {}) => loadBackend(name, { allocator, ...options });
  it('pools created before the backend loads are bound when it loads (placeholder ids)', async () => {
    const pool = cleancache.initFs();
    cleancache.putPage(pool, 1, 0, textPage(1)); // dropped: no backend yet
    await load();
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(false);
    cleancache.putPage(pool, 1, 0, textPage(2));
    const got = into();
    expect(cleancache.getPage(pool, 1, 0, got)).toBe(true);
    expect(same(got, textPage(2))).toBe(true);
    cleancache.invalidateFs(pool);
  });

  it('put-put-get never returns the older data, even when the second put is dropped', async () => {
    await load();
    const pool = cleancache.initFs();
    cleancache.putPage(pool, 5, 3, textPage(1));
    cleancache.putPage(pool, 5, 3, textPage(2));
    const got = into();
    expect(cleancache.getPage(pool, 5, 3, got)).toBe(true);
    expect(same(got, textPage(2))).toBe(true);
    cleancache.putPage(pool, 5, 3, textPage(3));
    cleancache.putPage(pool, 5, 3, randomPage()); // incompressible: the backend drops it
    const again = into();
    const hit = cleancache.getPage(pool, 5, 3, again);
    if (hit) expect(same(again, textPage(3))).toBe(false);
    cleancache.invalidateFs(pool);
  });

  it('get-get: after a miss no get hits until a new put; private pools give a page once', async () => {
    await load();
    const pool = cleancache.initFs();
    cleancache.putPage(pool, 9, 0, textPage(4));
    expect(cleancache.getPage(pool, 9, 0, into())).toBe(true);
    expect(cleancache.getPage(pool, 9, 0, into())).toBe(false); // exclusive get on a private pool
    expect(cleancache.getPage(pool, 9, 0, into())).toBe(false);
    cleancache.putPage(pool, 9, 0, textPage(5));
    expect(cleancache.getPage(pool, 9, 0, into())).toBe(true);
    cleancache.invalidateFs(pool);
  });

  it('shared pools: same uuid, same pool; a get keeps the copy', async () => {
    await load();
    const a = cleancache.initSharedFs(`0f4c-${name}`);
    const b = cleancache.initSharedFs(`0f4c-${name}`);
    expect(b).toBe(a);
    cleancache.putPage(a, [1, 2, 3, 4, 5, 6], 10, textPage(6));
    for (let i = 0; i < 3; i++) {
      const got = into();
      expect(cleancache.getPage(b, [1, 2, 3, 4, 5, 6], 10, got)).toBe(true);
      expect(same(got, textPage(6))).toBe(true);
    }
    cleancache.invalidateFs(a); // one user left
    expect(cleancache.getPage(b, [1, 2, 3, 4, 5, 6], 10, into())).toBe(true);
    cleancache.invalidateFs(b);
  });

  it('keys: inode numbers and file handles are distinct, and indexes are distinct', async () => {
    await load();
    const pool = cleancache.initSharedFs(`keys-${name}`);
    cleancache.putPage(pool, 2 ** 40 + 3, 0, textPage(7));
    cleancache.putPage(pool, [3, 256, 9], 0, textPage(8));
    cleancache.putPage(pool, 3, 1, textPage(9));
    const got = into();
    expect(cleancache.getPage(pool, 2 ** 40 + 3, 0, got) && same(got, textPage(7))).toBe(true);
    expect(cleancache.getPage(pool, [3, 256, 9], 0, got) && same(got, textPage(8))).toBe(true);
    expect(cleancache.getPage(pool, 3, 1, got) && same(got, textPage(9))).toBe(true);
    expect(cleancache.getPage(pool, 3, 0, got)).toBe(false);
    cleancache.invalidateFs(pool);
  });

  it('invalidatePage, invalidateInode and invalidateFs drop exactly what they name', async () => {
    await load();
    const pool = cleancache.initSharedFs(`inv-${name}`);
    for (const ino of [1, 2]) for (let i = 0; i < 4; i++) cleancache.putPage(pool, ino, i, textPage(ino * 10 + i));
    cleancache.invalidatePage(pool, 1, 2);
    expect(cleancache.getPage(pool, 1, 2, into())).toBe(false);
    expect(cleancache.getPage(pool, 1, 3, into())).toBe(true);
    cleancache.invalidateInode(pool, 1);
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(false);
    expect(cleancache.getPage(pool, 2, 0, into())).toBe(true);
    const other = cleancache.initSharedFs(`inv-other-${name}`);
    cleancache.putPage(other, 2, 0, textPage(99));
    cleancache.invalidateFs(pool);
    expect(cleancache.getPage(other, 2, 0, into())).toBe(true);
    expect(() => cleancache.getPage(pool, 2, 0, into())).toThrow(expect.objectContaining({ code: 'ERR_TMEM_UNKNOWN_POOL' }));
    cleancache.invalidateFs(other);
  });

  it('counters count succ_gets, failed_gets, puts and invalidates; the ephemeral pool is accounted apart', async () => {
    await load();
    const pool = cleancache.initFs();
    const c0 = debugfs.snapshot();
    cleancache.putPage(pool, 1, 0, textPage(1));
    cleancache.putPage(pool, 1, 1, textPage(2));
    cleancache.getPage(pool, 1, 0, into());
    cleancache.getPage(pool, 1, 0, into());
    cleancache.invalidatePage(pool, 1, 1);
    const c1 = debugfs.snapshot();
    expect(c1['cleancache/puts'] - c0['cleancache/puts']).toBe(2);
    expect(c1['cleancache/succ_gets'] - c0['cleancache/succ_gets']).toBe(1);
    expect(c1['cleancache/failed_gets'] - c0['cleancache/failed_gets']).toBe(1);
    expect(c1['cleancache/invalidates'] - c0['cleancache/invalidates']).toBe(1);
    cleancache.putPage(pool, 2, 0, textPage(3));
    expect(debugfs.read('zcache/eph_pageframes')).toBeGreaterThan(0);
    expect(debugfs.read('zcache/pers_pageframes')).toBe(0);
    cleancache.invalidateFs(pool);
    expect(debugfs.read('zcache/eph_pageframes')).toBe(0);
  });

  it('the wasActive hint: puts of never-active pages can be ignored, and are counted', async () => {
    await load({ ignoreNonactivePuts: true });
    const pool = cleancache.initFs();
    cleancache.putPage(pool, 1, 0, textPage(1), { wasActive: false });
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(false);
    expect(debugfs.read('zcache/eph_nonactive_puts_ignored')).toBe(1);
    cleancache.putPage(pool, 1, 0, textPage(1), { wasActive: true });
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(true);
    cleancache.invalidateFs(pool);
  });

  it('unloading drops clean pages and unbinds pools; they work again after a reload', async () => {
    await load();
    const pool = cleancache.initFs();
    cleancache.putPage(pool, 1, 0, textPage(1));
    await unloadBackend(name);
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(false);
    await load();
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(false);
    cleancache.putPage(pool, 1, 0, textPage(2));
    expect(cleancache.getPage(pool, 1, 0, into())).toBe(true);
    cleancache.invalidateFs(pool);
  });
});
