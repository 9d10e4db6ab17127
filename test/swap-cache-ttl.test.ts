// SwapCache ttl, as lru-cache has it: a default and per-set ttl, expired entries never returned
// (resident or swapped), allowStale, updateAgeOnGet, sweeping without a full scan, ttlAutopurge,
// and the 32-bit clock's epoch moving on.
import { describe, expect, it } from 'vitest';
import { cachesClosedAfterEach, keyIndexKinds, manualClock, tagged } from './support/swap-cache';

describe.each(keyIndexKinds)('SwapCache ttl (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();

  it('never returns an expired value, resident or swapped', () => {
    const clock = manualClock();
    const c = make({ backend: 'none', residentBytes: 16 << 10, pages: 512, ttl: 100, perf: clock.perf, keyIndex });
    for (let i = 0; i < 60; i++) c.set(`k${i}`, tagged(`k${i}`, 0, 1000));
    c.set('long', tagged('long', 0, 1000), { ttl: 1000 });
    c.set('forever', tagged('forever', 0, 1000), { ttl: 0 });
    expect(c.swappedBytes).toBeGreaterThan(0);
    clock.advance(99);
    expect(c.get('k0')).toEqual(tagged('k0', 0, 1000));
    expect(c.getRemainingTTL('k1')).toBe(1);
    clock.advance(1);
    for (let i = 0; i < 60; i++) {
      expect(c.has(`k${i}`)).toBe(false);
      expect(c.peek(`k${i}`)).toBeUndefined();
      expect(c.get(`k${i}`)).toBeUndefined();
    }
    expect(c.get('long')).toEqual(tagged('long', 0, 1000));
    expect(c.getRemainingTTL('forever')).toBe(Infinity);
    clock.advance(10_000);
    expect(c.get('long')).toBeUndefined();
    expect(c.get('forever')).toEqual(tagged('forever', 0, 1000));
    expect(c.size).toBe(1);
    expect(c.stats().expired_values).toBe(61);
    expect(c.swappedBytes + c.residentBytes).toBe(1000);
  });

  it('allowStale returns an expired value once, then it is gone', () => {
    const clock = manualClock();
    const c = make({ backend: 'none', residentBytes: 4096, pages: 64, ttl: 10, allowStale: true, perf: clock.perf, keyIndex });
    c.set('a', Buffer.from('resident'));
    c.set('b', tagged('b', 0, 3000)); // too big for a 4 KiB budget: swapped
    clock.advance(10);
    expect(c.has('a')).toBe(false);
    expect(c.peek('a')!.toString()).toBe('resident'); // peek does not remove it
    expect(c.get('a')!.toString()).toBe('resident');
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toEqual(tagged('b', 0, 3000));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('x', { allowStale: false })).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('updateAgeOnGet starts the entry ttl again, for resident and swapped values', () => {
    const clock = manualClock();
    const c = make({ backend: 'none', residentBytes: 4096, pages: 64, updateAgeOnGet: true, perf: clock.perf, keyIndex });
    c.set('r', Buffer.from('r'), { ttl: 100 });
    c.set('s', tagged('s', 0, 3000), { ttl: 100 });
    for (let i = 0; i < 5; i++) {
      clock.advance(60);
      expect(c.get('r')!.toString()).toBe('r');
      expect(c.get('s')).toEqual(tagged('s', 0, 3000));
    }
    expect(c.getRemainingTTL('r')).toBe(100);
    clock.advance(60);
    expect(c.peek('r')!.toString()).toBe('r'); // peek does not renew
    clock.advance(40);
    expect(c.get('r')).toBeUndefined();
    expect(c.get('s')).toBeUndefined();
  });

  it('sweeps expired entries from sets and purgeStale, without reading every key', () => {
    const clock = manualClock();
    const c = make({ backend: 'none', residentBytes: 64 << 10, pages: 4096, perf: clock.perf, keyIndex });
    for (let i = 0; i < 2000; i++) c.set(`keep${i}`, tagged(`keep${i}`, 0, 200));
    for (let i = 0; i < 500; i++) c.set(`tmp${i}`, tagged(`tmp${i}`, 0, 200), { ttl: 50 });
    clock.advance(50);
    const before = c.stats();
    c.set('trigger', Buffer.from('x'));
    const after = c.stats();
    // A set sweeps a few expired entries, and reads nothing from swap to do it.
    expect(after.expired_values - before.expired_values).toBeGreaterThan(0);
    expect(after.expired_values - before.expired_values).toBeLessThan(10);
    expect(after.gets_pool + after.gets_file).toBe(before.gets_pool + before.gets_file);
    expect(c.purgeStale()).toBe(true);
    expect(c.stats().expired_values).toBe(500);
    expect(c.size).toBe(2001);
    expect(c.purgeStale()).toBe(false);
  });

  it('ttlAutopurge removes entries on a timer as they expire', async () => {
    const c = make({ backend: 'none', residentBytes: 64 << 10, pages: 256, ttlAutopurge: true, keyIndex });
    const removed: string[] = [];
    const d = make({ backend: 'none', residentBytes: 64 << 10, pages: 256, ttlAutopurge: true, keyIndex, dispose: (_v, k, reason) => removed.push(`${k}:${reason}`) });
    c.set('a', Buffer.from('a'), { ttl: 20 });
    d.set('b', Buffer.from('b'), { ttl: 20 });
    c.set('c', Buffer.from('c'));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(c.size).toBe(1);
    expect(d.size).toBe(0);
    expect(removed).toEqual(['b:expire']);
  });

  it('keeps expiry times right across a move of its 32-bit epoch', () => {
    const clock = manualClock();
    const c = make({ backend: 'none', residentBytes: 4096, pages: 256, perf: clock.perf, keyIndex });
    c.set('r', Buffer.from('r'), { ttl: 2 ** 31 - 1 });
    c.set('s', tagged('s', 0, 3000), { ttl: 2 ** 31 - 1 });
    c.set('soon', Buffer.from('soon'), { ttl: 2 ** 30 });
    clock.advance(2 ** 31 - 10); // past the point where the epoch moves
    expect(c.get('soon')).toBeUndefined();
    expect(c.getRemainingTTL('r')).toBe(9);
    expect(c.get('s')).toEqual(tagged('s', 0, 3000));
    clock.advance(9);
    expect(c.get('r')).toBeUndefined();
    expect(c.get('s')).toBeUndefined();
    expect(() => c.set('x', Buffer.from('x'), { ttl: 2 ** 31 })).toThrow(RangeError);
    expect(() => c.set('x', Buffer.from('x'), { ttl: -1 })).toThrow(RangeError);
    expect(() => c.set('x', Buffer.from('x'), { ttl: 1.5 })).toThrow(TypeError);
    expect(c.has('x')).toBe(false);
  });
});
