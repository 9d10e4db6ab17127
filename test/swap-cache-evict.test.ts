// SwapCache dispose reasons and maxBytes (cache mode): least recently used entries are dropped,
// resident or swapped, and dispose hears about each with its value.
import { describe, expect, it } from 'vitest';
import { loadBackend } from '../lib/index';
import { cachesClosedAfterEach, keyIndexKinds, manualClock, tagged } from './support/swap-cache';

interface Disposed {
  key: string;
  reason: string;
  value: Buffer;
}

describe.each(keyIndexKinds)('SwapCache dispose and maxBytes (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  // A cache that logs every dispose call, and a clock for its ttl.
  function disposeLogged() {
    const clock = manualClock();
    const log: Disposed[] = [];
    const c = make({
      backend: 'none',
      residentBytes: 8192,
      pages: 512,
      perf: clock.perf,
      keyIndex,
      dispose: (value: Buffer, key, reason) => log.push({ key, reason, value }),
    });
    return { c, clock, log };
  }

  it('reports set, delete and expire once each, with the value the key had, resident or swapped', () => {
    const { c, clock, log } = disposeLogged();
    c.set('r', tagged('r', 0, 100));
    c.set('r', tagged('r', 1, 100));
    c.set('s', tagged('s', 0, 5000)); // swapped (too big to be resident)
    c.set('s', tagged('s', 1, 5000));
    c.delete('s');
    c.delete('nothing');
    c.set('t', tagged('t', 0, 100), { ttl: 5 });
    clock.advance(5);
    expect(c.get('t')).toBeUndefined();
    expect(log.map((d) => `${d.key}:${d.reason}`)).toEqual(['r:set', 's:set', 's:delete', 't:expire']);
    expect(log.map((d) => d.value)).toEqual([tagged('r', 0, 100), tagged('s', 0, 5000), tagged('s', 1, 5000), tagged('t', 0, 100)]);
  });

  it('clear() reports every value it removes, swapped ones read back', () => {
    const { c, log } = disposeLogged();
    c.set('r', tagged('r', 1, 100));
    for (let i = 0; i < 40; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 900));
    expect(c.swappedBytes).toBeGreaterThan(0);
    c.clear();
    expect(log.length).toBe(41);
    expect(log.every((d) => d.reason === 'delete')).toBe(true);
    const byKey = new Map(log.map((d) => [d.key, d.value]));
    for (let i = 0; i < 40; i++) expect(byKey.get(`k${i}`)).toEqual(tagged(`k${i}`, 0, 900));
    expect(byKey.get('r')).toEqual(tagged('r', 1, 100));
    expect(c.size).toBe(0);
  });

  it('maxBytes drops the least recently used entries, swapped ones first', async () => {
    await loadBackend('zcache-js', { maxPoolBytes: 1 << 20 });
    const dropped: string[] = [];
    const c = make({
      backend: 'none',
      residentBytes: 32 << 10,
      maxBytes: 256 << 10,
      pages: 4096,
      keyIndex,
      dispose: (value: Buffer, key, reason) => {
        if (reason === 'evict') {
          expect(value).toEqual(tagged(key, 0, 1000));
          dropped.push(key);
        }
      },
    });
    for (let i = 0; i < 200; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 1000));
    // Touch a few old keys: they become the most recently used.
    const touched = [3, 17, 42, 99];
    for (const i of touched) expect(c.get(`k${i}`)).toEqual(tagged(`k${i}`, 0, 1000));
    for (let i = 200; i < 400; i++) {
      c.set(`k${i}`, tagged(`k${i}`, 0, 1000));
      expect(c.calculatedSize).toBeLessThanOrEqual(256 << 10);
    }
    expect(dropped.length).toBeGreaterThan(100);
    for (const i of touched) expect(dropped).not.toContain(`k${i}`);
    // Everything dropped was set before everything kept (touched keys aside).
    const droppedIds = dropped.map((k) => Number(k.slice(1)));
    const kept = [...c.keys()].map((k) => Number(k.slice(1))).filter((i) => !touched.includes(i));
    expect(Math.max(...droppedIds)).toBeLessThan(Math.min(...kept));
    for (const i of kept) expect(c.peek(`k${i}`)).toEqual(tagged(`k${i}`, 0, 1000));
    expect(c.size).toBe(400 - dropped.length);
    expect(c.stats().dropped_values).toBe(dropped.length);
  });

  it('peek neither updates recency nor brings a value back into memory', () => {
    const c = make({ backend: 'none', residentBytes: 16 << 10, maxBytes: 64 << 10, pages: 1024, keyIndex });
    for (let i = 0; i < 60; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 1000));
    const resident = c.residentBytes;
    expect(c.peek('k0')).toEqual(tagged('k0', 0, 1000));
    expect(c.residentBytes).toBe(resident);
    expect(c.stats().gets_pool + c.stats().gets_file).toBe(0);
    for (let i = 60; i < 70; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 1000));
    expect(c.has('k0')).toBe(false); // peeked, yet dropped first
  });

  it('refuses a value larger than maxBytes and keeps the old one', () => {
    const c = make({ backend: 'none', residentBytes: 8192, maxBytes: 10_000, pages: 64, keyIndex });
    c.set('a', Buffer.from('old'));
    expect(() => c.set('a', Buffer.alloc(10_001))).toThrow(RangeError);
    expect(c.get('a')!.toString()).toBe('old');
  });
});
