// Backend modules, loaded and unloaded like kernel modules: loading registers the backend's ops
// with the hook layers (replaying init for areas that already exist), unloading moves every
// persistent page back to its swap file before the ops go away, so no page is ever lost.
import { cleancache } from '../cleancache/cleancache';
import { debugfs } from '../debugfs/tree';
import { frontswap } from '../frontswap/frontswap';
import { RemoteTier } from '../remote/tier';
import { TmemError } from '../util/errors';
import { describe } from '../util/validate';
import { parseZcacheOptions, type ZcacheConfig } from './options';
import type { RemoteSetup } from './remote/attach';
import type { Backend, ZcacheOptions } from './types';
import { createZcache } from './zcache/backend';
import { createZcacheJs } from './zcache-js';

export type BackendName = 'zcache' | 'zcache-js';

const factories: Record<BackendName, (config: ZcacheConfig, remote: RemoteSetup | null) => Backend> = {
  zcache: createZcache,
  'zcache-js': createZcacheJs,
};

interface Loaded {
  backend: Backend;
  unregisterStats: () => void;
  exclusiveGetsBefore: boolean;
}

let loaded: Loaded | null = null;
// Load and unload are async (unload drains the pool); a second call while one runs would race.
let busy = false;

function checkName(name: unknown): BackendName {
  if (typeof name !== 'string') throw new TypeError(`backend name must be a string, got ${describe(name)}`);
  // Own keys only: 'toString' or '__proto__' are in every object and must not name a backend.
  if (!Object.hasOwn(factories, name)) {
    throw new TmemError('ERR_TMEM_UNKNOWN_BACKEND', `unknown backend '${name}' (available: ${Object.keys(factories).join(', ')})`);
  }
  return name as BackendName;
}

/** Name of the loaded backend, or null. */
export function loadedBackend(): BackendName | null {
  return loaded ? (loaded.backend.name as BackendName) : null;
}

/**
 * Loads a backend and registers it with frontswap (and cleancache). Areas swapped on and pools
 * created earlier are initialised for it now. Only one backend can be loaded at a time. With
 * `remote`, the remote tier attaches to its cluster first (a cluster that does not answer leaves
 * it degraded, not failed: see README "Remote tier").
 */
export async function loadBackend(name: BackendName, options: ZcacheOptions = {}): Promise<void> {
  const which = checkName(name);
  const config = parseZcacheOptions(options);
  checkFree(which);
  if (config.remote === null) {
    register(which, config, null);
    return;
  }
  busy = true;
  let tier: RemoteTier;
  try {
    tier = await RemoteTier.open(config.remote.tier);
  } finally {
    busy = false;
  }
  try {
    register(which, config, { tier, writethrough: config.remote.writethrough });
  } catch (err) {
    await tier.close();
    throw err;
  }
}

function checkFree(which: BackendName): void {
  if (busy) throw new TmemError('ERR_TMEM_BACKEND_LOADED', `a backend load or unload is already in progress`);
  if (loaded) {
    throw new TmemError(
      'ERR_TMEM_BACKEND_LOADED',
      `backend '${loaded.backend.name}' is already loaded; unload it before loading '${which}'`,
    );
  }
}

/** @internal The synchronous body of loadBackend without `remote` (creating a backend does no I/O). */
export function loadBackendNow(name: BackendName, options: ZcacheOptions = {}): void {
  const which = checkName(name);
  const config = parseZcacheOptions(options);
  if (config.remote !== null) throw new TypeError('the remote option needs `await loadBackend(...)`: the tier connects first');
  checkFree(which);
  register(which, config, null);
}

function register(which: BackendName, config: ZcacheConfig, remote: RemoteSetup | null): void {
  const backend = factories[which](config, remote);
  try {
    frontswap.registerOps(backend.frontswap);
    try {
      if (backend.cleancache) cleancache.registerOps(backend.cleancache);
    } catch (err) {
      frontswap.unregisterOps();
      throw err;
    }
  } catch (err) {
    // A backend that was never registered holds no pages and runs no writeback: closing it is immediate.
    void backend.close();
    throw err;
  }
  const exclusiveGetsBefore = frontswap.exclusiveGets;
  frontswap.exclusiveGets = config.exclusiveGets;
  const unregisterStats = debugfs.register('', () => {
    const flat: Record<string, number> = {};
    for (const [dir, counters] of Object.entries(backend.stats())) {
      for (const [key, value] of Object.entries(counters)) flat[`${dir}/${key}`] = value;
    }
    return flat;
  });
  loaded = { backend, unregisterStats, exclusiveGetsBefore };
}

let warnedNoNative = false;

/**
 * The default backend choice, used by the facades and `tmem demo`: the native `zcache`, or, where
 * the addon cannot be loaded, `zcache-js` with a one-line warning on stderr. Does nothing when a
 * backend is already loaded. Returns the name of the backend in use.
 */
export function useDefaultBackend(options: ZcacheOptions = {}): BackendName {
  if (loaded) return loaded.backend.name as BackendName;
  try {
    loadBackendNow('zcache', options);
    return 'zcache';
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_TMEM_NATIVE_UNAVAILABLE') throw err;
    if (!warnedNoNative) {
      warnedNoNative = true;
      const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
      process.stderr.write(`tmem: native zcache unavailable (${reason.split('\n')[0].trim()}); using zcache-js\n`);
    }
    loadBackendNow('zcache-js', options);
    return 'zcache-js';
  }
}

/** What a facade's `backend` option may say. */
export type BackendChoice = BackendName | 'default' | 'none';

/**
 * @internal For facades: makes sure `choice` is satisfied. A backend that is already loaded is used
 * as it is; 'none' loads nothing (the swap file serves everything).
 */
export function ensureBackend(choice: unknown): void {
  if (choice !== 'none' && choice !== 'default') checkName(choice);
  if (choice === 'none' || loaded) return;
  if (choice === 'default') useDefaultBackend();
  else loadBackendNow(checkName(choice));
}

/**
 * Compacts the loaded backend's pool (see Backend.compact); returns the frames released, 0 when no
 * backend is loaded.
 */
export function compactBackend(): number {
  return loaded ? loaded.backend.compact() : 0;
}

/** Async form of useDefaultBackend, for symmetry with loadBackend. */
export async function loadDefaultBackend(options: ZcacheOptions = {}): Promise<BackendName> {
  return useDefaultBackend(options);
}

/**
 * Unloads the backend: every page it holds for a swap area is written to that area's swap file
 * first, then its ops are unregistered and its memory released. Hooks are no-ops afterwards.
 */
export async function unloadBackend(name: BackendName): Promise<void> {
  const which = checkName(name);
  if (!loaded || loaded.backend.name !== which) {
    throw new TmemError('ERR_TMEM_BACKEND_NOT_LOADED', `backend '${which}' is not loaded`);
  }
  if (busy) throw new TmemError('ERR_TMEM_BACKEND_LOADED', `a backend load or unload is already in progress`);
  busy = true;
  try {
    const { backend, unregisterStats, exclusiveGetsBefore } = loaded;
    // Pages still on their way to the swap files land before the rest are moved there.
    await backend.flush();
    frontswap.shrink(0);
    // Clean pages can always be read again from their files: they are dropped, not written back.
    cleancache.unregisterOps();
    frontswap.unregisterOps();
    frontswap.exclusiveGets = exclusiveGetsBefore;
    unregisterStats();
    loaded = null;
    await backend.close();
  } finally {
    busy = false;
  }
}
