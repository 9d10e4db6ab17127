// The ephemeral (cleancache) pool of the native zcache: the backend's cleancache ops and their
// errors, the counters (a superset of zcache-js's, same names), the key buffer being copied,
// writeback evicting ephemeral frames first, close() dropping clean pages. (Pressure against
// persistent pages: ephemeral-pressure.test.ts; V8 heap: heap.test.ts.)
import { describe, expect, it } from 'vitest';
import { ALLOCATORS, parseZcacheOptions } from '../lib/backends/options';
import { PAGE_SIZE, type Backend, type ZcacheOptions } from '../lib/backends/types';
import { createZcache } from '../lib/backends/zcache/backend';
import { createZcacheJs } from '../lib/backends/zcache-js';
import { loadNative } from '../lib/native/binding';
import { equalPages, randomPage, textPage } from './support/pages';
import { cleancacheOf as cc, closedAfterEach, fileKey as key, zcacheStats as zc } from './support/harness';

const open = (options: ZcacheOptions = {}): Backend => createZcache(parseZcacheOptions({ writeback: false, ...options }));

const into = (): Uint8Array => new Uint8Array(PAGE_SIZE);

const backend = closedAfterEach(open);

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
    expect(s.eph_zbytes).toBeGreaterThan(0);
    expect(s.pers_zbytes).toBe(0);
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

  it.each(ALLOCATORS['zcache-js'].filter((a) => ALLOCATORS.zcache.includes(a)))(
    'reports every counter zcache-js reports, under the same names (both with %s)',
    async (allocator) => {
      const js = createZcacheJs(parseZcacheOptions({ writeback: false, allocator }));
      const nat = backend({ allocator });
      const jsStats = js.stats();
      const natStats = nat.stats();
      for (const dir of Object.keys(jsStats)) {
        for (const name of Object.keys(jsStats[dir])) {
          // zsmalloc's per-class table names each backend's own classes (their sizes follow from
          // each implementation's geometry); the columns and the pool-wide counters must match.
          if (dir === 'zsmalloc' && name.startsWith('class/')) continue;
          expect(natStats[dir], `${dir}/${name}`).toHaveProperty(name);
        }
      }
      await js.close();
    },
  );

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
