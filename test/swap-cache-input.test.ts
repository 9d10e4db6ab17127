// SwapCache under bad input and hostile surroundings: every rejected call leaves the cache (and
// the process) as it was; the audit findings of issue 14 that are SwapCache's.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debugfs, loadedBackend, swapon, SwapCache } from '../lib/index';
import { tempDir } from './support/pages';
import { cachesClosedAfterEach, keyIndexKinds, tagged } from './support/swap-cache';

const swapcacheDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('tmem-swapcache-')).sort();
const swapAreas = () => Object.keys(debugfs.snapshot()).filter((k) => /^swap\/\d+\/pages$/.test(k)).sort();

describe.each(keyIndexKinds)('SwapCache input checks (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  it('rejects bad keys and values and leaves everything as it was', () => {
    const c = make({ backend: 'none', residentBytes: 8192, pages: 64, maxKeyLength: 8, keyIndex });
    c.set('a', Buffer.from('1'));
    c.set('big', tagged('big', 0, 5000));
    const bad: [() => unknown, ErrorConstructor][] = [
      [() => c.set('x'.repeat(9), Buffer.from('1')), RangeError],
      [() => c.set(1 as never, Buffer.from('1')), TypeError],
      [() => c.set('a\ud800', Buffer.from('1')), TypeError],
      [() => c.set('b', 'text' as never), TypeError],
      [() => c.set('b', [1, 2] as never), TypeError],
      [() => c.set('a', Buffer.alloc(64 * 4096)), RangeError],
      [() => c.set('a', Buffer.from('1'), { ttl: 'soon' } as never), TypeError],
      [() => c.get(null as never), TypeError],
      [() => c.get('a', 'x' as never), TypeError],
      [() => c.has({} as never), TypeError],
      [() => c.delete(5 as never), TypeError],
      [() => c.peek(undefined as never), TypeError],
    ];
    for (const [call, type] of bad) expect(call).toThrow(type);
    expect(c.size).toBe(2);
    expect(c.get('a')!.toString()).toBe('1');
    expect(c.get('big')).toEqual(tagged('big', 0, 5000));
  });

  it('copies the real bytes of a Uint8Array whose byteLength lies', () => {
    class Liar extends Uint8Array {
      override get byteLength(): number {
        return 2;
      }
    }
    const c = make({ backend: 'none', residentBytes: 8192, pages: 64, keyIndex });
    const v = new Liar(300).fill(7);
    c.set('a', v);
    c.set('b', Buffer.from('next'));
    expect(c.get('a')).toEqual(Buffer.alloc(300, 7));
    expect(c.get('b')!.toString()).toBe('next');
  });

  it('a serializer that throws mid-set leaves the old value, with a coded error', () => {
    let fail = false;
    const c = make<{ n: number }>({
      backend: 'none',
      residentBytes: 8192,
      pages: 64,
      keyIndex,
      serializer: {
        serialize: (v) => {
          if (fail) throw new Error('cannot encode');
          return Buffer.from(JSON.stringify(v));
        },
        deserialize: (b) => {
          if (fail) throw new Error('cannot decode');
          return JSON.parse(Buffer.from(b).toString());
        },
      },
    });
    c.set('k', { n: 1 });
    c.set('s', { n: 's'.repeat(3000) as never }); // swapped
    fail = true;
    let err: unknown;
    try {
      c.set('k', { n: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_TMEM_SERIALIZE', cause: expect.objectContaining({ message: 'cannot encode' }) });
    expect(c.get('k')).toEqual({ n: 1 }); // the resident object needs no deserialize
    expect(() => c.get('s')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_DESERIALIZE' }));
    fail = false;
    expect(c.get('s')).toEqual({ n: 's'.repeat(3000) });
    const v8c = make<unknown>({ backend: 'none', residentBytes: 8192, pages: 64, keyIndex, serializer: 'v8' });
    v8c.set('f', 1);
    expect(() => v8c.set('f', { fn: () => 1 })).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SERIALIZE' }));
    expect(v8c.get('f')).toBe(1);
  });

  it('a value larger than residentBytes never becomes resident, on set or on get', () => {
    const c = make({ backend: 'none', residentBytes: 8192, pages: 64, keyIndex });
    const big = tagged('big', 0, 20_000);
    c.set('big', big);
    expect(c.residentBytes).toBe(0);
    expect(c.get('big')).toEqual(big);
    expect(c.residentBytes).toBeLessThanOrEqual(8192);
    expect(c.get('big')).toEqual(big);
    expect(c.residentBytes).toBe(0);
  });
});

describe('SwapCache construction and close', () => {
  const make = cachesClosedAfterEach();

  it('a rejected constructor loads no backend, swaps nothing on and leaves no directory', () => {
    const dirs = swapcacheDirs();
    const areas = swapAreas();
    const bad: unknown[] = [
      { area: 'not an area' },
      { path: join(tmpdir(), 'no-such-dir-tmem', 'swap') },
      { residentBytes: -1 },
      { residentBytes: 2 ** 33 },
      { maxBytes: 0 },
      { serializer: 'yaml' },
      { backend: 'nope' },
      { keyIndex: 'wasm' },
      { ttl: -5 },
      { dispose: 'x' },
      { fetchMethod: 42 },
      { perf: {} },
      { maxKeyLength: 2 ** 17 },
      { resident: 1 },
    ];
    for (const options of bad) {
      expect(() => new SwapCache(options as never)).toThrow();
      expect(loadedBackend()).toBeNull();
    }
    expect(swapcacheDirs()).toEqual(dirs);
    expect(swapAreas()).toEqual(areas);
  });

  it('close() removes its own directory only: one put in its place is left alone', () => {
    const c = new SwapCache({ backend: 'none', residentBytes: 8192, pages: 64 });
    c.set('a', tagged('a', 0, 5000));
    const dir = join(c.area.path, '..');
    const moved = `${dir}.moved`;
    renameSync(dir, moved);
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious'), 'keep me');
    try {
      c.close();
      expect(existsSync(join(dir, 'precious'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(moved, { recursive: true, force: true });
    }
    const d = new SwapCache({ backend: 'none', residentBytes: 8192, pages: 64 });
    const own = join(d.area.path, '..');
    d.close();
    expect(existsSync(own)).toBe(false);
  });

  it('any number of caches share one exit listener (no MaxListenersExceeded)', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const before = process.listenerCount('exit');
    try {
      for (let i = 0; i < 15; i++) make({ backend: 'none', residentBytes: 4096, pages: 16 });
      expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('close() works after the caller swapped its own area off', () => {
    const tmp = tempDir();
    try {
      const area = swapon(join(tmp.dir, 'swap'), { pages: 64 });
      const c = new SwapCache({ backend: 'none', residentBytes: 4096, area });
      for (let i = 0; i < 20; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 900));
      area.swapoff();
      expect(() => c.close()).not.toThrow();
      expect(() => c.get('k1')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
      c.close();
    } finally {
      tmp.cleanup();
    }
  });
});
