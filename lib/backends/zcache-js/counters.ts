// Counters of the pure-JS zcache, with the debugfs names and meanings of the native backend. Gauges
// that the allocator already knows (frames, its own directory) are read from it when stats() is called.

export class ZcacheCounters {
  // Events.
  duplicate_entry = 0;
  reject_compress_poor = 0;
  reject_mean_compress_poor = 0;
  reject_compress_fail = 0;
  reject_alloc_fail = 0;
  reject_reclaim_fail = 0;
  pool_limit_hit = 0;
  written_back_pages = 0;
  decompress_fail = 0;
  // Ephemeral (cleancache) pool.
  evicted_eph_pageframes = 0;
  /** Pages dropped with the ephemeral frames evicted. */
  evicted_eph_zpages = 0;
  /** Ephemeral frames evicted to give a persistent store its frame. */
  pers_ate_eph = 0;
  eph_nonactive_puts_ignored = 0;
  /** putPage calls, whatever the outcome. */
  eph_puts = 0;
  /** getPage hits. */
  eph_gets = 0;
  /** Ephemeral pages dropped by invalidatePage, invalidateInode and invalidateFs. */
  eph_invalidates = 0;
  loads = 0;
  stores = 0;
  invalidates = 0;
  // Gauges kept here.
  stored_pages = 0;
  same_filled_pages = 0;
  stored_incompressible_pages = 0;
  /** Sum of the lengths of the objects held (LZ4 blocks, raw pages at 4096; same-filled pages take none). */
  compressed_bytes = 0;
  /** Pages held as an object (all but the same-filled ones): the denominator of the running mean. */
  object_pages = 0;
  outstanding_writeback_pages = 0;

  /** zcache's running mean: mean length of the objects currently held. */
  meanCompressedSize(): number {
    return this.object_pages === 0 ? 0 : Math.floor(this.compressed_bytes / this.object_pages);
  }

  resetGauges(): void {
    this.stored_pages = this.same_filled_pages = this.stored_incompressible_pages = 0;
    this.compressed_bytes = this.object_pages = this.outstanding_writeback_pages = 0;
  }
}
