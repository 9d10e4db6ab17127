// The native zcache backend: a thin TypeScript shell over the addon's Pool. Arguments arrive
// validated from the frontswap layer, so every op is one direct N-API call; the counters come
// over in one stats() call into a reused Float64Array.
import { loadNative, type NativePool } from '../../native/binding';
import type { ZcacheConfig } from '../options';
import type { AreaInfo, Backend, CounterSet, FrontswapOps } from '../types';

function frontswapOps(pool: NativePool): FrontswapOps {
  return {
    init: (type: number, area: AreaInfo) => pool.initArea(type, area.pages, area.fd),
    store: (type, offset, page) => pool.store(type, offset, page) > 0,
    load: (type, offset, into, exclusive) => pool.load(type, offset, into, exclusive),
    invalidatePage: (type, offset) => pool.invalidatePage(type, offset),
    invalidateArea: (type) => pool.invalidateArea(type),
    storeBatch(type, offsets, pages, results) {
      // The pool reports a status per page (>0 stored, <0 the refusal reason); frontswap wants 0/1.
      const status = new Int8Array(results.buffer, results.byteOffset, offsets.length);
      const stored = pool.storeBatch(type, offsets, pages, status);
      for (let i = 0; i < offsets.length; i++) results[i] = status[i] > 0 ? 1 : 0;
      return stored;
    },
    loadBatch: (type, offsets, into, hits, exclusive) => pool.loadBatch(type, offsets, into, hits, exclusive),
    invalidateBatch: (type, offsets) => pool.invalidateBatch(type, offsets),
  };
}

export function createZcache(config: ZcacheConfig): Backend {
  const native = loadNative();
  const pool = new native.Pool({
    maxPoolBytes: config.maxPoolBytes,
    maxCompressedBytes: config.maxCompressedBytes,
    maxMeanCompressedBytes: config.maxMeanCompressedBytes,
    storeIncompressible: config.storeIncompressible,
  });
  const names = pool.statNames;
  const values = new Float64Array(names.length);
  return {
    name: 'zcache',
    frontswap: frontswapOps(pool),
    stats() {
      pool.stats(values);
      const out: Record<string, CounterSet> = {};
      for (let i = 0; i < names.length; i++) {
        const slash = names[i].indexOf('/');
        const dir = names[i].slice(0, slash);
        (out[dir] ??= {})[names[i].slice(slash + 1)] = values[i];
      }
      return out;
    },
    async flush() {},
    async close() {
      pool.close();
    },
  };
}
