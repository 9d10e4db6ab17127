// The pure-JS zcache backend (DESIGN §6), wired from its parts: the persistent pool (frontswap,
// persistent.ts), the ephemeral pool (cleancache, ephemeral.ts) and writeback (writeback.ts), over
// one allocator (zsmalloc-class by default, or zbud) and one set of counters (context.ts). Same
// frontswap contract and counters as the native `zcache`; no JS object per stored page. What is
// left here belongs to no single part: the stats, which read all of them, the allocator's moves,
// which both pools' indexes follow, and close, which releases all of them.
import type { ZcacheConfig } from '../options';
import { RemoteAttachment, type RemoteSetup } from '../remote/attach';
import type { Backend, CounterSet } from '../types';
import { PAGE_SIZE } from '../types';
import { WritebackPolicy } from '../writeback-policy';
import { EPH, PERS } from './allocator';
import { ZcacheContext } from './context';
import { EphemeralPool } from './ephemeral';
import { PersistentPool } from './persistent';
import { RemotePicks } from './remote-picks';

function stats(ctx: ZcacheContext, pers: PersistentPool, eph: EphemeralPool): Record<string, CounterSet> {
  const c = ctx.counters;
  const a = ctx.alloc;
  const frames = a.frames.inUse;
  return {
    zcache: {
      stored_pages: c.stored_pages,
      pool_total_size: frames * PAGE_SIZE,
      pool_pages: frames,
      same_filled_pages: c.same_filled_pages,
      duplicate_entry: c.duplicate_entry,
      reject_compress_poor: c.reject_compress_poor,
      reject_mean_compress_poor: c.reject_mean_compress_poor,
      reject_compress_fail: c.reject_compress_fail,
      reject_alloc_fail: c.reject_alloc_fail,
      reject_reclaim_fail: c.reject_reclaim_fail,
      pool_limit_hit: c.pool_limit_hit,
      written_back_pages: c.written_back_pages,
      decompress_fail: c.decompress_fail,
      stored_incompressible_pages: c.stored_incompressible_pages,
      compressed_bytes: c.compressed_bytes,
      pers_pageframes: a.framesOf(PERS),
      eph_pageframes: a.framesOf(EPH),
      pers_zpages: c.stored_pages,
      eph_zpages: eph.pages,
      pers_zbytes: a.zbytesOf(PERS),
      eph_zbytes: a.zbytesOf(EPH),
      evicted_eph_pageframes: c.evicted_eph_pageframes,
      evicted_eph_zpages: c.evicted_eph_zpages,
      pers_ate_eph: c.pers_ate_eph,
      eph_nonactive_puts_ignored: c.eph_nonactive_puts_ignored,
      eph_puts: c.eph_puts,
      eph_gets: c.eph_gets,
      eph_invalidates: c.eph_invalidates,
      outstanding_writeback_pages: c.outstanding_writeback_pages,
      metadata_bytes: a.metadataBytes + eph.metadataBytes + pers.metadataBytes,
      mean_compressed_size: c.meanCompressedSize(),
      loads: c.loads,
      stores: c.stores,
      invalidates: c.invalidates,
    },
    ...a.stats(),
  };
}

/**
 * Creates the pure-JS zcache backend from a parsed config (options.ts parses and defaults it).
 * With `config.writeback`, a WritebackPolicy drives this backend's writeback mechanics.
 */
export function createZcacheJs(config: ZcacheConfig, remoteSetup: RemoteSetup | null = null): Backend {
  const ctx = new ZcacheContext(config);
  const eph = new EphemeralPool(ctx, config);
  const pers = new PersistentPool(ctx, eph, config);
  ctx.alloc.onMove = (pool, owner, location) => (pool === PERS ? pers.relocate(owner, location) : eph.relocate(owner, location));
  let remote: RemoteAttachment | null = null;
  if (remoteSetup !== null) {
    pers.remotePicks = new RemotePicks(ctx, pers);
    remote = new RemoteAttachment(remoteSetup, pers.remotePicks);
  }
  const mechanics = remote === null ? pers : remote.mechanics(pers);
  const policy = config.writeback ? new WritebackPolicy(mechanics, config.writeback) : null;
  pers.policy = policy;
  // Drops everything held: the registry has moved persistent pages to their swap files before, and
  // ephemeral pages are clean, so they are simply dropped.
  const release = (): void => {
    if (ctx.closed) return;
    ctx.closed = true;
    ctx.alloc.release();
    eph.release();
    pers.release();
    ctx.counters.resetGauges();
  };
  return {
    name: 'zcache-js',
    frontswap: remote === null ? pers : remote.frontswap(pers),
    cleancache: eph.ops,
    stats: () => (remote === null ? stats(ctx, pers, eph) : { ...stats(ctx, pers, eph), ramster: remote.stats() }),
    compact: () => (ctx.closed ? 0 : ctx.alloc.compact()),
    flush: () => (policy ? policy.idle() : Promise.resolve()),
    close: async () => {
      if (policy) await policy.stop();
      if (remote) await remote.close();
      release();
    },
  };
}
