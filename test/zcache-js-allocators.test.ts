// The allocators of zcache-js on their own: both against a model of what they hold (random alloc,
// write, read and free in both pools, up to the frame cap, with compaction), then what is
// zsmalloc's: the class geometry, objects that straddle frames, fullness groups, compaction moving
// objects while they are read, frames moved out of sparse chunks, and density after churn.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../lib/backends/types';
import { EPH, PERS, type Allocator, type PoolId } from '../lib/backends/zcache-js/allocator';
import { FRAMES_PER_CHUNK, FrameFail } from '../lib/backends/zcache-js/frames';
import { CHUNK_SIZE, Zbud } from '../lib/backends/zcache-js/zbud';
import { CLASSES, classOf, HUGE_SIZE, MAX_CHAIN, MIN_SIZE, SIZE_STEP } from '../lib/backends/zcache-js/zs-classes';
import { Zsmalloc } from '../lib/backends/zcache-js/zsmalloc';
import { rng } from './support/rng';

/** Bytes an object of `size` takes in its frames: its zbud chunks or its zsmalloc slot. */
function slotBytes(a: Allocator, size: number): number {
  return a.name === 'zbud' ? Math.ceil(size / CHUNK_SIZE) * CHUNK_SIZE : CLASSES[classOf(size)].size;
}

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

function readBack(a: Allocator, h: number, len: number): Uint8Array {
  const buf = a.map(h, len);
  return buf.slice(a.mapOffset, a.mapOffset + len);
}

/** Throws unless handle h reads `want` (Buffer.compare: vitest's deep equality is slow on bytes). */
function expectBytes(a: Allocator, h: number, want: Uint8Array): void {
  const buf = a.map(h, want.length);
  if (Buffer.compare(buf.subarray(a.mapOffset, a.mapOffset + want.length), want) !== 0) throw new Error(`handle ${h} reads wrong bytes`);
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
    const live = new Map<number, { pool: PoolId; data: Uint8Array }>();
    const handles: number[] = [];
    const pickHandle = (): number => handles[(rand() * handles.length) | 0];
    // Sizes as compressed pages come: mostly 200..2000 bytes, some tiny, some raw.
    const size = (): number => {
      const r = rand();
      if (r < 0.05) return 1 + ((rand() * 64) | 0);
      if (r < 0.1) return PAGE_SIZE;
      return 200 + ((rand() * 1800) | 0);
    };
    const check = (): void => {
      let zbytes = 0;
      for (const [h, o] of live) {
        expectBytes(a, h, o.data);
        zbytes += slotBytes(a, o.data.length);
      }
      expect(a.zbytesOf(PERS) + a.zbytesOf(EPH)).toBe(zbytes);
      expect(a.framesOf(PERS) + a.framesOf(EPH)).toBe(a.frames.inUse);
      expect(a.frames.inUse).toBeLessThanOrEqual(MAX);
    };
    let refused = 0;
    for (let op = 0; op < 20_000; op++) {
      const r = rand();
      if (r < 0.5) {
        const pool: PoolId = rand() < 0.7 ? PERS : EPH;
        const data = fill(new Uint8Array(size()), op);
        const h = a.alloc(data.length, pool);
        if (h < 0) {
          expect(a.frames.lastFail).toBe(FrameFail.Limit);
          refused++;
          continue;
        }
        expect(live.has(h)).toBe(false);
        a.write(h, data, 0, data.length);
        live.set(h, { pool, data });
        handles.push(h);
      } else if (r < 0.85 && handles.length > 0) {
        const i = (rand() * handles.length) | 0;
        const h = handles[i];
        handles[i] = handles[handles.length - 1];
        handles.pop();
        a.free(h);
        live.delete(h);
      } else if (r < 0.99 && handles.length > 0) {
        const h = pickHandle();
        const o = live.get(h)!;
        expectBytes(a, h, o.data);
        // Rewrite in place: the handle keeps naming the new bytes.
        fill(o.data, op + 7);
        a.write(h, o.data, 0, o.data.length);
      } else {
        a.compact();
      }
      if (op % 2000 === 0) check();
    }
    check();
    expect(refused).toBeGreaterThan(0);
    for (const h of handles) a.free(h);
    expect([a.frames.inUse, a.zbytesOf(PERS), a.zbytesOf(EPH)]).toEqual([0, 0, 0]);
    a.release();
    expect(a.frames.chunksAllocated).toBe(0);
  });
});

describe('zsmalloc size classes', () => {
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
    const a = new Zsmalloc(64);
    const size = 1200; // class 1216: 10 slots in 3 frames, slot 3 spans bytes 3648..4863
    const cls = CLASSES[classOf(size)];
    expect([cls.size, cls.pages, cls.objs]).toEqual([1216, 3, 10]);
    const hs = Array.from({ length: cls.objs }, (_, i) => {
      const h = a.alloc(size, PERS);
      a.write(h, fill(new Uint8Array(size), i + 1), 0, size);
      return h;
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
    const a = new Zsmalloc(1000);
    const size = 100; // class 112: 36 slots in one frame
    const cls = CLASSES[classOf(size)];
    expect([cls.size, cls.pages, cls.objs]).toEqual([112, 1, 36]);
    const hs = Array.from({ length: 108 }, () => a.alloc(size, PERS));
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
    expect([zs(a.alloc(size, PERS)), zs(a.alloc(size, PERS))]).toEqual([z[1], z[1]]);
    expect(sc.groupOf(z[1])).toBe(10);
    expect(zs(a.alloc(size, PERS))).toBe(z[0]);
    expect(sc.groupOf(z[0])).toBe(8); // 29 of 36
    // Another pool never shares a zspage with this one.
    const e = a.alloc(size, EPH);
    expect(a.inspect(e).cls).not.toBe(sc);
    expect(a.framesOf(EPH)).toBe(1);
    // An emptied zspage is freed at once, its frames with it.
    const frames = a.frames.inUse;
    a.free(e);
    expect([a.framesOf(EPH), a.frames.inUse]).toEqual([0, frames - 1]);
  });

  it('compacts while objects are read: handles stay valid, bytes exact, emptied frames freed', () => {
    const a = new Zsmalloc(10_000);
    const rand = rng(42);
    const live = new Map<number, Uint8Array>();
    for (let i = 0; i < 3000; i++) {
      const data = fill(new Uint8Array(300 + ((rand() * 900) | 0)), i);
      const h = a.alloc(data.length, PERS);
      a.write(h, data, 0, data.length);
      live.set(h, data);
    }
    const before = new Map([...live.keys()].map((h) => [h, a.inspect(h)]));
    const peak = a.frames.inUse;
    // Free two thirds one at a time; a free may compact its class (once 1/8 of its slots are free),
    // and after every free that did, each remaining object is read back through its handle.
    const order = [...live.keys()].sort(() => rand() - 0.5);
    let compactions = 0;
    for (const h of order.slice(0, 2000)) {
      a.free(h);
      live.delete(h);
      if (a.compactions === compactions) continue;
      compactions = a.compactions;
      for (const [k, data] of live) expectBytes(a, k, data);
    }
    const moved = [...live.keys()].filter((h) => {
      const was = before.get(h)!;
      const now = a.inspect(h);
      return was.zspage !== now.zspage || was.index !== now.index;
    });
    expect(moved.length).toBeGreaterThan(0);
    expect(a.compactions).toBeGreaterThan(0);
    expect(a.pagesCompacted).toBeGreaterThan(0);
    // On demand: at most one zspage of free slots left per class.
    a.compact();
    let ideal = 0;
    for (const data of live.values()) ideal += CLASSES[classOf(data.length)].size;
    expect(a.frames.inUse).toBeLessThan(peak / 2);
    expect(a.frames.inUse * PAGE_SIZE).toBeLessThanOrEqual(ideal * 1.1 + 104 * MAX_CHAIN * PAGE_SIZE);
    for (const [k, data] of live) expectBytes(a, k, data);
  });

  it('after churn and compaction holds at most 1.10x the ideal frames, and gives emptied chunks back', () => {
    const a = new Zsmalloc(1 << 20);
    const rand = rng(7);
    const hs: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 40_000; i++) {
      // Compressed heap pages: most between 700 and 1700 bytes.
      const n = Math.max(33, Math.round(1200 + (rand() + rand() + rand() - 1.5) * 700));
      hs.push(a.alloc(n, PERS));
      sizes.push(n);
    }
    const chunksFull = a.frames.chunksAllocated;
    const kept: number[] = [];
    let ideal = 0;
    for (let i = 0; i < hs.length; i++) {
      if (rand() < 0.5) a.free(hs[i]);
      else {
        kept.push(i);
        ideal += CLASSES[classOf(sizes[i])].size;
      }
    }
    for (const i of kept) a.write(hs[i], fill(new Uint8Array(sizes[i]), i), 0, sizes[i]);
    a.compact();
    const idealFrames = ideal / PAGE_SIZE;
    expect(a.frames.inUse / idealFrames).toBeLessThanOrEqual(1.1);
    // Frames were moved out of the sparse chunks: one chunk more than the frames need, at most
    // (the spare kept for the next allocations).
    expect(a.frames.chunksAllocated).toBeLessThanOrEqual(Math.ceil(a.frames.inUse / FRAMES_PER_CHUNK) + 1);
    expect(a.frames.chunksAllocated).toBeLessThan(chunksFull);
    for (const i of kept) expectBytes(a, hs[i], fill(new Uint8Array(sizes[i]), i));
  });

  it('takes a zspage whole or not at all at the cap, and reports its classes', () => {
    const a = new Zsmalloc(4);
    const big = CLASSES.find((c) => c.pages === 3)!; // a zspage of 3 frames
    expect(a.alloc(PAGE_SIZE, PERS)).toBeGreaterThanOrEqual(0);
    expect(a.alloc(PAGE_SIZE, PERS)).toBeGreaterThanOrEqual(0);
    expect(a.alloc(big.size, PERS)).toBe(-1); // 2 frames free, 3 needed: nothing taken
    expect(a.frames.lastFail).toBe(FrameFail.Limit);
    expect(a.frames.inUse).toBe(2);
    const s = a.stats().zsmalloc;
    expect(s.pages).toBe(2);
    expect(s[`class/${PAGE_SIZE}/zspages`]).toBe(2);
    expect(s[`class/${PAGE_SIZE}/obj_used`]).toBe(2);
    expect(s[`class/${big.size}/pages_per_zspage`]).toBe(3);
    expect(s[`class/${big.size}/objs_per_zspage`]).toBe(big.objs);
    expect(Object.keys(s).filter((k) => k.startsWith('class/'))).toHaveLength(CLASSES.length * 6);
  });
});
