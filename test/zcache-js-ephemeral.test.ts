// The ephemeral (cleancache) pool of zcache-js, for each of its allocators: the ops and their
// counters, exclusive and shared gets, invalidation, the typed-array index and its growth, the
// shared frame cap (ephemeral pages eaten first; the cross-backend pressure test is
// ephemeral-pressure.test.ts).
import { describe, expect, it } from 'vitest';
import { ALLOCATORS, parseZcacheOptions } from '../lib/backends/options';
import { PAGE_SIZE, type Backend, type CleancacheOps, type ZcacheOptions } from '../lib/backends/types';
import { createZcacheJs } from '../lib/backends/zcache-js';
import { EphIndex } from '../lib/backends/zcache-js/eph-index';
import { MAX_CHAIN } from '../lib/backends/zcache-js/zs-classes';
import { equalPages, filledPage, prefixPage, randomPage, textPage } from './support/pages';
import { cleancacheOf as cc, closedAfterEach, fileKey as key, zcacheStats as zc } from './support/harness';
import { rng } from './support/rng';

// ---- helpers ------------------------------------------------------------------------------------

const open = (options: ZcacheOptions = {}): Backend => createZcacheJs(parseZcacheOptions({ writeback: false, ...options }));

const into = (): Uint8Array => new Uint8Array(PAGE_SIZE);

function get(ops: CleancacheOps, pool: number, k: Uint32Array, index: number, exclusive: boolean): Uint8Array | null {
  const out = into();
  return ops.getPage(pool, k, index, out, exclusive) ? out : null;
}


// ---- the ops ------------------------------------------------------------------------------------

// ---- the index ----------------------------------------------------------------------------------

describe('ephemeral index', () => {
  it('grows by rehashing and stays exact through removals (random inserts and deletes against a Map)', () => {
    const ix = new EphIndex();
    const slots0 = ix.pageSlots;
    const inoSlots0 = ix.inodeSlots;
    const rand = rng(77);
    const model = new Map<string, number>(); // "pool/k0/index" → val
    const k = new Uint32Array(6);
    const setKey = (ino: number) => {
      k.fill(0);
      k[0] = ino;
      k[5] = ino * 31;
    };
    for (let op = 0; op < 60_000; op++) {
      const pool = (rand() * 3) | 0;
      const ino = (rand() * 400) | 0;
      const index = (rand() * 100) | 0;
      setKey(ino);
      const name = `${pool}/${ino}/${index}`;
      const i = ix.findInode(pool, k);
      const e = i >= 0 ? ix.findPage(i, index) : -1;
      expect(e >= 0).toBe(model.has(name));
      if (e >= 0) expect(ix.val(e)).toBe(model.get(name));
      if (rand() < (op < 30_000 ? 0.8 : 0.3)) {
        if (e >= 0) continue;
        ix.reserve();
        const at = i >= 0 ? i : ix.addInode(pool, k);
        ix.addPage(at, index, 2, op);
        model.set(name, op);
      } else if (e >= 0) {
        ix.removePage(e);
        model.delete(name);
      }
    }
    expect(ix.pages).toBe(model.size);
    expect(ix.pageSlots).toBeGreaterThan(slots0);
    expect(ix.inodeSlots).toBeGreaterThan(inoSlots0);
    // Every page is still found, by inode chain as by hash.
    let chained = 0;
    for (let pool = 0; pool < 3; pool++) {
      for (let ino = ix.poolFirstInode(pool); ino >= 0; ino = ix.inoNextInPool(ino)) {
        let n = 0;
        for (let e = ix.inoFirstPage(ino); e >= 0; e = ix.entNextInInode(e)) {
          n++;
          expect(ix.entInode(e)).toBe(ino);
          expect(ix.findPage(ino, ix.entIndex(e))).toBe(e);
        }
        expect(n).toBe(ix.inoPageCount(ino));
        expect(ix.inoPool(ino)).toBe(pool);
        chained += n;
      }
    }
    expect(chained).toBe(model.size);
    for (const [name, val] of model) {
      const [pool, ino, index] = name.split('/').map(Number);
      setKey(ino);
      const i = ix.findInode(pool, k);
      expect(ix.val(ix.findPage(i, index))).toBe(val);
    }
  });
});

describe.each(ALLOCATORS['zcache-js'])('zcache-js ephemeral pool with %s', (allocator) => {
  const backend = closedAfterEach((options: ZcacheOptions = {}) => open({ allocator, ...options }));

  // ---- the ops ----------------------------------------------------------------------------------

  describe('cleancache ops', () => {
    it('pool ids: private pools are distinct, a shared uuid gives the same id, freed ids are reused', () => {
      const ops = cc(backend());
      const a = ops.initFs(PAGE_SIZE);
      const b = ops.initFs(PAGE_SIZE);
      const s = ops.initSharedFs('uuid-1', PAGE_SIZE);
      expect(new Set([a, b, s]).size).toBe(3);
      expect(ops.initSharedFs('uuid-1', PAGE_SIZE)).toBe(s);
      expect(ops.initSharedFs('uuid-2', PAGE_SIZE)).not.toBe(s);
      ops.invalidateFs(b);
      expect(ops.initFs(PAGE_SIZE)).toBe(b);
      expect(() => ops.initFs(8192)).toThrow(RangeError);
      expect(() => ops.getPage(999, key(1), 0, into(), true)).toThrow(RangeError);
    });

    it('a private pool gives a page once (exclusive get); a shared pool keeps it', () => {
      const b = backend();
      const ops = cc(b);
      const priv = ops.initFs(PAGE_SIZE);
      const shared = ops.initSharedFs('s', PAGE_SIZE);
      ops.putPage(priv, key(1), 0, textPage(1), true);
      ops.putPage(shared, key(1), 0, textPage(2), true);
      expect(zc(b).eph_zpages).toBe(2);
      expect(equalPages(get(ops, priv, key(1), 0, true)!, textPage(1))).toBe(true);
      expect(get(ops, priv, key(1), 0, true)).toBeNull();
      for (let i = 0; i < 3; i++) expect(equalPages(get(ops, shared, key(1), 0, false)!, textPage(2))).toBe(true);
      const s = zc(b);
      expect(s.eph_zpages).toBe(1);
      expect(s.eph_gets).toBe(4);
      expect(s.eph_puts).toBe(2);
    });

    it('copies the key: the caller may reuse its buffer', () => {
      const ops = cc(backend());
      const pool = ops.initFs(PAGE_SIZE);
      const k = key(7, 8, 9, 10, 11, 12);
      ops.putPage(pool, k, 3, textPage(3), true);
      k.fill(0);
      expect(get(ops, pool, k, 3, false)).toBeNull();
      expect(equalPages(get(ops, pool, key(7, 8, 9, 10, 11, 12), 3, false)!, textPage(3))).toBe(true);
    });

    it('keys, indexes and pools are all part of the identity of a page', () => {
      const ops = cc(backend());
      const p = ops.initSharedFs('a', PAGE_SIZE);
      const q = ops.initSharedFs('b', PAGE_SIZE);
      ops.putPage(p, key(1, 2), 0, textPage(1), true);
      ops.putPage(p, key(1, 2, 0, 0, 0, 1), 0, textPage(2), true);
      ops.putPage(p, key(1, 2), 1, textPage(3), true);
      ops.putPage(q, key(1, 2), 0, textPage(4), true);
      ops.putPage(p, key(1, 2), 0xffffffff, textPage(5), true);
      const want: [number, Uint32Array, number, number][] = [
        [p, key(1, 2), 0, 1], [p, key(1, 2, 0, 0, 0, 1), 0, 2], [p, key(1, 2), 1, 3], [q, key(1, 2), 0, 4], [p, key(1, 2), 0xffffffff, 5],
      ];
      for (const [pool, k, index, seed] of want) expect(equalPages(get(ops, pool, k, index, false)!, textPage(seed))).toBe(true);
      expect(get(ops, q, key(1, 2), 1, false)).toBeNull();
    });

    it('put-put: the newer page replaces the older; a dropped newer page (compress_poor, ignored) drops the older too', () => {
      const b = backend({ ignoreNonactivePuts: true });
      const ops = cc(b);
      const pool = ops.initSharedFs('pp', PAGE_SIZE);
      ops.putPage(pool, key(1), 0, textPage(1), true);
      ops.putPage(pool, key(1), 0, textPage(2), true);
      expect(equalPages(get(ops, pool, key(1), 0, false)!, textPage(2))).toBe(true);
      expect(zc(b).eph_zpages).toBe(1);
      ops.putPage(pool, key(1), 0, randomPage(), true); // incompressible: not kept, never raw
      expect(get(ops, pool, key(1), 0, false)).toBeNull();
      ops.putPage(pool, key(1), 0, textPage(3), true);
      ops.putPage(pool, key(1), 0, textPage(4), false); // never active: ignored
      expect(get(ops, pool, key(1), 0, false)).toBeNull();
      const s = zc(b);
      expect(s.eph_nonactive_puts_ignored).toBe(1);
      expect(s.eph_zpages).toBe(0);
      expect(s.eph_pageframes).toBe(0);
      expect(s.eph_zbytes).toBe(0);
      expect(s.eph_puts).toBe(5);
    });

    it('without ignoreNonactivePuts, wasActive=false puts are kept', () => {
      const ops = cc(backend());
      const pool = ops.initFs(PAGE_SIZE);
      ops.putPage(pool, key(1), 0, textPage(1), false);
      expect(equalPages(get(ops, pool, key(1), 0, true)!, textPage(1))).toBe(true);
    });

    it('same-filled pages are kept as a value, with no frame', () => {
      const b = backend();
      const ops = cc(b);
      const pool = ops.initFs(PAGE_SIZE);
      ops.putPage(pool, key(1), 0, filledPage(0xdeadbeef), true);
      ops.putPage(pool, key(1), 1, new Uint8Array(PAGE_SIZE), true);
      expect(zc(b).eph_zpages).toBe(2);
      expect(zc(b).eph_pageframes).toBe(0);
      expect(equalPages(get(ops, pool, key(1), 0, true)!, filledPage(0xdeadbeef))).toBe(true);
      expect(equalPages(get(ops, pool, key(1), 1, true)!, new Uint8Array(PAGE_SIZE))).toBe(true);
    });

    it('counts eph_zbytes and frames; ephemeral and persistent pages never share a frame', () => {
      const b = backend();
      const ops = cc(b);
      const fs = b.frontswap;
      fs.init(0, { type: 0, pages: 16, path: '/tmp/zcache-js-eph', fd: -1 });
      const pool = ops.initFs(PAGE_SIZE);
      // Text pages compress to about a quarter of a page: several of a kind share a frame.
      ops.putPage(pool, key(1), 0, textPage(1), true);
      expect(fs.store(0, 0, textPage(2))).toBe(true);
      let s = zc(b);
      const frames = [s.eph_pageframes, s.pers_pageframes];
      expect(frames[0]).toBeGreaterThan(0);
      expect(frames[1]).toBeGreaterThan(0);
      expect(s.pool_pages).toBe(frames[0] + frames[1]);
      ops.putPage(pool, key(1), 1, textPage(3), true);
      expect(fs.store(0, 1, textPage(4))).toBe(true);
      s = zc(b);
      expect([s.eph_pageframes, s.pers_pageframes, s.pool_pages]).toEqual([frames[0], frames[1], frames[0] + frames[1]]);
      expect([s.eph_zpages, s.pers_zpages, s.stored_pages]).toEqual([2, 2, 2]);
      // Whole chunks or slots: at least the objects' bytes.
      expect(s.pers_zbytes).toBeGreaterThanOrEqual(s.compressed_bytes);
      expect(s.pers_zbytes).toBeLessThan(s.compressed_bytes + 2 * 64);
      expect(s.eph_zbytes).toBeGreaterThan(0);
      expect(s.pool_total_size).toBe(s.pool_pages * PAGE_SIZE);
    });

    it('invalidatePage, invalidateInode and invalidateFs drop exactly what they name', () => {
      const b = backend();
      const ops = cc(b);
      const p = ops.initSharedFs('p', PAGE_SIZE);
      const q = ops.initSharedFs('q', PAGE_SIZE);
      for (const pool of [p, q]) for (const ino of [1, 2, 3]) for (let i = 0; i < 20; i++) ops.putPage(pool, key(ino), i, textPage(ino * 100 + i), true);
      expect(zc(b).eph_zpages).toBe(120);
      ops.invalidatePage(p, key(1), 5);
      ops.invalidatePage(p, key(1), 5); // nothing left: not counted
      ops.invalidatePage(p, key(9), 0);
      expect(get(ops, p, key(1), 5, false)).toBeNull();
      expect(get(ops, p, key(1), 6, false)).not.toBeNull();
      expect(zc(b).eph_invalidates).toBe(1);
      ops.invalidateInode(p, key(2));
      expect(zc(b).eph_invalidates).toBe(21);
      for (let i = 0; i < 20; i++) expect(get(ops, p, key(2), i, false)).toBeNull();
      expect(get(ops, q, key(2), 0, false)).not.toBeNull();
      expect(get(ops, p, key(3), 19, false)).not.toBeNull();
      ops.invalidateFs(p);
      expect(zc(b).eph_invalidates).toBe(21 + 19 + 20);
      expect(zc(b).eph_zpages).toBe(60);
      expect(() => get(ops, p, key(3), 0, false)).toThrow(RangeError);
      // The freed id comes back as a new, empty pool.
      expect(ops.initSharedFs('p2', PAGE_SIZE)).toBe(p);
      expect(get(ops, p, key(3), 0, false)).toBeNull();
      ops.invalidateFs(q);
      const s = zc(b);
      expect([s.eph_zpages, s.eph_pageframes, s.eph_zbytes]).toEqual([0, 0, 0]);
    });

    it('a shared pool is freed once every initSharedFs is matched by invalidateFs', () => {
      const ops = cc(backend());
      const s = ops.initSharedFs('twice', PAGE_SIZE);
      ops.initSharedFs('twice', PAGE_SIZE);
      ops.putPage(s, key(1), 0, textPage(1), true);
      ops.invalidateFs(s);
      expect(get(ops, s, key(1), 0, false)).not.toBeNull();
      ops.invalidateFs(s);
      expect(() => get(ops, s, key(1), 0, false)).toThrow(RangeError);
    });

    it('close drops the ephemeral pages without writing them anywhere; ops throw afterwards', async () => {
      const b = open();
      const ops = cc(b);
      const pool = ops.initFs(PAGE_SIZE);
      for (let i = 0; i < 100; i++) ops.putPage(pool, key(1), i, textPage(i), true);
      expect(zc(b).eph_zpages).toBe(100);
      await b.close();
      const s = zc(b);
      expect([s.eph_zpages, s.eph_pageframes, s.pool_pages, s.written_back_pages]).toEqual([0, 0, 0, 0]);
      for (const call of [
        () => ops.putPage(pool, key(1), 0, textPage(1), true),
        () => ops.getPage(pool, key(1), 0, into(), true),
        () => ops.initFs(PAGE_SIZE),
        () => ops.invalidateFs(pool),
      ]) {
        expect(call).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
      }
    });
  });

  describe('index growth', () => {
    it('a backend holds 20,000 pages in 500 inodes, invalidates by inode, and shrinks back when empty', () => {
      const b = backend({ maxPoolBytes: 64 << 20 });
      const ops = cc(b);
      const pool = ops.initSharedFs('big', PAGE_SIZE);
      const page = filledPage(0);
      const view = new DataView(page.buffer);
      for (let ino = 0; ino < 500; ino++) {
        for (let i = 0; i < 40; i++) {
          view.setUint32(0, ino, true);
          view.setUint32(4, i, true);
          ops.putPage(pool, key(ino, 0, 0, 0, 0, ino), i, page, true);
        }
      }
      expect(zc(b).eph_zpages).toBe(20_000);
      const meta = zc(b).metadata_bytes;
      const out = into();
      for (let ino = 0; ino < 500; ino += 7) {
        expect(ops.getPage(pool, key(ino, 0, 0, 0, 0, ino), 39, out, false)).toBe(true);
        const v = new DataView(out.buffer);
        expect([v.getUint32(0, true), v.getUint32(4, true)]).toEqual([ino, 39]);
      }
      for (let ino = 0; ino < 500; ino += 2) ops.invalidateInode(pool, key(ino, 0, 0, 0, 0, ino));
      expect(zc(b).eph_zpages).toBe(10_000);
      expect(ops.getPage(pool, key(2, 0, 0, 0, 0, 2), 0, out, false)).toBe(false);
      expect(ops.getPage(pool, key(3, 0, 0, 0, 0, 3), 0, out, false)).toBe(true);
      ops.invalidateFs(pool);
      expect(zc(b).eph_zpages).toBe(0);
      // The index went back to its initial size (the zbud per-frame arrays stay as they were).
      expect(meta - zc(b).metadata_bytes).toBeGreaterThan(20_000 * 20);
    });
  });

  // ---- the shared cap ---------------------------------------------------------------------------

  describe('pressure: one frame cap, ephemeral pages eaten first', () => {
    it('ephemeral puts at the cap recycle the least recently used ephemeral pages', () => {
      const b = backend({ maxPoolBytes: 16 * PAGE_SIZE });
      const ops = cc(b);
      const pool = ops.initSharedFs('lru', PAGE_SIZE);
      for (let i = 0; i < 200; i++) ops.putPage(pool, key(1), i, textPage(i), true);
      const s = zc(b);
      // Full, but for less than one zspage (a zbud frame, or up to 8 frames for zsmalloc).
      expect(s.eph_pageframes).toBe(s.pool_pages);
      expect(s.eph_pageframes).toBeLessThanOrEqual(16);
      expect(s.eph_pageframes).toBeGreaterThan(16 - MAX_CHAIN);
      expect(s.evicted_eph_pageframes).toBeGreaterThan(0);
      expect(s.evicted_eph_zpages).toBe(200 - s.eph_zpages);
      expect(s.pers_ate_eph).toBe(0);
      // The newest pages are there, the oldest are gone.
      expect(equalPages(get(ops, pool, key(1), 199, false)!, textPage(199))).toBe(true);
      expect(get(ops, pool, key(1), 0, false)).toBeNull();
      // A shared hit gives its page a second chance: it outlives the next evictions.
      const keep = 200 - s.eph_zpages; // the oldest page still held
      expect(get(ops, pool, key(1), keep, false)).not.toBeNull();
      // Half as many new pages as are held: the oldest go, the page just read is moved behind them.
      for (let i = 200; i < 200 + s.eph_zpages / 2; i++) ops.putPage(pool, key(1), i, textPage(i), true);
      expect(zc(b).evicted_eph_zpages).toBeGreaterThan(s.evicted_eph_zpages + 2);
      expect(equalPages(get(ops, pool, key(1), keep, false)!, textPage(keep))).toBe(true);
      expect(get(ops, pool, key(1), keep + 2, false)).toBeNull();
    });

    it('an ephemeral put never evicts a persistent page and never calls the writeback policy: it is dropped', () => {
      // Raw pages take a whole frame with either allocator: 8 of them fill the pool.
      const b = backend({ maxPoolBytes: 8 * PAGE_SIZE, storeIncompressible: true });
      const fs = b.frontswap;
      // A policy that only counts: persistent stores call it, ephemeral puts must not.
      const calls = { afterStore: 0, onPoolFull: 0 };
      (fs as unknown as { policy: unknown }).policy = {
        afterStore: () => calls.afterStore++,
        onPoolFull: () => calls.onPoolFull++,
      };
      fs.init(0, { type: 0, pages: 64, path: '/nonexistent', fd: -1 }); // a writeback would fail, and be counted
      const raw = Array.from({ length: 8 }, () => randomPage());
      raw.forEach((p, off) => expect(fs.store(0, off, p)).toBe(true));
      expect(zc(b).pers_pageframes).toBe(8);
      expect(calls.afterStore).toBe(8);
      calls.afterStore = 0;
      const ops = cc(b);
      const pool = ops.initFs(PAGE_SIZE);
      for (let i = 0; i < 50; i++) ops.putPage(pool, key(1), i, textPage(1000 + i), true);
      const s = zc(b);
      expect(calls).toEqual({ afterStore: 0, onPoolFull: 0 });
      expect([s.eph_zpages, s.eph_pageframes, s.evicted_eph_pageframes]).toEqual([0, 0, 0]);
      expect([s.written_back_pages, s.reject_reclaim_fail, s.pool_limit_hit]).toEqual([0, 0, 0]);
      expect(s.pers_zpages).toBe(8);
      raw.forEach((p, o) => {
        const out = into();
        expect(fs.load(0, o, out, false)).toBe(true);
        expect(equalPages(out, p)).toBe(true);
      });
    });

    it('the hysteresis "reached full" state blocks persistent stores only, and not while ephemeral frames are left', () => {
      // 20 frames, threshold 50%: after reaching full, persistent stores need < 10 frames in use.
      // Persistent pages are raw (a frame each); ephemeral ones compress to ~1300 bytes.
      const b = backend({ maxPoolBytes: 20 * PAGE_SIZE, acceptThresholdPercent: 50, storeIncompressible: true });
      const fs = b.frontswap;
      const ops = cc(b);
      fs.init(0, { type: 0, pages: 256, path: '/tmp/zcache-js-eph', fd: -1 });
      let off = 0;
      while (fs.store(0, off, randomPage())) off++;
      expect([off, zc(b).pool_limit_hit]).toEqual([20, 1]);
      // Free 4 frames: still above the threshold.
      for (let o = 0; o < 4; o++) fs.invalidatePage(0, o);
      expect(zc(b).pool_pages).toBe(16);
      expect(fs.store(0, 0, randomPage())).toBe(false); // reached full: refused
      // Ephemeral puts are not blocked: they take the free frames.
      const pool = ops.initFs(PAGE_SIZE);
      let puts = 0;
      while (zc(b).pool_pages < 20) ops.putPage(pool, key(1), puts++, prefixPage(1300, puts), true);
      expect(zc(b).eph_zpages).toBe(puts);
      expect(zc(b).eph_pageframes).toBe(4);
      // With ephemeral frames left, a persistent store eats them instead of being refused.
      const hitsBefore = zc(b).pool_limit_hit;
      expect(fs.store(0, 0, randomPage())).toBe(true);
      const s = zc(b);
      expect(s.pers_ate_eph).toBe(1);
      expect(s.evicted_eph_zpages).toBeGreaterThan(0);
      expect(s.evicted_eph_zpages).toBe(puts - s.eph_zpages);
      expect(s.pool_limit_hit).toBe(hitsBefore);
      expect(s.pool_pages).toBe(20);
    });

    it('writebackSync evicts ephemeral pages first (no I/O), then writes persistent pages back', () => {
      const b = backend({ maxPoolBytes: 64 * PAGE_SIZE });
      const fs = b.frontswap;
      const ops = cc(b);
      fs.init(0, { type: 0, pages: 64, path: '/nonexistent', fd: -1 }); // a pwrite would fail
      for (let o = 0; o < 10; o++) expect(fs.store(0, o, textPage(o))).toBe(true);
      const pool = ops.initFs(PAGE_SIZE);
      for (let i = 0; i < 10; i++) ops.putPage(pool, key(1), i, textPage(100 + i), true);
      const ephFrames = zc(b).eph_pageframes;
      expect(ephFrames).toBeGreaterThan(0);
      const mech = (b as unknown as { frontswap: { writebackSync(n: number): number } }).frontswap;
      expect(mech.writebackSync(4)).toBeGreaterThanOrEqual(4);
      expect(zc(b).eph_pageframes).toBeLessThan(ephFrames);
      expect(zc(b).written_back_pages).toBe(0);
      const dropped = zc(b).evicted_eph_zpages;
      expect(mech.writebackSync(100)).toBe(10 - dropped); // the ephemeral rest, then the pwrite to fd -1 fails
      const s = zc(b);
      expect([s.eph_pageframes, s.eph_zpages, s.evicted_eph_zpages, s.evicted_eph_pageframes]).toEqual([0, 0, 10, ephFrames]);
      // Each page of the failed write counts once: the ten slots are one run.
      expect(s.reject_reclaim_fail).toBe(10);
      expect(s.pers_zpages).toBe(10);
    });
  });
});
