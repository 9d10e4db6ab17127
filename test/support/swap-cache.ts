// Shared SwapCache test helpers: caches closed after each test, the key-index kinds to run the
// same tests over, a settable clock, and values that say which key and version they belong to.
import { afterEach } from 'vitest';
import { loadedBackend, SwapCache, unloadBackend, type SwapCacheOptions } from '../../lib/index';

export const keyIndexKinds = ['native', 'js'] as const;

/** Returns `make` wrapped so that every cache it makes is closed (and the backend unloaded) after each test. */
export function cachesClosedAfterEach(): <V = Uint8Array>(options: SwapCacheOptions<V>) => SwapCache<V> {
  const open: SwapCache<unknown>[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    const b = loadedBackend();
    if (b) await unloadBackend(b);
  });
  return <V>(options: SwapCacheOptions<V>) => {
    const c = new SwapCache<V>(options);
    open.push(c as SwapCache<unknown>);
    return c;
  };
}

/** A clock for the `perf` option that moves only when told to. */
export function manualClock(start = 1000): { perf: { now(): number }; advance(ms: number): void } {
  let t = start;
  return {
    perf: { now: () => t },
    advance(ms) {
      t += ms;
    },
  };
}

/** Bytes that encode (key, version) and are `size` long, so a value read back can be attributed. */
export function tagged(key: string, version: number, size: number): Buffer {
  const head = Buffer.from(`${key}#${version}|`);
  const out = Buffer.alloc(Math.max(size, head.length));
  head.copy(out);
  for (let i = head.length; i < out.length; i++) out[i] = (i * 31 + version * 7 + key.length) & 0xff;
  return out;
}
