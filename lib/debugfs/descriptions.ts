// One line of help per counter, and whether it counts events (a Prometheus `counter`, rates make
// sense) or shows current state (a `gauge`). Numbered directories are written as <type> (swap
// areas), <size> (zsmalloc size classes) and <n> (facade instances). The README's Statistics section says the same (test/debugfs.test.ts checks).

export type CounterKind = 'counter' | 'gauge';

export interface CounterDescription {
  kind: CounterKind;
  help: string;
}

const c = (help: string): CounterDescription => ({ kind: 'counter', help });
const g = (help: string): CounterDescription => ({ kind: 'gauge', help });

export const COUNTER_DESCRIPTIONS: Readonly<Record<string, CounterDescription>> = {
  'frontswap/loads': c('Pages loaded from the backend (successful frontswap loads).'),
  'frontswap/succ_stores': c('Stores the backend accepted.'),
  'frontswap/failed_stores': c('Stores the backend refused; those pages went to the swap file.'),
  'frontswap/invalidates': c('Pages invalidated (freed slots, exclusive gets, area invalidations).'),
  'frontswap/curr_pages': g('Pages frontswap currently holds in the backend, over all areas.'),

  'cleancache/succ_gets': c('Clean pages found in the backend.'),
  'cleancache/failed_gets': c('Clean-page lookups that missed.'),
  'cleancache/puts': c('Clean pages offered to the backend.'),
  'cleancache/invalidates': c('Clean pages, inodes and pools invalidated.'),

  'swap/<type>/pages': g('Slots of the swap area, header slot included.'),
  'swap/<type>/used_pages': g('Slots holding a page.'),
  'swap/<type>/frontswap_pages': g("Used slots whose page is held by frontswap (the area's bitmap)."),
  'swap/<type>/pool_pages': g("Pages the backend's pool holds for this area (same-filled included)."),
  'swap/<type>/pool_compressed_bytes': g('Bytes those pages take compressed (raw pages 4096, same-filled 0).'),
  'swap/<type>/file_pages': g('Used slots whose page is only in the swap file (not in the pool).'),
  'swap/<type>/file_size': g('Apparent size of the swap file, in bytes.'),
  'swap/<type>/file_allocated_bytes': g('Bytes the file system has allocated for the swap file.'),
  'swap/<type>/file_reads': c('Pages read from the swap file (frontswap misses).'),
  'swap/<type>/file_writes': c('Pages written to the swap file (refused stores, writeback).'),
  'swap/<type>/checksum_failures': c('Pages read from the swap file that failed their check (CRC32C, or the GCM tag of an encrypted area): ERR_TMEM_CORRUPT.'),

  'zcache/stored_pages': g('Pages held in the pool (compressed, raw and same-filled).'),
  'zcache/pool_total_size': g('Bytes of page frames the pool uses.'),
  'zcache/pool_pages': g('Page frames the pool uses.'),
  'zcache/same_filled_pages': g('Pages held as one repeated word, using no pool memory.'),
  'zcache/duplicate_entry': c('Stores that replaced a page already held at the same offset.'),
  'zcache/reject_compress_poor': c('Stores refused because the page compressed too poorly.'),
  'zcache/reject_mean_compress_poor': c("Stores refused by the running-mean compressed size rule."),
  'zcache/reject_compress_fail': c('Stores refused because the compressor failed.'),
  'zcache/reject_alloc_fail': c('Stores refused because no page frame could be allocated.'),
  'zcache/reject_reclaim_fail': c('Pages whose writeback pwrite failed (ENOSPC, EIO, ...); they stay in the pool.'),
  'zcache/pool_limit_hit': c('Stores that found the pool at its size limit.'),
  'zcache/written_back_pages': c('Pages written back from the pool to their swap files.'),
  'zcache/decompress_fail': c('Loads whose page failed to decompress.'),
  'zcache/stored_incompressible_pages': g('Pages held uncompressed in a whole frame.'),
  'zcache/compressed_bytes': g('Sum of the stored objects\' lengths (raw pages count 4096).'),
  'zcache/pers_pageframes': g('Page frames holding persistent (frontswap) pages.'),
  'zcache/eph_pageframes': g('Page frames holding ephemeral (cleancache) pages.'),
  'zcache/evicted_eph_pageframes': c('Page frames given back by dropping ephemeral pages to make room.'),
  'zcache/eph_zpages': g('Ephemeral (cleancache) pages held, same-filled included.'),
  'zcache/pers_zpages': g('Persistent (frontswap) pages held (= stored_pages).'),
  'zcache/eph_zbytes': g('Bytes of pool space (slots or chunks, headers included) taken by ephemeral objects.'),
  'zcache/pers_zbytes': g('Bytes of pool space (slots or chunks, headers included) taken by persistent objects.'),
  'zcache/evicted_eph_zpages': c('Ephemeral pages dropped to make room (whole frames or zspages at a time).'),
  'zcache/pers_ate_eph': c('Ephemeral frames or zspages evicted to give a persistent store room.'),
  'zcache/eph_nonactive_puts_ignored': c('Cleancache puts ignored because the page was never active (ignoreNonactivePuts).'),
  'zcache/eph_puts': c('Cleancache puts that reached the backend.'),
  'zcache/eph_gets': c('Cleancache gets that hit.'),
  'zcache/eph_invalidates': c('Ephemeral pages dropped by invalidatePage, invalidateInode or invalidateFs.'),
  'zcache/outstanding_writeback_pages': g('Pages being written back right now.'),
  'zcache/metadata_bytes': g('Bytes of native bookkeeping outside the pool frames: index, handle table, zspage descriptors or frame headers, class tables.'),
  'zcache/mean_compressed_size': g('Mean compressed size of the pages held as objects, in bytes.'),
  'zcache/loads': c('Load calls, per page, whatever the outcome.'),
  'zcache/stores': c('Store calls, per page, whatever the outcome.'),
  'zcache/invalidates': c('Page and area invalidations.'),

  'zsmalloc/compactions': c('Compaction runs (automatic or on demand) that moved at least one object.'),
  'zsmalloc/pages_compacted': c('Page frames given back by compaction.'),
  'zsmalloc/pages': g('Page frames zsmalloc holds.'),
  'zsmalloc/class/<size>/objs_per_zspage': g('Objects a zspage of this size class holds (slot size <size> bytes, header included).'),
  'zsmalloc/class/<size>/pages_per_zspage': g('Page frames of a full zspage of this class (taken as it fills).'),
  'zsmalloc/class/<size>/zspages': g('Zspages of this class.'),
  'zsmalloc/class/<size>/obj_allocated': g('Object slots of those zspages (zspages x objs_per_zspage).'),
  'zsmalloc/class/<size>/obj_used': g('Objects stored in this class.'),
  'zsmalloc/class/<size>/pages_used': g('Page frames this class holds.'),

  'z3fold/pages': g('Page frames z3fold manages.'),
  'z3fold/buddied': g('Frames holding three objects.'),
  'z3fold/unbuddied': g('Frames holding one or two objects, with room left.'),
  'z3fold/headless': g('Frames holding one object too big to share (a raw page).'),
  'z3fold/zbytes': g('Bytes of 64-byte chunks taken by objects.'),
  'z3fold/middle_moves': c('Objects moved within their frame to join its free space into one run.'),

  'zbud/pages': g('Page frames zbud manages.'),
  'zbud/buddied': g('Frames holding two objects.'),
  'zbud/unbuddied': g('Frames holding one object, with room for a buddy.'),
  'zbud/zbytes': g('Bytes of 64-byte chunks taken by objects.'),

  'arena/committed_bytes': g("Bytes of the mmap'd arena that are backed by memory."),
  'arena/free_frames': g('Frames free in the arena, still committed.'),
  'arena/returned_frames': g('Frames returned to the OS with madvise.'),

  'ramster/pers_pages_remoted': c('Swap pages a batch put in the cluster (acknowledged by the master and `replicas` replicas).'),
  'ramster/eph_pages_remoted': c('Clean pages put in the cluster (none yet: cleancache pages stay local).'),
  'ramster/pers_pages_remote_failed': c('Swap pages of batches the cluster did not take; they stayed local.'),
  'ramster/eph_pages_remote_failed': c('Clean pages of batches the cluster did not take.'),
  'ramster/pers_pages_remote_nomem': c('... of which refused because a master was at maxmemory (OOM).'),
  'ramster/eph_pages_remote_nomem': c('Clean pages refused because a master was at maxmemory.'),
  'ramster/remote_pers_pages_succ_get': c('Swap pages loaded back from the cluster, checked.'),
  'ramster/remote_pers_pages_unsucc_get': c('Loads of remote swap pages that found no valid copy (lost, corrupt, unreachable).'),
  'ramster/remote_eph_pages_succ_get': c('Clean pages loaded back from the cluster.'),
  'ramster/remote_eph_pages_unsucc_get': c('Loads of remote clean pages that found no valid copy.'),
  'ramster/remote_pages_flushed': c('Remote copies deleted (invalidations, exclusive gets, stores over a remote page).'),
  'ramster/remote_page_flushes_failed': c('Deletes that failed; they are retried.'),
  'ramster/remote_pers_pages': g('Swap pages held in the cluster now.'),
  'ramster/remote_eph_pages': g('Clean pages held in the cluster now.'),
  'ramster/remote_bytes_written': c('Bytes of values written to the cluster (24-byte header included).'),
  'ramster/remote_batches': c('Write batches sent (one MSET + WAIT each).'),
  'ramster/remote_wait_short': c('Batches the master took but WAIT saw on too few replicas (the pages stayed local).'),
  'ramster/remote_crc_failed': c('Loaded values that failed their CRC32C (treated as lost, never returned).'),
  'ramster/remote_version_mismatch': c('Loaded values of another page, version or namespace (treated as lost).'),
  'ramster/remote_unreachable_gets': c('Loads that reached no copy before loadTimeoutMs.'),
  'ramster/remote_replica_reads': c('Loads served by a replica (master down, hung or slow).'),
  'ramster/remote_failover_retries': c('Retries after MOVED, ASK, TRYAGAIN, CLUSTERDOWN or a dead connection.'),
  'ramster/remote_canary_lost': c('Groups found wiped (a master restarted empty): their pages are lost.'),
  'ramster/remote_lease_lost': c('Times the namespace lease was found gone (new pages moved to a fresh namespace).'),
  'ramster/remote_namespaces_swept': c('Namespaces of dead processes removed by the sweeper.'),
  'ramster/remote_orphans_swept': c('Keys of dead processes removed by the sweeper.'),
  'ramster/remote_delete_backlog': g('Deletes waiting to be retried.'),
  'ramster/remote_available': g('1 while the tier can write to the cluster, 0 while degraded (pool + swap file only).'),
  'ramster/remote_masters': g('Masters in the slot map.'),
  'ramster/remote_blocking_loads': c('Pages loaded by blocking calls (readPage/takePage: one round trip on the calling thread).'),
  'ramster/remote_blocking_load_timeouts': c('Blocking loads that hit their deadline.'),
  'ramster/remote_put_rtt_p50_us': g('Median round trip of a write batch (MSET + WAIT), in µs.'),
  'ramster/remote_put_rtt_p99_us': g('99th percentile of the same, in µs.'),
  'ramster/remote_get_rtt_p50_us': g('Median round trip of a load batch, in µs.'),
  'ramster/remote_get_rtt_p99_us': g('99th percentile of the same, in µs.'),

  'swapcache/<n>/keys': g('Keys in the SwapCache.'),
  'swapcache/<n>/resident_bytes': g('Bytes of values in the resident ring.'),
  'swapcache/<n>/resident_capacity': g('Bytes of the resident ring (residentBytes): the memory of the resident tier.'),
  'swapcache/<n>/resident_charged_bytes': g("Bytes of the resident budget charged for resident values' JS-side state (192 + key length each)."),
  'swapcache/<n>/swapped_bytes': g('Bytes of values that live only in swap.'),
  'swapcache/<n>/index_bytes': g('Bytes of the key index and the run table, outside the V8 heap.'),
  'swapcache/<n>/swap_pages': g('Swap slots held by packed runs of values.'),
  'swapcache/<n>/pool_pages': g("Pages of the cache's swap area held in the compressed pool."),
  'swapcache/<n>/compressed_bytes': g('Bytes those pages take in the pool, compressed.'),
  'swapcache/<n>/file_pages': g("Pages of the cache's swap area held only in the swap file."),
  'swapcache/<n>/gets_resident': c('Gets served from the resident ring.'),
  'swapcache/<n>/gets_pool': c('Gets served from frontswap (the compressed pool).'),
  'swapcache/<n>/gets_file': c('Gets that read at least one page from the swap file.'),
  'swapcache/<n>/misses': c('Gets of keys that are not in the cache.'),
  'swapcache/<n>/evicted_values': c('Values moved out of the resident ring to swap.'),
  'swapcache/<n>/dropped_values': c('Entries dropped to stay under maxBytes (dispose reason evict).'),
  'swapcache/<n>/expired_values': c('Entries removed because their ttl passed.'),
  'swapcache/<n>/compacted_runs': c('Sparse runs whose live values were rewritten into new runs (map mode).'),

  'pagecache/<n>/reads': c('read() calls on cached files.'),
  'pagecache/<n>/hits_resident': c('Pages found in the resident page LRU.'),
  'pagecache/<n>/hits_cleancache': c('Pages found in cleancache.'),
  'pagecache/<n>/reads_disk': c('Pages read from the file.'),
  'pagecache/<n>/invalidated_files': c('Files whose cached pages were dropped because they changed.'),
  'pagecache/<n>/resident_pages': g('Pages in the resident page LRU.'),
  'pagecache/<n>/open_files': g('Files open through the PageCache.'),
};

/** The description key of a concrete path: numbered directories become <type>, <size> or <n>. */
export function descriptionKey(path: string): string {
  const parts = path.split('/');
  const numbered: Record<string, string> = { swap: '<type>', class: '<size>' };
  return parts.map((p, i) => (/^\d+$/.test(p) ? (numbered[parts[i - 1]] ?? '<n>') : p)).join('/');
}

/** The description of a concrete path, or undefined for a counter nobody documented. */
export function describeCounter(path: string): CounterDescription | undefined {
  return COUNTER_DESCRIPTIONS[descriptionKey(path)];
}
