// SwapCache: Map semantics, the resident budget, swapping through frontswap/zcache/file, coded
// errors that leave the cache as it was.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { debugfs, loadBackend, loadedBackend, swapon, SwapCache, unloadBackend } from '../lib/index';
import { tempDir, textPage } from './support/pages';

function doc(i: number, size = 1500): Buffer {
  const s = JSON.stringify({ id: i, name: `user-${i}`, tags: ['a', 'b', String(i % 7)], pad: 'x'.repeat(size) });
  return Buffer.from(s.slice(0, size));
}

const caches: SwapCache<unknown>[] = [];
function track<V>(c: SwapCache<V>): SwapCache<V> {
  caches.push(c as SwapCache<unknown>);
  return c;
}

afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  const b = loadedBackend();
  if (b) await unloadBackend(b);
});

describe('SwapCache', () => {
  it('behaves like a Map for bytes', () => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 1 << 20, pages: 256 }));
    expect(c.get('a')).toBeUndefined();
    c.set('a', Buffer.from('hello')).set('b', Buffer.from('world'));
    expect(c.size).toBe(2);
    expect(c.has('a')).toBe(true);
    expect(c.get('a')!.toString()).toBe('hello');
    c.set('a', Buffer.from('again'));
    expect(c.get('a')!.toString()).toBe('again');
    expect([...c.keys()]).toEqual(['a', 'b']);
    expect(c.delete('a')).toBe(true);
    expect(c.delete('a')).toBe(false);
    expect([...c.entries()].map(([k, v]) => [k, (v as Buffer).toString()])).toEqual([['b', 'world']]);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.residentBytes).toBe(0);
  });

  // Sizes on each side of where get() copies come from: Node's pool (< 4 KiB), a shared 64 KiB
  // slab (4–16 KiB), an allocation of their own (> 16 KiB).
  it.each([3, 4095, 4096, 5000, 16384, 16385, 40000])('copies %i-byte values in and out, so callers cannot change what is stored', (size) => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 1 << 20, pages: 256 }));
    const values = Array.from({ length: 40 }, (_, i) => randomBytes(size - (i % 3)));
    values.forEach((v, i) => c.set(`k${i}`, Buffer.from(v)));
    const outs = values.map((_, i) => c.get(`k${i}`)!);
    for (const out of outs) out.fill(0x7a);
    values.forEach((v, i) => {
      expect(outs[i].length).toBe(v.length);
      expect(Buffer.compare(c.get(`k${i}`)!, v)).toBe(0);
    });
    // Writing one copy changes no other copy handed out.
    const again = values.map((_, i) => c.get(`k${i}`)!);
    again[0].fill(0);
    again.slice(1).forEach((out, j) => expect(Buffer.compare(out, values[j + 1])).toBe(0));
  });

  describe.each([null, 'zcache', 'zcache-js'] as const)('swapping with backend %s', (backend) => {
    it('keeps the resident budget and reads every swapped value back exactly', async () => {
      if (backend) await loadBackend(backend, { maxPoolBytes: 64 << 20 });
      const c = track(new SwapCache({ backend: 'none', residentBytes: 256 << 10, pages: 8192 }));
      const n = 3000;
      for (let i = 0; i < n; i++) {
        c.set(`doc:${i}`, doc(i, 200 + (i % 50) * 40));
        expect(c.residentBytes).toBeLessThanOrEqual(256 << 10);
      }
      expect(c.swappedBytes).toBeGreaterThan(2 * (256 << 10));
      for (let i = n - 1; i >= 0; i -= 3) expect(Buffer.compare(c.get(`doc:${i}`)!, doc(i, 200 + (i % 50) * 40))).toBe(0);
      for (let i = 0; i < n; i += 7) expect(Buffer.compare(c.get(`doc:${i}`)!, doc(i, 200 + (i % 50) * 40))).toBe(0);
      const s = c.stats();
      expect(s.gets_resident + s.gets_pool + s.gets_file).toBeGreaterThan(1000);
      if (backend) expect(s.gets_pool).toBeGreaterThan(0);
      else expect(s.gets_file).toBeGreaterThan(0);
      expect(c.residentBytes).toBeLessThanOrEqual(256 << 10);
      const tree = debugfs.snapshot();
      const dir = Object.keys(tree).find((k) => k.startsWith('swapcache/') && k.endsWith('/keys'))!;
      expect(tree[dir]).toBe(n);
      const after = c.stats();
      expect(after.pool_pages + after.file_pages).toBe(c.area.usedPages);
      expect(c.filePages).toBe(after.file_pages);
      if (backend) {
        expect(c.compressedBytes).toBeGreaterThan(0);
        expect(c.compressedBytes).toBeLessThan(after.pool_pages * 4096);
      } else {
        expect(c.compressedBytes).toBe(0);
        expect(c.filePages).toBe(c.area.usedPages);
      }
    });
  });

  it('stores values larger than the budget and spanning many pages', () => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 64 << 10, pages: 1024 }));
    const big = randomBytes(300 << 10);
    c.set('big', big);
    expect(c.residentBytes).toBe(0);
    expect(Buffer.compare(c.get('big')!, big)).toBe(0);
    const mid = Buffer.concat([textPage(1), textPage(2), Buffer.from('tail')]);
    c.set('mid', mid);
    expect(Buffer.compare(c.get('mid')!, mid)).toBe(0);
    c.set('empty', Buffer.alloc(0));
    expect(c.get('empty')!.length).toBe(0);
  });

  it('serializes objects with v8 and json', () => {
    const v8c = track(new SwapCache<unknown>({ backend: 'none', residentBytes: 4096, pages: 256, serializer: 'v8' }));
    const jc = track(new SwapCache<unknown>({ backend: 'none', residentBytes: 4096, pages: 256, serializer: 'json' }));
    for (let i = 0; i < 200; i++) {
      v8c.set(`k${i}`, { i, when: new Date(i * 1000), tags: new Set(['x', String(i)]) });
      jc.set(`k${i}`, { i, name: `n${i}` });
    }
    expect(v8c.get('k3')).toEqual({ i: 3, when: new Date(3000), tags: new Set(['x', '3']) });
    expect(jc.get('k150')).toEqual({ i: 150, name: 'n150' });
    expect(() => jc.set('bad', undefined)).toThrow(TypeError);
    expect(jc.has('bad')).toBe(false);
  });

  it('frees swap space on delete and overwrite', () => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 8192, pages: 128 }));
    for (let i = 0; i < 100; i++) c.set(`k${i}`, doc(i, 1000));
    const used = c.area.usedPages;
    expect(used).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) c.delete(`k${i}`);
    expect(c.area.usedPages).toBe(0);
    expect(c.swappedBytes).toBe(0);
  });

  it('a full swap area refuses a set with a coded error and keeps the old value', () => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 8192, pages: 8 }));
    c.set('keep', Buffer.from('old value'));
    let i = 0;
    let err: unknown;
    try {
      for (; i < 1000; i++) c.set(`fill${i}`, doc(i, 3000));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_TMEM_SWAP_FULL' });
    const size = c.size;
    expect(() => c.set('keep', doc(99, 8000))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_SWAP_FULL' }));
    expect(c.get('keep')!.toString()).toBe('old value');
    expect(c.size).toBe(size);
    for (let j = 0; j < i; j++) expect(Buffer.compare(c.get(`fill${j}`)!, doc(j, 3000))).toBe(0);
  });

  it('rejects bad keys, values and options without changing anything', () => {
    const c = track(new SwapCache({ backend: 'none', residentBytes: 8192, pages: 16, maxKeyLength: 8 }));
    c.set('a', Buffer.from('1'));
    expect(() => c.set('x'.repeat(9), Buffer.from('1'))).toThrow(RangeError);
    expect(() => c.set(1 as never, Buffer.from('1'))).toThrow(TypeError);
    expect(() => c.set('b', 'text' as never)).toThrow(TypeError);
    expect(() => c.set('b', Buffer.alloc(16 * 4096))).toThrow(RangeError);
    expect(() => c.get(null as never)).toThrow(TypeError);
    expect(c.size).toBe(1);
    expect(c.get('a')!.toString()).toBe('1');
    expect(() => new SwapCache({ backend: 'none', residentBytes: -1 })).toThrow(RangeError);
    expect(() => new SwapCache({ backend: 'none', resident: 1 } as never)).toThrow(TypeError);
    expect(() => new SwapCache({ backend: 'none', serializer: 'yaml' as never })).toThrow(TypeError);
  });

  it('use after close is a coded error; close removes the swap file it created', async () => {
    const { existsSync } = await import('node:fs');
    const c = new SwapCache({ backend: 'none', residentBytes: 8192, pages: 16 });
    c.set('a', Buffer.from('1'));
    const path = c.area.path;
    expect(existsSync(path)).toBe(true);
    c.close();
    expect(existsSync(path)).toBe(false);
    expect(() => c.get('a')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    expect(() => c.set('a', Buffer.from('1'))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_CLOSED' }));
    c.close();
  });

  it('loads the default backend when none is loaded, unless told not to', () => {
    const c = track(new SwapCache({ residentBytes: 4096, pages: 16 }));
    expect(loadedBackend()).toBe('zcache');
    c.set('a', doc(1, 3000));
    c.set('b', doc(2, 3000));
    expect(debugfs.read('frontswap/succ_stores')).toBeGreaterThan(0);
  });

  it('can use an area the caller swapped on, and leaves it on at close', () => {
    const tmp = tempDir();
    try {
      const area = swapon(`${tmp.dir}/swap`, { pages: 64 });
      const c = new SwapCache({ backend: 'none', residentBytes: 4096, area });
      for (let i = 0; i < 20; i++) c.set(`k${i}`, doc(i, 900));
      expect(Buffer.compare(c.get('k3')!, doc(3, 900))).toBe(0);
      c.close();
      expect(area.active).toBe(true);
      expect(area.usedPages).toBe(0);
      area.swapoff();
    } finally {
      tmp.cleanup();
    }
  });
});
