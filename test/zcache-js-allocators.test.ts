// The allocators of zcache-js on their own: both against a model of what they hold (random alloc,
// write, read and free in both pools, up to the frame cap, with compaction), then what is
// zsmalloc's: the class geometry, objects that straddle frames, fullness groups, compaction moving
// objects while they are read (their owners told where), frames moved out of sparse chunks, and
// density after churn.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../lib/backends/types';
import { EPH, PERS, type Allocator, type PoolId } from '../lib/backends/zcache-js/allocator';
import { FRAMES_PER_CHUNK, FrameFail } from '../lib/backends/zcache-js/frames';
import { CHUNK_SIZE, Zbud } from '../lib/backends/zcache-js/zbud';
import { chainFor, MAX_CHAIN, MIN_SIZE, SIZE_STEP, sizeClasses } from '../lib/backends/zcache-js/zs-classes';
import { Zsmalloc } from '../lib/backends/zcache-js/zsmalloc';
import { rng } from './support/rng';

/** Bytes an object of `size` takes in its frames: its zbud chunks or its zsmalloc slot. */
function slotBytes(a: Allocator, size: number): number {
  if (a.name === 'zbud') return Math.ceil(size / CHUNK_SIZE) * CHUNK_SIZE;
  const g = (a as Zsmalloc).geometry;
  return g.classes[g.classOf(size)].size;
}

/** The zsmalloc classes (with chains of up to 8 frames, as in pools of 32 MiB and more). */
const { classes: CLASSES, classOf, hugeSize: HUGE_SIZE } = sizeClasses(MAX_CHAIN);
/** A cap big enough for chains of 8 frames. */
const BIG = 1 << 20;

function fill(bytes: Uint8Array, seed: number): Uint8Array {
  let s = seed | 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s;
  }
  return bytes;
}

/** Throws unless the object at `loc` reads `want` (Buffer.compare: vitest's deep equality is slow on bytes). */
function expectBytes(a: Allocator, loc: number, want: Uint8Array): void {
  const buf = a.map(loc, want.length);
  if (Buffer.compare(buf.subarray(a.mapOffset, a.mapOffset + want.length), want) !== 0) throw new Error(`location ${loc} reads wrong bytes`);
}

/**
 * Owners for a test, as a backend's index entries are: owner id → location, kept up to date by the
 * allocator's onMove. Owner ids are unique over both pools here; `moves` counts the calls.
 */
function owners(a: Allocator): { loc: Map<number, number>; pool: Map<number, PoolId>; moves: number } {
  const o = { loc: new Map<number, number>(), pool: new Map<number, PoolId>(), moves: 0 };
  a.onMove = (pool, owner, location) => {
    if (o.pool.get(owner) !== pool || !o.loc.has(owner)) throw new Error(`move of an object owner ${owner} does not hold`);
    o.loc.set(owner, location);
    o.moves++;
  };
  return o;
}

const makers: [string, (maxFrames: number) => Allocator][] = [
  ['zsmalloc', (n) => new Zsmalloc(n)],
  ['zbud', (n) => new Zbud(n)],
];

describe.each(makers)('%s against a model', (_name, make) => {
  it('random alloc, write, read and free in both pools, at the cap, with compaction', () => {
    const MAX = 300;
    const a = make(MAX);
    const rand = rng(0x5eed);
    const own = owners(a);
    const data = new Map<number, Uint8Array>();
    const ids: number[] = [];
    // Sizes as compressed pages come: mostly 200..2000 bytes, some tiny, some raw.
    const size = (): number => {
      const r = rand();
      if (r < 0.05) return 1 + ((rand() * 64) | 0);
      if (r < 0.1) return PAGE_SIZE;
      return 200 + ((rand() * 1800) | 0);
    };
    const check = (): void => {
      let zbytes = 0;
      const places = new Set<number>();
      for (const [id, bytes] of data) {
        expectBytes(a, own.loc.get(id)!, bytes);
        places.add(own.loc.get(id)!);
        zbytes += slotBytes(a, bytes.length);
      }
      expect(places.size).toBe(data.size);
      expect(a.zbytesOf(PERS) + a.zbytesOf(EPH)).toBe(zbytes);
      expect(a.framesOf(PERS) + a.framesOf(EPH)).toBe(a.frames.inUse);
      expect(a.frames.inUse).toBeLessThanOrEqual(MAX);
    };
    let refused = 0;
    for (let op = 0; op < 20_000; op++) {
      const r = rand();
      if (r < 0.5) {
        const pool: PoolId = rand() < 0.7 ? PERS : EPH;
        const bytes = fill(new Uint8Array(size()), op);
        const loc = a.alloc(bytes.length, pool, op);
        if (loc < 0) {
          expect(a.frames.lastFail).toBe(FrameFail.Limit);
          refused++;
          continue;
        }
        a.write(loc, bytes, 0, bytes.length);
        own.loc.set(op, loc);
        own.pool.set(op, pool);
        data.set(op, bytes);
        ids.push(op);
      } else if (r < 0.85 && ids.length > 0) {
        const i = (rand() * ids.length) | 0;
        const id = ids[i];
        ids[i] = ids[ids.length - 1];
        ids.pop();
        a.free(own.loc.get(id)!);
        own.loc.delete(id);
        data.delete(id);
      } else if (r < 0.99 && ids.length > 0) {
        const id = ids[(rand() * ids.length) | 0];
        const bytes = data.get(id)!;
        expectBytes(a, own.loc.get(id)!, bytes);
        // Rewrite in place: the location keeps naming the new bytes.
        fill(bytes, op + 7);
        a.write(own.loc.get(id)!, bytes, 0, bytes.length);
      } else {
        a.compact();
      }
      if (op % 2000 === 0) check();
    }
    check();
    expect(refused).toBeGreaterThan(0);
    if (a.name === 'zsmalloc') expect(own.moves).toBeGreaterThan(0);
    for (const id of ids) a.free(own.loc.get(id)!);
    expect([a.frames.inUse, a.zbytesOf(PERS), a.zbytesOf(EPH)]).toEqual([0, 0, 0]);
    a.release();
    expect(a.frames.chunksAllocated).toBe(0);
  });
});

describe('zsmalloc size classes', () => {
  it('have shorter chains in small pools, where each class keeping a partly used zspage costs most', () => {
    expect([chainFor(256), chainFor(4096), chainFor(8192), chainFor(1 << 24)]).toEqual([1, 4, 8, 8]);
    expect(new Zsmalloc(256).geometry).toBe(sizeClasses(1));
    for (let chain = 1; chain <= MAX_CHAIN; chain++) {
      const g = sizeClasses(chain);
      for (const c of g.classes) {
        expect(c.pages).toBeLessThanOrEqual(chain);
        expect(c.objs).toBe(Math.floor((c.pages * PAGE_SIZE) / c.size));
      }
      for (let n = 1; n <= PAGE_SIZE; n += 7) expect(g.classes[g.classOf(n)].size).toBeGreaterThanOrEqual(n);
    }
  });

  it('cover 32..4096 in 16-byte steps with the chain that uses frames best, merged where equal', () => {
    expect(CLASSES[0].size).toBe(MIN_SIZE);
    expect(CLASSES.at(-1)).toEqual({ size: PAGE_SIZE, pages: 1, objs: 1 });
    for (let i = 0; i < CLASSES.length; i++) {
      const c = CLASSES[i];
      expect((c.size - MIN_SIZE) % SIZE_STEP).toBe(0);
      expect(c.objs).toBe(Math.floor((c.pages * PAGE_SIZE) / c.size));
      expect(c.pages).toBeGreaterThanOrEqual(1);
      expect(c.pages).toBeLessThanOrEqual(MAX_CHAIN);
      // No chain length uses frames more than 2% better than the one chosen.
      const use = (k: number): number => (Math.floor((k * PAGE_SIZE) / c.size) * c.size) / (k * PAGE_SIZE);
      for (let k = 1; k <= MAX_CHAIN; k++) expect(use(k)).toBeLessThanOrEqual(use(c.pages) + 0.02 + 1e-9);
      if (i > 0) {
        expect(c.size).toBeGreaterThan(CLASSES[i - 1].size);
        expect([c.pages, c.objs]).not.toEqual([CLASSES[i - 1].pages, CLASSES[i - 1].objs]);
      }
    }
    // Every size goes to the smallest class that holds it.
    for (let n = 1; n <= PAGE_SIZE; n++) {
      const c = classOf(n);
      expect(CLASSES[c].size).toBeGreaterThanOrEqual(n);
      if (c > 0) expect(CLASSES[c - 1].size).toBeLessThan(n);
    }
    // Above the huge watermark an object takes a whole frame; below it, a frame holds more than one.
    expect(CLASSES[classOf(HUGE_SIZE + 1)]).toEqual({ size: PAGE_SIZE, pages: 1, objs: 1 });
    expect(CLASSES[classOf(HUGE_SIZE)].objs).toBeGreaterThan(CLASSES[classOf(HUGE_SIZE)].pages);
  });
});

describe('zsmalloc', () => {
  it('lets objects straddle the frames of a zspage, and hides it from readers and writers', () => {
    const a = new Zsmalloc(BIG);
    const size = 1200; // class 1216: 10 slots in 3 frames, slot 3 spans bytes 3648..4863
    const cls = CLASSES[classOf(size)];
    expect([cls.size, cls.pages, cls.objs]).toEqual([1216, 3, 10]);
    const hs = Array.from({ length: cls.objs }, (_, i) => {
      const at = a.alloc(size, PERS, i);
      a.write(at, fill(new Uint8Array(size), i + 1), 0, size);
      return at;
    });
    expect(a.frames.inUse).toBe(3);
    const at = a.inspect(hs[3]);
    expect(at.index).toBe(3);
    expect(at.frames).toHaveLength(3);
    // The bytes are split at the frame boundary: the head at the end of frame 0, the rest at the
    // start of frame 1.
    const want = fill(new Uint8Array(size), 4);
    const head = PAGE_SIZE - 3 * cls.size;
    const f0 = a.frames.buf(at.frames[0]);
    const f1 = a.frames.buf(at.frames[1]);
    expect(f0.slice(a.frames.byteOffset(at.frames[0]) + 3 * cls.size, a.frames.byteOffset(at.frames[0]) + PAGE_SIZE)).toEqual(want.slice(0, head));
    expect(f1.slice(a.frames.byteOffset(at.frames[1]), a.frames.byteOffset(at.frames[1]) + size - head)).toEqual(want.slice(head));
    for (let i = 0; i < hs.length; i++) expectBytes(a, hs[i], fill(new Uint8Array(size), i + 1));
    // A straddling object is read through a copy, one inside a frame in place.
    expect(a.map(hs[3], size)).not.toBe(f0);
    expect(a.map(hs[0], size)).toBe(f0);
  });

  it('keeps zspages in fullness groups and allocates from the fullest non-full one', () => {
    const a = new Zsmalloc(BIG);
    const size = 100; // class 112: 36 slots in one frame
    const cls = CLASSES[classOf(size)];
    expect([cls.size, cls.pages, cls.objs]).toEqual([112, 1, 36]);
    const hs = Array.from({ length: 108 }, (_, i) => a.alloc(size, PERS, i));
    const zs = (h: number): number => a.inspect(h).zspage;
    const z = [zs(hs[0]), zs(hs[36]), zs(hs[72])];
    const sc = a.inspect(hs[0]).cls;
    expect(sc.zspages).toBe(3);
    for (const id of z) expect(sc.groupOf(id)).toBe(10); // full
    // Leave 28, 34 and 36 of 36 slots used: 10 free in all, too few to compact.
    for (let i = 0; i < 8; i++) a.free(hs[i]);
    for (let i = 36; i < 38; i++) a.free(hs[i]);
    expect([sc.inuse(z[0]), sc.inuse(z[1]), sc.inuse(z[2])]).toEqual([28, 34, 36]);
    expect([sc.groupOf(z[0]), sc.groupOf(z[1]), sc.groupOf(z[2])]).toEqual([7, 9, 10]);
    expect(a.compactions).toBe(0);
    // New objects go to the fullest non-full zspage until it is full, then to the next fullest.
    expect([zs(a.alloc(size, PERS, 200)), zs(a.alloc(size, PERS, 201))]).toEqual([z[1], z[1]]);
    expect(sc.groupOf(z[1])).toBe(10);
    expect(zs(a.alloc(size, PERS, 202))).toBe(z[0]);
    expect(sc.groupOf(z[0])).toBe(8); // 29 of 36
    // Another pool never shares a zspage with this one.
    const e = a.alloc(size, EPH, 0);
    expect(a.inspect(e).cls).not.toBe(sc);
    expect(a.framesOf(EPH)).toBe(1);
    // An emptied zspage is freed at once, its frames with it.
    const frames = a.frames.inUse;
    a.free(e);
    expect([a.framesOf(EPH), a.frames.inUse]).toEqual([0, frames - 1]);
  });

  it('compacts while objects are read: owners follow their objects, bytes exact, emptied frames freed', () => {
    const a = new Zsmalloc(BIG);
    const rand = rng(42);
    const own = owners(a);
    const live = new Map<number, Uint8Array>();
    for (let id = 0; id < 3000; id++) {
      const data = fill(new Uint8Array(300 + ((rand() * 900) | 0)), id);
      const at = a.alloc(data.length, PERS, id);
      a.write(at, data, 0, data.length);
      own.loc.set(id, at);
      own.pool.set(id, PERS);
      live.set(id, data);
    }
    const first = new Map(own.loc);
    const peak = a.frames.inUse;
    // Free two thirds one at a time; a free may compact its class (once 1/8 of its slots are free),
    // and after every free that did, each remaining object is read back where its owner says.
    const order = [...live.keys()].sort(() => rand() - 0.5);
    let compactions = 0;
    for (const id of order.slice(0, 2000)) {
      a.free(own.loc.get(id)!);
      own.loc.delete(id);
      live.delete(id);
      if (a.compactions === compactions) continue;
      compactions = a.compactions;
      for (const [k, data] of live) expectBytes(a, own.loc.get(k)!, data);
    }
    const moved = [...live.keys()].filter((id) => own.loc.get(id) !== first.get(id));
    expect(moved.length).toBeGreaterThan(0);
    expect(own.moves).toBeGreaterThanOrEqual(moved.length);
    expect(a.compactions).toBeGreaterThan(0);
    expect(a.pagesCompacted).toBeGreaterThan(0);
    // On demand: at most one zspage of free slots left per class.
    a.compact();
    let ideal = 0;
    for (const data of live.values()) ideal += CLASSES[classOf(data.length)].size;
    expect(a.frames.inUse).toBeLessThan(peak / 2);
    expect(a.frames.inUse * PAGE_SIZE).toBeLessThanOrEqual(ideal * 1.1 + 104 * MAX_CHAIN * PAGE_SIZE);
    for (const [k, data] of live) expectBytes(a, own.loc.get(k)!, data);
  });

  it('after churn and compaction holds at most 1.10x the ideal frames, and gives emptied chunks back', () => {
    const a = new Zsmalloc(BIG);
    const rand = rng(7);
    const own = owners(a);
    const sizes: number[] = [];
    for (let id = 0; id < 100_000; id++) {
      // Compressed heap pages: most between 700 and 1700 bytes.
      const n = Math.max(33, Math.round(1200 + (rand() + rand() + rand() - 1.5) * 700));
      own.loc.set(id, a.alloc(n, PERS, id));
      own.pool.set(id, PERS);
      sizes.push(n);
    }
    const chunksFull = a.frames.chunksAllocated;
    const kept: number[] = [];
    let ideal = 0;
    for (let id = 0; id < sizes.length; id++) {
      if (rand() < 0.5) {
        a.free(own.loc.get(id)!);
        own.loc.delete(id);
      } else {
        kept.push(id);
        ideal += CLASSES[classOf(sizes[id])].size;
      }
    }
    for (const id of kept) a.write(own.loc.get(id)!, fill(new Uint8Array(sizes[id]), id), 0, sizes[id]);
    a.compact();
    const idealFrames = ideal / PAGE_SIZE;
    expect(a.frames.inUse / idealFrames).toBeLessThanOrEqual(1.1);
    // Frames were moved out of the sparse chunks: one chunk more than the frames need, at most
    // (the spare kept for the next allocations).
    expect(a.frames.chunksAllocated).toBeLessThanOrEqual(Math.ceil(a.frames.inUse / FRAMES_PER_CHUNK) + 1);
    expect(a.frames.chunksAllocated).toBeLessThan(chunksFull);
    for (const id of kept) expectBytes(a, own.loc.get(id)!, fill(new Uint8Array(sizes[id]), id));
  });

  it('moves frames out of sparse storage chunks when frees empty zspages, and releases the chunks', () => {
    const a = new Zsmalloc(BIG);
    const own = owners(a);
    const n = 3 * FRAMES_PER_CHUNK + 100; // one frame each: four chunks
    for (let id = 0; id < n; id++) {
      const at = a.alloc(PAGE_SIZE, PERS, id);
      a.write(at, fill(new Uint8Array(PAGE_SIZE), id), 0, PAGE_SIZE);
      own.loc.set(id, at);
      own.pool.set(id, PERS);
    }
    expect(a.frames.chunksAllocated).toBe(4);
    // Keep every eighth: each free empties a zspage; no compaction is involved.
    for (let id = 0; id < n; id++) {
      if (id % 8 === 0) continue;
      a.free(own.loc.get(id)!);
      own.loc.delete(id);
    }
    expect(a.compactions).toBe(0);
    expect(a.frames.chunksAllocated).toBeLessThanOrEqual(Math.ceil(a.frames.inUse / FRAMES_PER_CHUNK) + 1);
    expect(a.frames.chunksAllocated).toBeLessThan(4);
    for (const [id, at] of own.loc) expectBytes(a, at, fill(new Uint8Array(PAGE_SIZE), id));
  });

  it('takes a zspage whole or not at all at the cap, and reports its classes', () => {
    const MAX = 3 * 1024; // chains of up to 3 frames
    const a = new Zsmalloc(MAX);
    const { classes } = a.geometry;
    const big = classes.find((c) => c.pages === 3)!;
    for (let i = 0; i < MAX - 2; i++) expect(a.alloc(PAGE_SIZE, PERS, i)).toBeGreaterThanOrEqual(0); // a frame each
    expect(a.alloc(big.size, PERS, MAX)).toBe(-1); // 2 frames free, 3 needed: nothing taken
    expect(a.frames.lastFail).toBe(FrameFail.Limit);
    expect(a.frames.inUse).toBe(MAX - 2);
    const s = a.stats().zsmalloc;
    expect(s.pages).toBe(MAX - 2);
    expect(s[`class/${PAGE_SIZE}/zspages`]).toBe(MAX - 2);
    expect(s[`class/${PAGE_SIZE}/obj_used`]).toBe(MAX - 2);
    expect(s[`class/${big.size}/pages_per_zspage`]).toBe(3);
    expect(s[`class/${big.size}/objs_per_zspage`]).toBe(big.objs);
    expect(Object.keys(s).filter((k) => k.startsWith('class/'))).toHaveLength(classes.length * 6);
  });
});
