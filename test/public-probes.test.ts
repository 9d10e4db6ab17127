// Every argument of every public entry point, given every kind of bad value: each call fails with a
// TypeError, a RangeError or a coded error, and leaves everything exactly as it was (counters,
// slots, stored pages, the loaded backend, cleancache pools). Run with no backend and with every
// backend × allocator. A new entry point gets a line in `entryPoints`; a new kind of bad input a
// line in `badValues`.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleancache,
  debugfs,
  frontswap,
  loadBackend,
  loadedBackend,
  PageCache,
  swapon,
  unloadBackend,
  type CachedFile,
  type SwapArea,
} from '../lib/index';
import { backendsUnderTest } from './support/backends';
import { PAGE, tempDir, textPage } from './support/pages';

/** A Uint8Array whose own length properties lie. */
function liar(real: number, claimed: number): Uint8Array {
  return new (class extends Uint8Array {
    override get byteLength(): number {
      return claimed;
    }
    override get length(): number {
      return claimed;
    }
  })(real);
}

function detached(): Uint8Array {
  const u = new Uint8Array(PAGE);
  structuredClone(u.buffer, { transfer: [u.buffer] });
  return u;
}

const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();

/** Values no argument of the API accepts, each labelled for the failure message. */
const badValues: [string, () => unknown][] = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['true', () => true],
  ['string', () => 'x'],
  ['numeric string', () => '1'],
  ['empty string', () => ''],
  ['1.5', () => 1.5],
  ['-1', () => -1],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['2^32', () => 2 ** 32],
  ['2^53', () => 2 ** 53],
  ['bigint', () => 1n],
  ['symbol', () => Symbol('probe')],
  ['{}', () => ({})],
  ['[]', () => []],
  ['function', () => () => 1],
  ['valueOf object', () => ({ valueOf: () => 1 })],
  ['proxy', () => new Proxy({}, {})],
  ['revoked proxy', () => revoked],
  ['Uint16Array', () => new Uint16Array(PAGE / 2)],
  ['short Uint8Array', () => new Uint8Array(1)],
  ['lying Uint8Array', () => liar(16, PAGE)],
  ['Uint8Array look-alike', () => Object.create(Uint8Array.prototype)],
  ['proxied Uint8Array', () => new Proxy(new Uint8Array(PAGE), {})],
  ['proxied Uint32Array', () => new Proxy(Uint32Array.of(1), {})],
  ['DataView', () => new DataView(new ArrayBuffer(PAGE))],
  ['ArrayBuffer', () => new ArrayBuffer(PAGE)],
  ['detached Uint8Array', detached],
  ['Uint32Array out of range', () => Uint32Array.of(0xffffffff)],
  ['Object.prototype key', () => 'toString'],
];

interface Context {
  area: SwapArea;
  off: number;
  pool: number;
  file: CachedFile;
  dir: string;
}

/**
 * An entry point: arguments for a call, and per position which of the bad values happen to be
 * valid there (a path may be any string, options may be {} or left out): those are not probed.
 */
interface EntryPoint {
  name: string;
  args: (c: Context) => unknown[];
  call: (c: Context, args: unknown[]) => unknown;
  accepts?: (position: number, label: string, value: unknown) => boolean;
}

/** An empty options object (or none): valid wherever options are. */
const OPTIONS_LIKE = new Set(['undefined', '{}', 'proxy', 'Uint8Array look-alike']);
const optionsAt = (...positions: number[]) => (p: number, label: string) => positions.includes(p) && OPTIONS_LIKE.has(label);
const stringAt = (position: number) => (p: number, label: string, v: unknown) => p === position && typeof v === 'string' && v !== '';
const labelsAt = (position: number, ...labels: string[]) => (p: number, label: string) => p === position && labels.includes(label);

const entryPoints: EntryPoint[] = [
  { name: 'area.writePage', args: () => [textPage(1)], call: (c, a) => c.area.writePage(...(a as [Uint8Array])) },
  { name: 'area.readPage', args: (c) => [c.off, new Uint8Array(PAGE)], call: (c, a) => c.area.readPage(...(a as [number, Uint8Array])) },
  { name: 'area.takePage', args: (c) => [c.off, new Uint8Array(PAGE)], call: (c, a) => c.area.takePage(...(a as [number, Uint8Array])) },
  { name: 'area.freePage', args: (c) => [c.off], call: (c, a) => c.area.freePage(...(a as [number])) },
  {
    name: 'area.writePages',
    args: () => [textPage(2), new Uint32Array(1)],
    call: (c, a) => c.area.writePages(...(a as [Uint8Array, Uint32Array])),
    // Any real Uint32Array of one entry or more is a valid output.
    accepts: (p, l) => p === 1 && ['undefined', 'Uint32Array out of range'].includes(l),
  },
  { name: 'area.readPages', args: (c) => [Uint32Array.of(c.off), new Uint8Array(PAGE)], call: (c, a) => c.area.readPages(...(a as [Uint32Array, Uint8Array])) },
  { name: 'area.takePages', args: (c) => [Uint32Array.of(c.off), new Uint8Array(PAGE)], call: (c, a) => c.area.takePages(...(a as [Uint32Array, Uint8Array])) },
  { name: 'area.freePages', args: (c) => [Uint32Array.of(c.off)], call: (c, a) => c.area.freePages(...(a as [Uint32Array])) },
  { name: 'frontswap.store', args: (c) => [c.area.type, 5, textPage(3)], call: (_, a) => frontswap.store(...(a as [number, number, Uint8Array])) },
  {
    name: 'frontswap.load',
    args: (c) => [c.area.type, c.off, new Uint8Array(PAGE), {}],
    call: (_, a) => frontswap.load(...(a as [number, number, Uint8Array, object])),
    accepts: optionsAt(3),
  },
  { name: 'frontswap.invalidatePage', args: (c) => [c.area.type, c.off], call: (_, a) => frontswap.invalidatePage(...(a as [number, number])) },
  { name: 'frontswap.invalidateArea', args: (c) => [c.area.type], call: (_, a) => frontswap.invalidateArea(...(a as [number])) },
  {
    name: 'frontswap.storeBatch',
    args: (c) => [c.area.type, Uint32Array.of(5), textPage(4), new Uint8Array(1)],
    call: (_, a) => frontswap.storeBatch(...(a as [number, Uint32Array, Uint8Array, Uint8Array])),
    accepts: labelsAt(3, 'undefined', 'short Uint8Array', 'lying Uint8Array'),
  },
  {
    name: 'frontswap.loadBatch',
    args: (c) => [c.area.type, Uint32Array.of(c.off), new Uint8Array(PAGE), new Uint8Array(1)],
    call: (_, a) => frontswap.loadBatch(...(a as [number, Uint32Array, Uint8Array, Uint8Array])),
    accepts: labelsAt(3, 'undefined', 'short Uint8Array', 'lying Uint8Array'),
  },
  { name: 'frontswap.invalidateBatch', args: (c) => [c.area.type, Uint32Array.of(c.off)], call: (_, a) => frontswap.invalidateBatch(...(a as [number, Uint32Array])) },
  { name: 'frontswap.shrink', args: () => [2 ** 20], call: (_, a) => frontswap.shrink(...(a as [number])), accepts: labelsAt(0, '2^32') },
  { name: 'frontswap.writethrough=', args: () => [false], call: (_, [v]) => void (frontswap.writethrough = v as boolean), accepts: labelsAt(0, 'true') },
  { name: 'frontswap.exclusiveGets=', args: () => [frontswap.exclusiveGets], call: (_, [v]) => void (frontswap.exclusiveGets = v as boolean), accepts: labelsAt(0, 'true') },
  { name: 'cleancache.initFs', args: () => [PAGE], call: (_, a) => cleancache.initFs(...(a as [number])), accepts: labelsAt(0, 'undefined') },
  {
    name: 'cleancache.initSharedFs',
    args: () => ['probe-uuid', PAGE],
    call: (_, a) => cleancache.initSharedFs(...(a as [string, number])),
    accepts: (p, l, v) => stringAt(0)(p, l, v) || labelsAt(1, 'undefined')(p, l),
  },
  {
    name: 'cleancache.getPage',
    args: (c) => [c.pool, 7, 3, new Uint8Array(PAGE)],
    call: (_, a) => cleancache.getPage(...(a as [number, number, number, Uint8Array])),
    accepts: labelsAt(1, 'Uint32Array out of range', '2^32'),
  },
  {
    name: 'cleancache.putPage',
    args: (c) => [c.pool, 7, 3, textPage(5), {}],
    call: (_, a) => cleancache.putPage(...(a as [number, number, number, Uint8Array, object])),
    accepts: (p, l) => optionsAt(4)(p, l) || labelsAt(1, 'Uint32Array out of range', '2^32')(p, l),
  },
  {
    name: 'cleancache.invalidatePage',
    args: (c) => [c.pool, 7, 3],
    call: (_, a) => cleancache.invalidatePage(...(a as [number, number, number])),
    accepts: labelsAt(1, 'Uint32Array out of range', '2^32'),
  },
  {
    name: 'cleancache.invalidateInode',
    args: (c) => [c.pool, 7],
    call: (_, a) => cleancache.invalidateInode(...(a as [number, number])),
    accepts: labelsAt(1, 'Uint32Array out of range', '2^32'),
  },
  {
    name: 'swapon',
    args: (c) => [`${c.dir}/probe-swap`, { pages: 8 }],
    call: (_, a) => swapon(...(a as [string, { pages: number }])),
    accepts: stringAt(0),
  },
  {
    name: 'loadBackend',
    args: () => [loadedBackend() ?? 'zcache-js', {}],
    call: (_, a) => loadBackend(...(a as ['zcache', object])),
    accepts: optionsAt(1),
  },
  { name: 'unloadBackend', args: () => [loadedBackend() === 'zcache' ? 'zcache-js' : 'zcache'], call: (_, a) => unloadBackend(...(a as ['zcache'])) },
  { name: 'debugfs.read', args: () => ['zcache/no_such'], call: (_, a) => debugfs.read(...(a as [string])) },
  ...(['list', 'format', 'unmount'] as const).map((method) => ({
    name: `debugfs.${method}`,
    args: () => ['zcache'],
    call: (_: unknown, a: unknown[]) => debugfs[method](...(a as [string])),
    accepts: (p: number, l: string, v: unknown) => stringAt(0)(p, l, v) || labelsAt(0, 'undefined', 'empty string')(p, l),
  })),
  {
    name: 'debugfs.mount',
    args: (c) => [`${c.dir}/mnt-never`, { intervalMs: 0 }],
    call: (_, a) => debugfs.mount(...(a as [string, object])),
    accepts: (p, l, v) => stringAt(0)(p, l, v) || optionsAt(1)(p, l),
  },
  { name: 'debugfs.createHandler', args: () => [{}], call: (_, a) => debugfs.createHandler(...(a as [object])), accepts: optionsAt(0) },
  {
    name: 'debugfs.register',
    args: () => ['probe', () => ({})],
    call: (_, a) => debugfs.register(...(a as [string, () => Record<string, number>])),
    accepts: (p, l, v) => stringAt(0)(p, l, v) || labelsAt(0, 'empty string')(p, l) || labelsAt(1, 'function')(p, l),
  },
  { name: 'new PageCache', args: () => [{}], call: (_, a) => new PageCache(...(a as [object])), accepts: optionsAt(0) },
  { name: 'CachedFile.read', args: () => [0, 10], call: (c, a) => c.file.read(...(a as [number, number])), accepts: labelsAt(0, '2^32') },
  {
    name: 'CachedFile.write',
    args: () => [0, new Uint8Array(0)],
    call: (c, a) => c.file.write(...(a as [number, Uint8Array])),
    accepts: (p, l) => labelsAt(0, '2^32')(p, l) || labelsAt(1, 'short Uint8Array', 'lying Uint8Array')(p, l),
  },
  { name: 'CachedFile.truncate', args: () => [3 * PAGE], call: (c, a) => c.file.truncate(...(a as [number])), accepts: labelsAt(0, '2^32') },
];

const cases = [{ label: 'no backend', backend: null, allocator: null }, ...backendsUnderTest];

describe.each(cases)('every public entry point refuses bad values with $label', ({ backend, allocator }) => {
  let tmp: ReturnType<typeof tempDir>;
  let ctx: Context;
  let cache: PageCache;
  const pages = new Map<number, Uint8Array>();

  beforeAll(async () => {
    tmp = tempDir();
    const area = swapon(`${tmp.dir}/swap`, { pages: 64 });
    if (backend) await loadBackend(backend, { allocator: allocator! });
    for (let i = 0; i < 3; i++) {
      const page = textPage(100 + i);
      pages.set(area.writePage(page), page);
    }
    const file = `${tmp.dir}/file`;
    writeFileSync(file, Buffer.alloc(3 * PAGE, 9));
    cache = new PageCache({ residentBytes: 4 * PAGE, backend: 'none' });
    ctx = { area, off: [...pages.keys()][0], pool: cleancache.initFs(), file: cache.open(file), dir: tmp.dir };
  });

  afterAll(async () => {
    cache.close();
    cleancache.invalidateFs(ctx.pool);
    ctx.area.swapoff();
    if (loadedBackend()) await unloadBackend(loadedBackend()!);
    tmp.cleanup();
  });

  // Everything a rejected call could have changed, read without changing anything itself.
  function state(): unknown {
    return {
      counters: debugfs.snapshot(),
      used: ctx.area.usedPages,
      backend: loadedBackend(),
      writethrough: frontswap.writethrough,
      exclusiveGets: frontswap.exclusiveGets,
      mounts: debugfs.mounts.length,
      file: readFileSync(`${tmp.dir}/file`).toString('hex'),
    };
  }

  it.each(entryPoints.map((e) => [e.name, e] as const))('%s', async (_, entry) => {
    const base = entry.args(ctx);
    for (let position = 0; position < base.length; position++) {
      for (const [label, make] of badValues) {
        const value = make();
        if (entry.accepts?.(position, label, value)) continue;
        const args = [...base];
        args[position] = value;
        const before = state();
        let error: unknown = null;
        try {
          await entry.call(ctx, args);
        } catch (err) {
          error = err;
        }
        const where = `${entry.name} argument ${position} = ${label}`;
        expect(error, `${where} was accepted`).not.toBe(null);
        const e = error as { name?: string; code?: unknown };
        expect(e.name === 'TypeError' || e.name === 'RangeError' || typeof e.code === 'string', `${where}: ${String(error)}`).toBe(true);
        expect(state(), `${where} changed state`).toEqual(before);
      }
    }
    const into = new Uint8Array(PAGE);
    for (const [off, page] of pages) expect(Buffer.compare(ctx.area.readPage(off, into), page), `slot ${off} after ${entry.name}`).toBe(0);
  });
});
