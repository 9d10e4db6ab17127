// The pure-JS zcache: its codec, zbud placement, and the backend's frontswap side for each of its
// allocators (same-filled pages, the compress_poor rules, raw pages, duplicates, exclusive loads,
// invalidation, batches, the pool cap, bad arguments, counters, close), then a randomized check
// against a Map model. The allocators alone: zcache-js-allocators.test.ts.
import { describe, expect, it } from 'vitest';
import { ALLOCATORS, parseZcacheOptions } from '../lib/backends/options';
import { PAGE_SIZE, type AreaInfo, type Backend, type ZcacheOptions } from '../lib/backends/types';
import { createZcacheJs as createFromConfig } from '../lib/backends/zcache-js';
import { PERS } from '../lib/backends/zcache-js/allocator';
import { PageCodec, fillPage, sameFilledValue } from '../lib/backends/zcache-js/codec';
import { FRAMES_PER_CHUNK, FrameFail } from '../lib/backends/zcache-js/frames';
import { CHUNK_SIZE, NCHUNKS, Zbud } from '../lib/backends/zcache-js/zbud';
import { chainFor, sizeClasses } from '../lib/backends/zcache-js/zs-classes';

// ---- helpers ------------------------------------------------------------------------------------

let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

/** A page whose first n bytes are random and the rest zero: compresses to about n bytes. */
function prefixPage(n: number): Uint8Array {
  const p = new Uint8Array(PAGE_SIZE);
  for (let i = 0; i < n; i++) p[i] = (rnd() * 256) | 0;
  if (n === 0) p[PAGE_SIZE - 1] = 1;
  return p;
}

/** Text-like compressible page. */
function textPage(): Uint8Array {
  const words = ['alpha', 'beta', 'gamma', 'delta', '{"id":', '"name":', 'true', 'null', '\n'];
  const p = new Uint8Array(PAGE_SIZE);
  let i = 0;
  while (i < PAGE_SIZE) {
    const w = words[(rnd() * words.length) | 0] + ((rnd() * 1000) | 0) + ' ';
    for (let k = 0; k < w.length && i < PAGE_SIZE; k++) p[i++] = w.charCodeAt(k);
  }
  return p;
}

function randomPage(): Uint8Array {
  return prefixPage(PAGE_SIZE);
}

function samePage(value: number): Uint8Array {
  const p = new Uint8Array(PAGE_SIZE);
  fillPage(p, 0, value);
  return p;
}

function area(type: number, pages: number): AreaInfo {
  return { type, pages, path: `/tmp/zcache-js-test-${type}`, fd: -1 };
}

function compressedLength(page: Uint8Array): number {
  return new PageCodec().compress(page);
}

function zc(b: Backend): Record<string, number> {
  return b.stats().zcache;
}

/**
 * Makers of backends with one allocator: from options as the registry parses them, writeback off
 * unless asked for (these areas have no file); `open` also inits area 0.
 */
function makers(allocator: ZcacheOptions['allocator']) {
  const createZcacheJs = (options: ZcacheOptions): Backend =>
    createFromConfig(parseZcacheOptions({ writeback: false, allocator, ...options }));
  const open = (options: ZcacheOptions = {}, pages = 1024): Backend => {
    const b = createZcacheJs({ maxPoolBytes: 64 << 20, ...options });
    b.frontswap.init(0, area(0, pages));
    return b;
  };
  return { createZcacheJs, open };
}

/** Bytes an object of `size` takes in a pool of `frames` with `allocator`: its zbud chunks or zsmalloc slot. */
function slotBytes(allocator: string, size: number, frames: number): number {
  if (allocator === 'zbud') return Math.ceil(size / CHUNK_SIZE) * CHUNK_SIZE;
  const g = sizeClasses(chainFor(frames));
  return g.classes[g.classOf(size)].size;
}

// ---- codec --------------------------------------------------------------------------------------

describe('codec', () => {
  it('round-trips pages and reports incompressible ones as longer than a page', () => {
    const codec = new PageCodec();
    for (const page of [textPage(), prefixPage(100), prefixPage(3000)]) {
      const n = codec.compress(page);
      expect(n).toBeLessThan(PAGE_SIZE);
      const into = new Uint8Array(PAGE_SIZE);
      expect(codec.decompress(codec.out.slice(0, n), 0, n, into)).toBe(true);
      expect(into).toEqual(page);
    }
    expect(codec.compress(randomPage())).toBeGreaterThan(PAGE_SIZE);
  });

  it('detects same-filled pages by u32 word at any alignment', () => {
    const buf = new Uint8Array(PAGE_SIZE + 3);
    fillPage(buf, 3, 0xdeadbeef);
    expect(sameFilledValue(buf, 3)).toBe(0xdeadbeef);
    buf[3 + 4093] ^= 1;
    expect(sameFilledValue(buf, 3)).toBe(-1);
    expect(sameFilledValue(new Uint8Array(PAGE_SIZE), 0)).toBe(0);
    const p = samePage(0x01020304);
    expect([p[0], p[1], p[2], p[3], p[4092], p[4095]]).toEqual([4, 3, 2, 1, 4, 1]);
  });
});

// ---- zbud ---------------------------------------------------------------------------------------

describe('zbud placement', () => {
  it('left-aligns the first buddy and right-aligns the last one', () => {
    const z = new Zbud(100);
    const a = z.alloc(1000, PERS); // 16 chunks
    expect(a & 1).toBe(0);
    expect(z.byteOffset(a) % PAGE_SIZE).toBe(0);
    expect(z.chunksOf(a)).toBe(16);
    expect(z.listHead(NCHUNKS - 16)).toBe(a >> 1);
    expect(z.unbuddiedCount).toBe(1);
    const b = z.alloc(3000, PERS); // 47 chunks: fits the 48 free chunks of a's frame
    expect(b >> 1).toBe(a >> 1);
    expect(b & 1).toBe(1);
    expect(z.byteOffset(b) % PAGE_SIZE).toBe(PAGE_SIZE - 47 * CHUNK_SIZE);
    expect(z.byteOffset(b) + z.chunksOf(b) * CHUNK_SIZE).toBe(z.byteOffset(a) + PAGE_SIZE);
    expect(z.buddiedCount).toBe(1);
    expect(z.unbuddiedCount).toBe(0);
    expect(z.listHead('buddied')).toBe(a >> 1);
    expect(z.zbytes).toBe((z.chunksOf(a) + z.chunksOf(b)) * CHUNK_SIZE); // whole chunks, as native zbud counts
    expect(z.pages).toBe(1);
  });

  it('keeps unbuddied frames on lists by free chunks and takes the smallest list that fits', () => {
    const z = new Zbud(100);
    const f32 = z.alloc(32 * 64, PERS) >> 1; // 32 free
    const f20 = z.alloc(44 * 64, PERS) >> 1; // 20 free: does not fit f32's 32? 44 > 32, new frame
    expect(f20).not.toBe(f32);
    const f40 = z.alloc(24 * 64, PERS) >> 1; // 24 chunks fit f32 (32 free): smallest list >= 24 is 32
    expect(f40).toBe(f32);
    expect(z.listHead(20)).toBe(f20);
    expect(z.listHead(32)).toBe(-1);
    expect(z.buddiedCount).toBe(1);
    // 21 chunks: no unbuddied frame with >= 21 free chunks (only 20), so a new frame.
    const g = z.alloc(21 * 64, PERS) >> 1;
    expect(g).not.toBe(f20);
    expect(z.listHead(NCHUNKS - 21)).toBe(g);
    // 20 chunks: smallest list that fits is exactly 20.
    expect(z.alloc(20 * 64, PERS) >> 1).toBe(f20);
    expect(z.pages).toBe(3);
  });

  it('moves frames between buddied and unbuddied on free and frees empty frames for reuse', () => {
    const z = new Zbud(100);
    const a = z.alloc(100, PERS);
    const b = z.alloc(200, PERS);
    const frame = a >> 1;
    expect(b >> 1).toBe(frame);
    z.free(a);
    expect(z.buddiedCount).toBe(0);
    expect(z.listHead(NCHUNKS - 4)).toBe(frame); // b is 200 bytes = 4 chunks
    // The first slot is free again: a new object goes there, left-aligned.
    const c = z.alloc(64, PERS);
    expect(c).toBe(frame * 2);
    z.free(b);
    z.free(c);
    expect(z.pages).toBe(0);
    expect(z.unbuddiedCount + z.buddiedCount).toBe(0);
    expect(z.alloc(64, PERS) >> 1).toBe(frame);
  });

  it('fits a raw page as a first buddy and never places another object with it', () => {
    const z = new Zbud(100);
    const a = z.alloc(PAGE_SIZE, PERS);
    expect(z.chunksOf(a)).toBe(NCHUNKS);
    expect(z.listHead(0)).toBe(a >> 1);
    expect(z.alloc(1, PERS) >> 1).not.toBe(a >> 1);
  });

  it('refuses a new frame at the cap and releases empty storage chunks', () => {
    const z = new Zbud(2);
    expect(z.alloc(3000, PERS)).toBeGreaterThanOrEqual(0);
    expect(z.alloc(3000, PERS)).toBeGreaterThanOrEqual(0);
    expect(z.alloc(3000, PERS)).toBe(-1);
    expect(z.frames.lastFail).toBe(FrameFail.Limit);
    expect(z.alloc(1000, PERS)).toBeGreaterThanOrEqual(0); // still fits a buddy slot

    const big = new Zbud(1 << 20);
    const hs: number[] = [];
    for (let i = 0; i < FRAMES_PER_CHUNK * 3 + 5; i++) hs.push(big.alloc(4000, PERS));
    expect(big.frames.chunksAllocated).toBe(4);
    for (const h of hs) big.free(h);
    expect(big.pages).toBe(0);
    expect(big.frames.chunksAllocated).toBe(1); // one spare kept
    for (let i = 0; i < FRAMES_PER_CHUNK * 2; i++) big.alloc(4000, PERS);
    expect(big.frames.chunksAllocated).toBe(2);
  });
});

// ---- backend ------------------------------------------------------------------------------------

describe.each(ALLOCATORS['zcache-js'])('zcache-js backend with %s', (allocator) => {
  const { createZcacheJs, open } = makers(allocator);

  it('keeps same-filled pages as a value, without frames', () => {
    const b = open();
    const fs = b.frontswap;
    expect(fs.store(0, 1, samePage(0))).toBe(true);
    expect(fs.store(0, 2, samePage(0x01020304))).toBe(true);
    expect(fs.store(0, 3, samePage(0xffffffff))).toBe(true);
    const s = zc(b);
    expect(s.same_filled_pages).toBe(3);
    expect(s.stored_pages).toBe(3);
    expect(s.pool_pages).toBe(0);
    const into = new Uint8Array(PAGE_SIZE).fill(7);
    expect(fs.load(0, 2, into, false)).toBe(true);
    expect(into).toEqual(samePage(0x01020304));
    expect(fs.load(0, 1, into, true)).toBe(true);
    expect(into).toEqual(samePage(0));
    expect(zc(b).same_filled_pages).toBe(2);
  });

  it('refuses pages over maxCompressedBytes and, while the mean is high, over maxMeanCompressedBytes', () => {
    const b = open();
    const fs = b.frontswap;
    expect(fs.store(0, 0, randomPage())).toBe(false);
    let s = zc(b);
    expect([s.reject_compress_poor, s.reject_mean_compress_poor, s.stored_pages]).toEqual([1, 0, 0]);
    const p3600 = prefixPage(3600);
    expect(compressedLength(p3600)).toBeGreaterThan(3584);
    expect(fs.store(0, 0, p3600)).toBe(false);

    const p3000 = prefixPage(3000);
    const len3000 = compressedLength(p3000);
    expect(len3000).toBeGreaterThan(2560);
    expect(len3000).toBeLessThanOrEqual(3584);
    expect(fs.store(0, 1, p3000)).toBe(true); // mean was 0
    expect(zc(b).mean_compressed_size).toBe(len3000);
    expect(fs.store(0, 2, prefixPage(3000))).toBe(false); // mean > 2560 and len > 2560
    s = zc(b);
    expect([s.reject_compress_poor, s.reject_mean_compress_poor]).toEqual([3, 1]);
    const p1000 = prefixPage(1000);
    expect(fs.store(0, 3, p1000)).toBe(true); // small pages always pass the mean rule
    expect(zc(b).mean_compressed_size).toBe(Math.floor((len3000 + compressedLength(p1000)) / 2));
    expect(fs.store(0, 2, prefixPage(3000))).toBe(true); // mean now <= 2560
    expect(zc(b).compressed_bytes).toBeGreaterThan(len3000 * 2);
  });

  it('stores incompressible pages raw with storeIncompressible', () => {
    const b = open({ storeIncompressible: true });
    const fs = b.frontswap;
    const r = randomPage();
    const p3000 = prefixPage(3000);
    const len = compressedLength(p3000);
    expect(fs.store(0, 1, p3000)).toBe(true);
    expect(fs.store(0, 0, r)).toBe(true); // compress_poor: raw
    expect(fs.store(0, 2, prefixPage(3000))).toBe(true); // mean-poor (the raw page counts 4096): raw
    const s = zc(b);
    expect(s.reject_compress_poor).toBe(0);
    expect(s.stored_incompressible_pages).toBe(2);
    // Raw pages count 4096 in compressed_bytes, as in the native backend, and take a whole frame.
    expect(s.compressed_bytes).toBe(2 * PAGE_SIZE + len);
    expect(s.pers_zbytes).toBe(2 * PAGE_SIZE + slotBytes(allocator, len, (64 << 20) / PAGE_SIZE));
    expect(s.pool_total_size).toBeGreaterThanOrEqual(s.pers_zbytes);
    const into = new Uint8Array(PAGE_SIZE);
    expect(fs.load(0, 0, into, true)).toBe(true);
    expect(into).toEqual(r);
    expect(zc(b).stored_incompressible_pages).toBe(1);
    expect(zc(b).compressed_bytes).toBe(PAGE_SIZE + len);
  });

  it('drops the old copy on a duplicate store, whether or not the new one is kept', () => {
    const b = open();
    const fs = b.frontswap;
    const a = textPage();
    const c = textPage();
    expect(fs.store(0, 5, a)).toBe(true);
    expect(fs.store(0, 5, c)).toBe(true);
    const into = new Uint8Array(PAGE_SIZE);
    expect(fs.load(0, 5, into, false)).toBe(true);
    expect(into).toEqual(c);
    expect(zc(b).duplicate_entry).toBe(1);
    expect(zc(b).stored_pages).toBe(1);
    expect(fs.store(0, 5, randomPage())).toBe(false);
    expect(fs.load(0, 5, into, false)).toBe(false);
    const s = zc(b);
    expect([s.duplicate_entry, s.stored_pages, s.pool_pages, s.compressed_bytes]).toEqual([2, 0, 0, 0]);
  });

  it('frees the copy on an exclusive load only', () => {
    const b = open();
    const fs = b.frontswap;
    const p = textPage();
    fs.store(0, 9, p);
    const into = new Uint8Array(PAGE_SIZE);
    expect(fs.load(0, 9, into, false)).toBe(true);
    expect(fs.load(0, 9, into, false)).toBe(true);
    expect(fs.load(0, 9, into, true)).toBe(true);
    expect(into).toEqual(p);
    expect(fs.load(0, 9, into, false)).toBe(false);
    const s = zc(b);
    expect([s.loads, s.stored_pages, s.pool_pages, s.invalidates]).toEqual([3, 0, 0, 0]);
  });

  it('invalidates pages and whole areas', () => {
    const b = createZcacheJs({ maxPoolBytes: 1 << 20 });
    const fs = b.frontswap;
    fs.init(0, area(0, 100));
    fs.init(1, area(1, 100));
    for (let i = 0; i < 50; i++) {
      fs.store(0, i, textPage());
      fs.store(1, i, i % 2 ? textPage() : samePage(i));
    }
    fs.invalidatePage(0, 3);
    fs.invalidatePage(0, 3); // not held: nothing
    fs.invalidatePage(0, 60);
    expect(zc(b).invalidates).toBe(1);
    expect(zc(b).stored_pages).toBe(99);
    fs.invalidateArea(1);
    const s = zc(b);
    expect([s.stored_pages, s.same_filled_pages]).toEqual([49, 0]);
    expect(() => fs.load(1, 0, new Uint8Array(PAGE_SIZE), false)).toThrow(RangeError);
    fs.init(1, area(1, 10));
    expect(fs.load(1, 1, new Uint8Array(PAGE_SIZE), false)).toBe(false);
    fs.invalidateArea(0);
    const t = zc(b);
    expect([t.stored_pages, t.pool_pages, t.compressed_bytes, t.pers_zbytes]).toEqual([0, 0, 0, 0]);
  });

  it('throws when an area is initialised twice', () => {
    const b = open();
    expect(() => b.frontswap.init(0, area(0, 10))).toThrow(/already initialised/);
  });

  it('runs batch stores, loads and invalidates', () => {
    const b = open();
    const fs = b.frontswap;
    const src = [textPage(), samePage(0xabababab), randomPage(), prefixPage(500), samePage(0x00ff00ff)];
    const pages = new Uint8Array(src.length * PAGE_SIZE);
    src.forEach((p, i) => pages.set(p, i * PAGE_SIZE));
    const offsets = Uint32Array.from([10, 11, 12, 13, 14]);
    const results = new Uint8Array(5);
    expect(fs.storeBatch(0, offsets, pages, results)).toBe(4);
    expect([...results]).toEqual([1, 1, 0, 1, 1]);
    const into = new Uint8Array(pages.length);
    const hits = new Uint8Array(5);
    expect(fs.loadBatch(0, offsets, into, hits, false)).toBe(4);
    expect([...hits]).toEqual([1, 1, 0, 1, 1]);
    for (const i of [0, 1, 3, 4]) expect(into.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)).toEqual(src[i]);
    expect(fs.loadBatch(0, Uint32Array.from([13, 10]), into.subarray(0, 2 * PAGE_SIZE), hits, true)).toBe(2);
    expect(into.subarray(0, PAGE_SIZE)).toEqual(src[3]);
    expect(zc(b).stored_pages).toBe(2);
    fs.invalidateBatch(0, Uint32Array.from([11, 12, 14]));
    const s = zc(b);
    expect([s.stored_pages, s.invalidates, s.stores, s.loads]).toEqual([0, 2, 5, 6]);
  });

  it('refuses stores when the pool cap is reached, until it is back under the accept threshold', () => {
    // Threshold 50% of 4 frames: accepting again needs fewer than 2 frames in use. Raw pages take
    // a whole frame with either allocator.
    const b = open({ maxPoolBytes: 4 * PAGE_SIZE, acceptThresholdPercent: 50, storeIncompressible: true });
    const fs = b.frontswap;
    for (let i = 0; i < 4; i++) expect(fs.store(0, i, randomPage())).toBe(true);
    expect(zc(b).pool_pages).toBe(4);
    expect(fs.store(0, 4, randomPage())).toBe(false);
    let s = zc(b);
    expect([s.reject_alloc_fail, s.pool_limit_hit, s.pool_total_size]).toEqual([1, 1, 4 * PAGE_SIZE]);
    expect(fs.store(0, 5, samePage(42))).toBe(true); // same-filled needs no frame
    expect(fs.store(0, 6, prefixPage(100))).toBe(false); // the pool reached full: refused before any allocation
    fs.invalidatePage(0, 0);
    fs.invalidatePage(0, 1);
    expect(fs.store(0, 4, randomPage())).toBe(false); // 2 frames: not under 50% yet
    s = zc(b);
    expect([s.reject_alloc_fail, s.pool_limit_hit, s.pool_pages]).toEqual([1, 3, 2]);
    fs.invalidatePage(0, 2);
    expect(fs.store(0, 4, randomPage())).toBe(true);
    expect(fs.store(0, 6, prefixPage(100))).toBe(true);
    s = zc(b);
    expect(s.pool_pages).toBeLessThanOrEqual(4);
    expect(s.pool_limit_hit).toBe(3);
  });

  it('throws RangeError on a wrong-length page and changes nothing', () => {
    const b = open();
    const fs = b.frontswap;
    const p = textPage();
    fs.store(0, 1, p);
    const before = JSON.stringify(b.stats());
    expect(() => fs.store(0, 1, new Uint8Array(100))).toThrow(RangeError);
    expect(() => fs.load(0, 1, new Uint8Array(PAGE_SIZE + 1), true)).toThrow(RangeError);
    expect(() => fs.storeBatch(0, Uint32Array.from([1, 2]), new Uint8Array(PAGE_SIZE), new Uint8Array(2))).toThrow(RangeError);
    expect(() => fs.storeBatch(0, Uint32Array.from([1, 5000]), new Uint8Array(2 * PAGE_SIZE), new Uint8Array(2))).toThrow(RangeError);
    expect(JSON.stringify(b.stats())).toBe(before);
    const into = new Uint8Array(PAGE_SIZE);
    expect(fs.load(0, 1, into, false)).toBe(true);
    expect(into).toEqual(p);
  });

  it('reports every counter by the native names', () => {
    const b = open();
    const s = b.stats();
    expect(Object.keys(s.zcache).sort()).toEqual(
      [
        'stored_pages', 'pool_total_size', 'pool_pages', 'same_filled_pages', 'duplicate_entry', 'reject_compress_poor',
        'reject_mean_compress_poor', 'reject_compress_fail', 'reject_alloc_fail', 'reject_reclaim_fail', 'pool_limit_hit',
        'written_back_pages', 'decompress_fail', 'stored_incompressible_pages', 'compressed_bytes', 'pers_pageframes',
        'eph_pageframes', 'evicted_eph_pageframes', 'outstanding_writeback_pages', 'metadata_bytes', 'mean_compressed_size',
        'loads', 'stores', 'invalidates',
        // The ephemeral (cleancache) pool, accounted apart.
        'pers_zpages', 'eph_zpages', 'pers_zbytes', 'eph_zbytes', 'evicted_eph_zpages', 'pers_ate_eph',
        'eph_nonactive_puts_ignored', 'eph_puts', 'eph_gets', 'eph_invalidates',
      ].sort(),
    );
    // Only the directory of the allocator in use.
    expect(Object.keys(s).sort()).toEqual([allocator, 'zcache'].sort());
    if (allocator === 'zbud') expect(Object.keys(s.zbud).sort()).toEqual(['buddied', 'pages', 'unbuddied', 'zbytes']);
    else expect(Object.keys(s.zsmalloc)).toEqual(expect.arrayContaining(['pages', 'compactions', 'pages_compacted', 'class/4096/obj_used']));
    expect(s.zcache.metadata_bytes).toBeGreaterThan(0);
  });

  it('throws ERR_TMEM_CLOSED after close', async () => {
    const b = open();
    b.frontswap.store(0, 0, textPage());
    await b.close();
    await b.close();
    expect(zc(b).stored_pages).toBe(0);
    for (const call of [
      () => b.frontswap.store(0, 0, textPage()),
      () => b.frontswap.load(0, 0, new Uint8Array(PAGE_SIZE), false),
      () => b.frontswap.invalidatePage(0, 0),
      () => b.frontswap.invalidateArea(0),
      () => b.frontswap.init(2, area(2, 1)),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    }
  });
});

// ---- randomized model check ---------------------------------------------------------------------

describe.each(ALLOCATORS['zcache-js'])('zcache-js with %s against a Map model', (allocator) => {
  const { createZcacheJs } = makers(allocator);

  it.each([
    [false, 20_000],
    [true, 10_000],
  ])('agrees with the model (storeIncompressible %s, %i random operations)', (storeIncompressible, OPS) => {
    const AREAS = 3;
    const PAGES = 300;
    // A small pool, so refusals at the cap happen too.
    const FRAMES = 120;
    const b = createZcacheJs({ maxPoolBytes: FRAMES * PAGE_SIZE, storeIncompressible });
    const fs = b.frontswap;
    const model = new Map<number, Uint8Array>();
    for (let t = 0; t < AREAS; t++) fs.init(t, area(t, PAGES));
    let maxRounding = 0;
    for (let n = 1; n <= PAGE_SIZE; n++) maxRounding = Math.max(maxRounding, slotBytes(allocator, n, FRAMES) - n);
    const kinds = [textPage, () => prefixPage((rnd() * 3600) | 0), () => samePage((rnd() * 4) | 0 ? 0 : (rnd() * 2 ** 32) >>> 0), randomPage];
    const page = (): Uint8Array => kinds[(rnd() * kinds.length) | 0]();
    const into = new Uint8Array(PAGE_SIZE);
    const key = (t: number, o: number): number => t * PAGES + o;
    let ops = 0;
    let hits = 0;
    let stored = 0;
    const check = (): void => {
      const s = b.stats();
      const z = s.zcache;
      expect(z.stored_pages).toBe(model.size);
      expect(s[allocator].pages).toBe(z.pool_pages);
      expect(z.pool_pages).toBeLessThanOrEqual(FRAMES);
      expect(z.pers_pageframes).toBe(z.pool_pages);
      // Slots or chunks: at least the objects' bytes, at most the rounding of the largest step more.
      expect(z.pers_zbytes).toBeGreaterThanOrEqual(z.compressed_bytes);
      expect(z.pers_zbytes).toBeLessThanOrEqual(z.compressed_bytes + maxRounding * (z.stored_pages - z.same_filled_pages));
    };
    while (ops < OPS) {
      const t = (rnd() * AREAS) | 0;
      const o = (rnd() * PAGES) | 0;
      const r = rnd();
      ops++;
      if (r < 0.4) {
        const p = page();
        const ok = fs.store(t, o, p);
        if (ok) {
          model.set(key(t, o), p);
          stored++;
        } else model.delete(key(t, o));
      } else if (r < 0.7) {
        const exclusive = rnd() < 0.3;
        const want = model.get(key(t, o));
        into.fill(0x5a);
        const got = fs.load(t, o, into, exclusive);
        expect(got).toBe(want !== undefined);
        if (want) {
          hits++;
          expect(Buffer.compare(into, want)).toBe(0);
          if (exclusive) model.delete(key(t, o));
        }
      } else if (r < 0.85) {
        fs.invalidatePage(t, o);
        model.delete(key(t, o));
      } else if (r < 0.92) {
        // Batch store of distinct offsets.
        const n = 1 + ((rnd() * 8) | 0);
        const offs = new Set<number>();
        while (offs.size < n) offs.add((rnd() * PAGES) | 0);
        const offsets = Uint32Array.from(offs);
        const src = offsets.length ? Array.from(offsets, () => page()) : [];
        const buf = new Uint8Array(n * PAGE_SIZE);
        src.forEach((p, i) => buf.set(p, i * PAGE_SIZE));
        const res = new Uint8Array(n);
        const count = fs.storeBatch(t, offsets, buf, res);
        expect(count).toBe(res.reduce((a, x) => a + x, 0));
        offsets.forEach((off, i) => (res[i] ? model.set(key(t, off), src[i]) : model.delete(key(t, off))));
      } else if (r < 0.99) {
        const n = 1 + ((rnd() * 8) | 0);
        const offs = new Set<number>();
        while (offs.size < n) offs.add((rnd() * PAGES) | 0);
        const offsets = Uint32Array.from(offs);
        const buf = new Uint8Array(n * PAGE_SIZE);
        const hitv = new Uint8Array(n);
        const exclusive = rnd() < 0.3;
        fs.loadBatch(t, offsets, buf, hitv, exclusive);
        offsets.forEach((off, i) => {
          const want = model.get(key(t, off));
          expect(hitv[i]).toBe(want ? 1 : 0);
          if (want) {
            expect(Buffer.compare(buf.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), want)).toBe(0);
            if (exclusive) model.delete(key(t, off));
          }
        });
      } else if (r < 0.995) {
        fs.invalidateBatch(t, Uint32Array.from([o, (o + 1) % PAGES]));
        model.delete(key(t, o));
        model.delete(key(t, (o + 1) % PAGES));
      } else {
        fs.invalidateArea(t);
        for (let k = 0; k < PAGES; k++) model.delete(key(t, k));
        fs.init(t, area(t, PAGES));
      }
      if (ops % 500 === 0) check();
    }
    check();
    expect(hits).toBeGreaterThan(OPS / 20);
    expect(stored).toBeGreaterThan(OPS / 20);
    const s = zc(b);
    expect(s.pool_limit_hit).toBeGreaterThan(0);
    if (storeIncompressible) expect(s.stored_incompressible_pages).toBeGreaterThan(0);
    else expect(s.reject_compress_poor).toBeGreaterThan(0);
    expect(s.duplicate_entry).toBeGreaterThan(0);
  });
});
