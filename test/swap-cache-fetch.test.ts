// SwapCache fetch() with a fetchMethod, as lru-cache has it: coalescing, rejection, abort,
// stale-while-revalidate.
import { describe, expect, it } from 'vitest';
import type { FetchMethod, SwapCacheOptions } from '../lib/index';
import { cachesClosedAfterEach, keyIndexKinds, manualClock, tagged } from './support/swap-cache';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe.each(keyIndexKinds)('SwapCache fetch (key index %s)', (keyIndex) => {
  const make = cachesClosedAfterEach();
  // A small cache with this fetchMethod (and any other options).
  const fetching = (fetchMethod: FetchMethod<Buffer>, options: SwapCacheOptions<Buffer> = {}) =>
    make<Buffer>({ backend: 'none', residentBytes: 8192, pages: 256, keyIndex, fetchMethod, ...options });

  it('shares one fetchMethod call between concurrent fetches of a key and caches the result', async () => {
    const calls: string[] = [];
    const gate = deferred<void>();
    const c = fetching(async (key: string) => {
      calls.push(key);
      await gate.promise;
      return tagged(key, 1, 3000);
    });
    const all = [c.fetch('a'), c.fetch('a'), c.fetch('b'), c.fetch('a')];
    gate.resolve();
    const got = await Promise.all(all);
    expect(calls.sort()).toEqual(['a', 'b']);
    expect(got[0]).toEqual(tagged('a', 1, 3000));
    expect(got[3]).toEqual(tagged('a', 1, 3000));
    expect(await c.fetch('a')).toEqual(tagged('a', 1, 3000));
    expect(calls.length).toBe(2);
    expect(c.get('b')).toEqual(tagged('b', 1, 3000));
  });

  it('caches nothing when fetchMethod rejects or returns undefined', async () => {
    let fail = true;
    const c = fetching(async (key: string) => {
      if (key === 'none') return undefined;
      if (fail) throw new Error('backend down');
      return Buffer.from('ok');
    });
    await expect(c.fetch('a')).rejects.toThrow('backend down');
    expect(c.has('a')).toBe(false);
    expect(c.size).toBe(0);
    expect(await c.fetch('none')).toBeUndefined();
    expect(c.has('none')).toBe(false);
    fail = false;
    expect((await c.fetch('a'))!.toString()).toBe('ok');
    expect(c.has('a')).toBe(true);
  });

  it('a set or delete while a fetch runs aborts it; its result is not cached', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<Buffer>>>();
    const signals: AbortSignal[] = [];
    const c = fetching((key: string, _stale, { signal }) => {
      signals.push(signal);
      const d = deferred<Buffer>();
      gates.set(key, d);
      return d.promise;
    });
    const f1 = c.fetch('a');
    c.set('a', Buffer.from('set meanwhile'));
    gates.get('a')!.resolve(Buffer.from('fetched'));
    await expect(f1).rejects.toMatchObject({ code: 'ERR_TMEM_CLOSED' });
    expect(signals[0].aborted).toBe(true);
    expect(c.get('a')!.toString()).toBe('set meanwhile');
    const f2 = c.fetch('b');
    c.delete('b');
    gates.get('b')!.resolve(Buffer.from('fetched'));
    await expect(f2).rejects.toBeDefined();
    expect(c.has('b')).toBe(false);
    const outer = new AbortController();
    const f3 = c.fetch('c', { signal: outer.signal });
    outer.abort(new Error('caller gave up'));
    gates.get('c')!.resolve(Buffer.from('late'));
    await expect(f3).rejects.toThrow('caller gave up');
    expect(c.has('c')).toBe(false);
  });

  it('with allowStale serves the stale value while refreshing it; passes it to fetchMethod', async () => {
    const clock = manualClock();
    const seen: (string | undefined)[] = [];
    let version = 0;
    const c = fetching(
      async (key: string, stale: Buffer | undefined, { context }) => {
        seen.push(stale?.toString());
        expect(context).toBe('ctx');
        return tagged(key, ++version, 3000);
      },
      { ttl: 100, allowStale: true, perf: clock.perf },
    );
    expect(await c.fetch('k', { context: 'ctx' })).toEqual(tagged('k', 1, 3000));
    clock.advance(100);
    const first = await c.fetch('k', { context: 'ctx' });
    expect(first).toEqual(tagged('k', 1, 3000)); // stale, at once
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.get('k')).toEqual(tagged('k', 2, 3000)); // refreshed in the background
    expect(seen[1]).toBe(tagged('k', 1, 3000).toString());
    // As in lru-cache: forceRefresh with allowStale hands back the current value while it reloads.
    expect(await c.fetch('k', { forceRefresh: true, context: 'ctx' })).toEqual(tagged('k', 2, 3000));
    expect(await c.fetch('k', { forceRefresh: true, allowStale: false, context: 'ctx' })).toEqual(tagged('k', 4, 3000));
  });

  it('without allowStale waits for the refresh of an expired value; a failed refresh removes it', async () => {
    const clock = manualClock();
    let fail = false;
    const c = fetching(
      async (key: string) => {
        if (fail) throw new Error('no');
        return Buffer.from(`${key}@${clock.perf.now()}`);
      },
      { ttl: 100, perf: clock.perf },
    );
    expect((await c.fetch('k'))!.toString()).toBe('k@1000');
    clock.advance(150);
    expect((await c.fetch('k'))!.toString()).toBe('k@1150');
    clock.advance(150);
    fail = true;
    await expect(c.fetch('k')).rejects.toThrow('no');
    expect(c.peek('k', { allowStale: true })).toBeUndefined();
  });

  it('fetch without a fetchMethod is getAsync', async () => {
    const c = make({ backend: 'none', residentBytes: 4096, pages: 256, keyIndex });
    c.set('a', tagged('a', 0, 3000));
    expect(await c.fetch('a')).toEqual(tagged('a', 0, 3000));
    expect(await c.fetch('missing')).toBeUndefined();
  });
});
