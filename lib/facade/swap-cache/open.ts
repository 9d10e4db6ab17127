// Setting a SwapCache up and the pieces of it that need no private state: opening its store
// (swap area, backend, key index, ring) so that a failure undoes everything, its debugfs
// directory, and walking its keys.
import { ensureBackend } from '../../backends/registry';
import { debugfs } from '../../debugfs/tree';
import { swapon, type SwapArea } from '../../swap/area';
import { defaultKeyIndexKind, M_FLAGS, RESIDENT } from './key-index';
import type { Parsed } from './options';
import { onExit, OwnedDir } from './owned-dir';
import { Store } from './store';

/** What a cache made for itself and removes at close (or at exit, if never closed). */
export interface Owned {
  dir: OwnedDir | null;
  forgetExit: () => void;
}

/**
 * Swaps on the cache's own area (unless given one), makes sure a backend is loaded and builds the
 * store. All options were validated; if any step fails, what the steps before it did is undone.
 */
export function openStore<V>(o: Parsed<V>, removeOwned: () => void): { store: Store; area: SwapArea; owned: Owned | null } {
  let dir: OwnedDir | null = null;
  let area = o.area;
  let store: Store;
  try {
    if (!area) {
      if (o.path === null) dir = new OwnedDir();
      area = swapon(dir ? `${dir.path}/swapfile` : o.path!, { pages: o.pages });
    }
    ensureBackend(o.backend);
    store = new Store({
      area,
      residentBytes: o.residentBytes,
      maxBytes: o.maxBytes,
      keyIndex: o.keyIndex ?? defaultKeyIndexKind(),
      maxKeyBytes: 3 * o.maxKeyLength,
      dropFileCache: o.dropFileCache,
      now: o.now,
    });
  } catch (err) {
    if (area && !o.area) area.swapoff();
    dir?.remove();
    throw err;
  }
  return { store, area, owned: o.area ? null : { dir, forgetExit: onExit(removeOwned) } };
}

// debugfs directory numbers in use: a new cache takes the lowest free one, as swap areas do.
const statIds = new Set<number>();

/** Registers swapcache/<n>/ with the lowest free n; returns the function that unregisters it. */
export function registerStats(provider: () => Record<string, number>): () => void {
  let id = 0;
  while (statIds.has(id)) id++;
  statIds.add(id);
  const unregister = debugfs.register(`swapcache/${id}`, provider);
  return () => {
    unregister();
    statIds.delete(id);
  };
}

/**
 * The keys of `store`: resident ones first, most recently used first, then swapped ones in index
 * order; expired entries skipped. `live` throws once the cache is closed.
 */
export function* iterateKeys(store: Store, live: () => void): IterableIterator<string> {
  const resident = store.ring.slots().map((slot) => store.ring.key[slot]);
  const seen = new Set(resident);
  for (let i = resident.length - 1; i >= 0; i--) {
    live();
    if (store.has(resident[i])) yield resident[i];
  }
  for (let id = store.index.next(0); id >= 0; ) {
    if (!(store.index.meta[M_FLAGS] & RESIDENT)) {
      const key = store.index.keyOf(id);
      if (!seen.has(key) && store.has(key)) yield key;
    }
    live();
    id = store.index.next(id + 1);
  }
}
