// One line of help per counter, and whether it counts events (a Prometheus `counter`, rates make
// sense) or shows current state (a `gauge`). Numbered directories are written as <type> (swap
// areas), <size> (allocator size classes) and <n> (facade instances). The README's Statistics section says the same (test/debugfs.test.ts checks).

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
  'zcache/evicted_eph_pageframes': c('Ephemeral page frames dropped to make room.'),
  'zcache/eph_zpages': g('Ephemeral (cleancache) pages held, same-filled included.'),
  'zcache/pers_zpages': g('Persistent (frontswap) pages held (= stored_pages).'),
  'zcache/eph_zbytes': g('Bytes of allocator slots (zsmalloc size class, zbud chunks) taken by ephemeral objects.'),
  'zcache/pers_zbytes': g('Bytes of allocator slots (zsmalloc size class, zbud chunks) taken by persistent objects.'),
  'zcache/evicted_eph_zpages': c('Ephemeral pages dropped with evicted frames.'),
  'zcache/pers_ate_eph': c('Ephemeral frames evicted to give a persistent store its frame.'),
  'zcache/eph_nonactive_puts_ignored': c('Cleancache puts ignored because the page was never active (ignoreNonactivePuts).'),
  'zcache/eph_puts': c('Cleancache puts that reached the backend.'),
  'zcache/eph_gets': c('Cleancache gets that hit.'),
  'zcache/eph_invalidates': c('Ephemeral pages dropped by invalidatePage, invalidateInode or invalidateFs.'),
  'zcache/outstanding_writeback_pages': g('Pages being written back right now.'),
  'zcache/metadata_bytes': g('Bytes of index and frame metadata.'),
  'zcache/mean_compressed_size': g('Mean compressed size of the pages held as objects, in bytes.'),
  'zcache/loads': c('Load calls, per page, whatever the outcome.'),
  'zcache/stores': c('Store calls, per page, whatever the outcome.'),
  'zcache/invalidates': c('Page and area invalidations.'),

  'zbud/pages': g('Page frames zbud manages.'),
  'zbud/buddied': g('Frames holding two objects.'),
  'zbud/unbuddied': g('Frames holding one object, with room for a buddy.'),
  'zbud/zbytes': g('Bytes of 64-byte chunks taken by objects.'),

  'zsmalloc/pages': g('Page frames zsmalloc holds (both pools).'),
  'zsmalloc/compactions': c('Compaction runs (automatic or on demand) that freed frames.'),
  'zsmalloc/pages_compacted': c('Frames freed by compaction.'),
  'zsmalloc/class/<size>/objs_per_zspage': g('Objects a zspage of this size class holds.'),
  'zsmalloc/class/<size>/pages_per_zspage': g('Frames per zspage of this size class.'),
  'zsmalloc/class/<size>/zspages': g('Zspages of this size class.'),
  'zsmalloc/class/<size>/obj_allocated': g('Object slots in those zspages.'),
  'zsmalloc/class/<size>/obj_used': g('Slots holding an object.'),
  'zsmalloc/class/<size>/pages_used': g('Frames those zspages take.'),

  'arena/committed_bytes': g("Bytes of the mmap'd arena that are backed by memory."),
  'arena/free_frames': g('Frames free in the arena, still committed.'),
  'arena/returned_frames': g('Frames returned to the OS with madvise.'),

  'swapcache/<n>/keys': g('Keys in the SwapCache.'),
  'swapcache/<n>/resident_bytes': g('Bytes of values in the resident ring.'),
  'swapcache/<n>/resident_capacity': g('Bytes of the resident ring (residentBytes): the memory of the resident tier.'),
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

/** The description key of a concrete path: numbered directories become <type> or <n>. */
export function descriptionKey(path: string): string {
  const parts = path.split('/');
  const named: Record<string, string> = { swap: '<type>', class: '<size>' };
  return parts.map((p, i) => (/^\d+$/.test(p) ? (named[parts[i - 1]] ?? '<n>') : p)).join('/');
}

/** The description of a concrete path, or undefined for a counter nobody documented. */
export function describeCounter(path: string): CounterDescription | undefined {
  return COUNTER_DESCRIPTIONS[descriptionKey(path)];
}
