// Test lifecycles that several files share: a swap area plus a loaded backend torn down after
// each test, and backends made directly (not through the registry) closed after each test.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Backend, CleancacheOps, ZcacheOptions } from '../../lib/backends/types';
import { loadBackend, loadedBackend, swapon, unloadBackend, type AllocatorName, type BackendName, type SwapArea } from '../../lib/index';
import { tempDir } from './pages';

/**
 * Registers hooks that give each test a fresh temp dir for swap files and, after it, swap the area
 * off and unload the backend. Swapoff comes first: a pool whose swap file is full (the ENOSPC
 * tests) could not be drained into it by the unload. `allocator`: the backend's default if absent.
 */
export function swapHarness(backend: BackendName, allocator?: AllocatorName): {
  readonly dir: string;
  setup(pages: number, options: ZcacheOptions, dir?: string): Promise<SwapArea>;
} {
  let tmp: ReturnType<typeof tempDir> | null = null;
  let area: SwapArea | null = null;
  let seq = 0;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    if (area?.active) area.swapoff();
    area = null;
    const loaded = loadedBackend();
    if (loaded) await unloadBackend(loaded);
  });
  afterAll(() => tmp?.cleanup());
  return {
    get dir() {
      return tmp!.dir;
    },
    async setup(pages, options, dir = tmp!.dir) {
      area = swapon(join(dir, `swap${seq++}`), { pages });
      await loadBackend(backend, allocator === undefined ? options : { allocator, ...options });
      return area;
    },
  };
}

/** Returns `make` wrapped so every backend it makes is closed after the test that made it. */
export function closedAfterEach(make: (options?: ZcacheOptions) => Backend): (options?: ZcacheOptions) => Backend {
  const open: Backend[] = [];
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });
  return (options) => {
    const b = make(options);
    open.push(b);
    return b;
  };
}

/** The cleancache ops of a backend that has them. */
export const cleancacheOf = (b: Backend): CleancacheOps => b.cleancache!;
/** The backend's zcache/ counters. */
export const zcacheStats = (b: Backend): Record<string, number> => b.stats().zcache;
/** A six-word file key in a fresh buffer. */
export function fileKey(...words: number[]): Uint32Array {
  const k = new Uint32Array(6);
  k.set(words);
  return k;
}
