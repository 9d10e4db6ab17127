// Backend modules, loaded and unloaded like kernel modules: loading registers the backend's ops
// with the hook layers (replaying init for areas that already exist), unloading moves every
// persistent page back to its swap file before the ops go away, so no page is ever lost.
import { cleancache } from '../cleancache/cleancache';
import { debugfs } from '../debugfs/tree';
import { frontswap } from '../frontswap/frontswap';
import { TmemError } from '../util/errors';
import { describe } from '../util/validate';
import { parseZcacheOptions, type ZcacheConfig } from './options';
import type { Backend, ZcacheOptions } from './types';
import { createZcache } from './zcache/backend';
import { createZcacheJs } from './zcache-js';

export type BackendName = 'zcache' | 'zcache-js';

const factories: Record<BackendName, (config: ZcacheConfig) => Backend> = {
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
  if (!(name in factories)) {
    throw new TmemError('ERR_TMEM_UNKNOWN_BACKEND', `unknown backend '${name}' (available: ${Object.keys(factories).join(', ')})`);
  }
  return name as BackendName;
}

/** Name of the loaded backend, or null. */
export function loadedBackend(): BackendName | null {
  return loaded ? (loaded.backend.name as BackendName) : null;
}

/**
 * Loads a backend and registers it with frontswap. Areas already swapped on are initialised for
 * it now. Only one backend can be loaded at a time.
 */
export async function loadBackend(name: BackendName, options: ZcacheOptions = {}): Promise<void> {
  const which = checkName(name);
  const config = parseZcacheOptions(options);
  if (busy) throw new TmemError('ERR_TMEM_BACKEND_LOADED', `a backend load or unload is already in progress`);
  if (loaded) {
    throw new TmemError(
      'ERR_TMEM_BACKEND_LOADED',
      `backend '${loaded.backend.name}' is already loaded; unload it before loading '${which}'`,
    );
  }
  busy = true;
  try {
    const backend = factories[which](config);
    try {
      frontswap.registerOps(backend.frontswap);
      try {
        if (backend.cleancache) cleancache.registerOps(backend.cleancache);
      } catch (err) {
        frontswap.unregisterOps();
        throw err;
      }
    } catch (err) {
      await backend.close();
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
  } finally {
    busy = false;
  }
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
