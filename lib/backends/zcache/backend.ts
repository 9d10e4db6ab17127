// The native zcache backend: a thin TypeScript shell over the addon's Pool. Arguments arrive
// validated from the frontswap layer, so every op is one direct N-API call; the counters come
// over in one stats() call into a reused Float64Array (areaStats likewise, into a 2-slot one).
//
// Writeback: the pool has the mechanics (pick cold entries, decompress, pwrite to the swap file,
// free, compact; on the libuv thread pool or synchronously), WritebackPolicy decides when. The
// policy hears about every accepted store (afterStore: start background batches above the high
// watermark) and every store refused because the pool is full (onPoolFull: direct reclaim, then
// the same). The allocator (zsmalloc by default) is the pool's; compact() goes straight to it.
//
// Remote tier (with `remote`): RemoteAttachment puts remotify in front of the writeback mechanics
// and extends the frontswap ops to the pages held in the cluster; the pool offers remotePick,
// remoteFinish and decompress (pool.h, "Remote tier").
//
// Cleancache: the pool's ephemeral half (clean pages in frames of their own, eaten first when any
// allocation finds the pool at its cap). Ephemeral puts never involve the writeback policy.
import { loadNative, StoreStatus, type NativePool } from '../../native/binding';
import { allocatorOf, type ZcacheConfig } from '../options';
import { RemoteAttachment, type RemoteSetup } from '../remote/attach';
import type { AreaInfo, Backend, CleancacheOps, CounterSet, FrontswapOps } from '../types';
import { PAGE_SIZE } from '../types';
import { WritebackPolicy, type WritebackMechanics } from '../writeback-policy';
import { PoolStatsReader } from './stats-reader';

const { AllocFail, PoolFull } = StoreStatus;

function mechanicsOf(pool: NativePool): WritebackMechanics {
  return {
    poolBytes: () => pool.poolBytes(),
    compact: () => pool.compact(),
    writeback: (maxPages) =>
      new Promise<number>((resolve, reject) => {
        // Throws synchronously only after close(); the policy counts a rejected batch.
        pool.writeback(maxPages, (err, written) => (err ? reject(err) : resolve(written)));
      }),
    writebackSync: (maxPages) => pool.writebackSync(maxPages),
  };
}

function frontswapOps(pool: NativePool, policy: WritebackPolicy | null, reader: PoolStatsReader): FrontswapOps {
  return {
    // Pages and buffers only ever reach the pool's N-API methods, which read internal slots.
    inPlaceViews: true,
    init(type: number, area: AreaInfo) {
      pool.initArea(type, area.pages, area.fd, area.seals);
      reader.initialised[type] = true;
    },
    store(type, offset, page) {
      const status = pool.store(type, offset, page);
      if (policy !== null) {
        if (status > 0) policy.afterStore();
        else if (status === AllocFail || status === PoolFull) policy.onPoolFull();
      }
      return status > 0;
    },
    load: (type, offset, into, exclusive) => pool.load(type, offset, into, exclusive),
    invalidatePage: (type, offset) => pool.invalidatePage(type, offset),
    invalidateArea(type) {
      pool.invalidateArea(type);
      reader.initialised[type] = false;
    },
    storeBatch(type, offsets, pages, results) {
      // The pool reports a status per page (>0 stored, <0 the refusal reason); frontswap wants 0/1.
      const status = new Int8Array(results.buffer, results.byteOffset, offsets.length);
      const stored = pool.storeBatch(type, offsets, pages, status);
      let full = false;
      for (let i = 0; i < offsets.length; i++) {
        const st = status[i];
        if (st === AllocFail || st === PoolFull) full = true;
        results[i] = st > 0 ? 1 : 0;
      }
      if (policy !== null) {
        if (full) policy.onPoolFull();
        else if (stored > 0) policy.afterStore();
      }
      return stored;
    },
    loadBatch: (type, offsets, into, hits, exclusive) => pool.loadBatch(type, offsets, into, hits, exclusive),
    invalidateBatch: (type, offsets) => pool.invalidateBatch(type, offsets),
    areaStats: (type) => reader.areaUsage(type),
  };
}

function cleancacheOps(pool: NativePool): CleancacheOps {
  const checkPageSize = (pageSize: number) => {
    if (pageSize !== PAGE_SIZE) throw new RangeError(`zcache: page size must be ${PAGE_SIZE}, got ${pageSize}`);
  };
  return {
    inPlaceViews: true,
    initFs(pageSize) {
      checkPageSize(pageSize);
      return pool.ephInitFs();
    },
    initSharedFs(uuid, pageSize) {
      checkPageSize(pageSize);
      if (typeof uuid !== 'string' || uuid.length === 0) throw new TypeError('uuid must be a non-empty string');
      return pool.ephInitSharedFs(uuid);
    },
    // The key buffer is the hook layer's, reused between calls: the pool copies it when it keeps it.
    getPage: (id, key, index, into, exclusive) => pool.ephGet(id, key, index, into, exclusive),
    putPage: (id, key, index, page, wasActive) => pool.ephPut(id, key, index, page, wasActive),
    invalidatePage: (id, key, index) => pool.ephInvalidatePage(id, key, index),
    invalidateInode: (id, key) => pool.ephInvalidateInode(id, key),
    invalidateFs: (id) => pool.ephInvalidateFs(id),
  };
}

export function createZcache(config: ZcacheConfig, remoteSetup: RemoteSetup | null = null): Backend {
  const allocator = allocatorOf('zcache', config);
  const native = loadNative();
  const pool = new native.Pool({
    allocator,
    maxPoolBytes: config.maxPoolBytes,
    maxCompressedBytes: config.maxCompressedBytes,
    maxMeanCompressedBytes: config.maxMeanCompressedBytes,
    storeIncompressible: config.storeIncompressible,
    acceptThresholdPercent: config.acceptThresholdPercent,
    ignoreNonactivePuts: config.ignoreNonactivePuts,
  });
  const remote = remoteSetup === null ? null : new RemoteAttachment(remoteSetup, pool);
  const mechanics = remote === null ? mechanicsOf(pool) : remote.mechanics(mechanicsOf(pool));
  const policy = config.writeback === null ? null : new WritebackPolicy(mechanics, config.writeback);
  const names = pool.statNames;
  const reader = new PoolStatsReader(pool);
  const ops = frontswapOps(pool, policy, reader);
  return {
    name: 'zcache',
    frontswap: remote === null ? ops : remote.frontswap(ops),
    cleancache: cleancacheOps(pool),
    stats() {
      const values = reader.counters();
      const out: Record<string, CounterSet> = {};
      for (let i = 0; i < names.length; i++) {
        const slash = names[i].indexOf('/');
        const dir = names[i].slice(0, slash);
        (out[dir] ??= {})[names[i].slice(slash + 1)] = values[i];
      }
      if (remote !== null) out.ramster = remote.stats();
      return out;
    },
    compact: () => pool.compact(),
    async flush() {
      if (policy !== null) await policy.idle();
    },
    async close() {
      if (policy !== null) await policy.stop();
      if (remote !== null) await remote.close();
      pool.close();
    },
  };
}
