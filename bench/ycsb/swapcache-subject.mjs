// The one place the YCSB bench touches SwapCache: a thin adapter over its public API (set, get,
// has, delete, residentBytes, stats()), so a new SwapCache (getAsync, maxBytes, an off-heap key
// index) changes this file only.
//
//   open({ backend, residentBytes, poolBytes, dataBytes, tmp })
//     backend 'zcache' | 'zcache-js': loadBackend(backend, { maxPoolBytes: poolBytes }) with the
//     backend's defaults otherwise (writeback on: a full pool writes its oldest pages to the file);
//     'none': no backend, every cold value goes to the swap file.
//
// Values are bytes (no serializer): every subject gets the same Buffers and returns Buffers.
import { join } from 'node:path';
import { tmem } from '../lib/subjects.mjs';

const PAGE = 4096;

export function swapCacheSubject(backend) {
  return {
    kind: 'swapcache',
    backend,
    async open({ backend: override, residentBytes, poolBytes, dataBytes, tmp }) {
      const t = tmem();
      const use = override ?? backend;
      if (use !== 'none') await t.loadBackend(use, { maxPoolBytes: Math.max(PAGE, Math.floor(poolBytes / PAGE) * PAGE) });
      // Swap space for the data several times over: runs whose values were partly rewritten keep
      // their slots until their last value goes. The file is sparse until written.
      const pages = Math.min(2 ** 30, Math.ceil((dataBytes * 4) / PAGE) + 8192);
      const cache = new t.SwapCache({ residentBytes, pages, path: join(tmp, `swapfile-${process.pid}`), backend: use === 'none' ? 'none' : 'default' });
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value),
        /** Gets served by each tier so far. */
        tiers() {
          const s = cache.stats();
          return { resident: s.gets_resident, pool: s.gets_pool, file: s.gets_file, miss: s.misses };
        },
        info() {
          const s = cache.stats();
          return {
            keys: s.keys,
            residentBytes: cache.residentBytes,
            swappedBytes: cache.swappedBytes,
            compressedBytes: s.compressed_bytes,
            poolPages: s.pool_pages,
            filePages: s.file_pages,
            swapPages: s.swap_pages,
            evictedValues: s.evicted_values,
          };
        },
        async close() {
          cache.close();
          if (use !== 'none') await t.unloadBackend(use);
        },
      };
    },
  };
}
