#!/usr/bin/env node
// Swaps real heap pages through a swap area with zcache loaded, using only the public API:
// swap on, load the backend (optionally with a pool limit, so writeback to the swap file runs),
// write every page, read every page back and compare, check the counters moved, unload (which
// drains the pool to the swap file), read everything back again from the file, swap off. Prints
// how densely the pool held the pages: compressed bytes / pool bytes, and native metadata per page.
//
// usage: node examples/frontswap-roundtrip.mjs [PAGES=50000] [BACKEND[/ALLOCATOR]=zcache] [POOL_MIB=default] [DIR=os.tmpdir()]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debugfs, loadBackend, swapon, unloadBackend } from 'tmem';
import { heapPages } from '../bench/corpus/heap-pages.mjs';

const PAGE = 4096;
const want = Number(process.argv[2] ?? 50000);
const [backend, allocator] = (process.argv[3] ?? 'zcache').split('/');
const poolMiB = process.argv[4] && process.argv[4] !== 'default' ? Number(process.argv[4]) : undefined;
const dir = mkdtempSync(join(process.argv[5] ?? tmpdir(), 'tmem-roundtrip-'));

// One child's heap yields ~50k pages; take more children until there are enough.
const parts = [];
for (let have = 0; have < want; ) {
  const part = await heapPages({ maxPages: want - have });
  parts.push(part);
  have += part.length / PAGE;
}
const pages = Buffer.concat(parts);
const n = pages.length / PAGE;

const area = swapon(join(dir, 'swapfile'), { pages: n + 1 });
try {
  await loadBackend(backend, { ...(poolMiB ? { maxPoolBytes: poolMiB << 20 } : {}), ...(allocator ? { allocator } : {}) });
  const t0 = performance.now();
  const offsets = new Uint32Array(n);
  let maxPoolBytes = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = area.writePage(pages.subarray(i * PAGE, (i + 1) * PAGE));
    if (i % 1000 === 999) {
      maxPoolBytes = Math.max(maxPoolBytes, debugfs.read('zcache/pool_total_size'));
      await new Promise(setImmediate); // a service yields now and then; background writeback runs
    }
  }
  const t1 = performance.now();
  const into = new Uint8Array(PAGE);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    area.readPage(offsets[i], into);
    if (Buffer.compare(into, pages.subarray(i * PAGE, (i + 1) * PAGE)) !== 0) bad++;
  }
  const t2 = performance.now();
  const stats = debugfs.snapshot();
  const allocatorInUse = ['zsmalloc', 'z3fold', 'zbud'].find((a) => stats[`${a}/pages`] !== undefined);
  await unloadBackend(backend);
  let badAfter = 0;
  for (let i = 0; i < n; i++) {
    area.readPage(offsets[i], into);
    if (Buffer.compare(into, pages.subarray(i * PAGE, (i + 1) * PAGE)) !== 0) badAfter++;
  }
  const result = {
    backend,
    allocator: allocatorInUse,
    pages: n,
    mismatches: bad,
    mismatchesAfterUnload: badAfter,
    succStores: stats['frontswap/succ_stores'],
    storedPages: stats['zcache/stored_pages'],
    sameFilledPages: stats['zcache/same_filled_pages'],
    poolBytes: stats['zcache/pool_total_size'],
    maxPoolBytesSeen: Math.max(maxPoolBytes, stats['zcache/pool_total_size']),
    poolLimitBytes: poolMiB ? poolMiB << 20 : null,
    writtenBackPages: stats['zcache/written_back_pages'],
    fileReads: stats[`swap/${area.type}/file_reads`],
    compressedBytes: stats['zcache/compressed_bytes'],
    // How densely the pool holds the pages that need room (same-filled ones need none).
    poolDensity: stats['zcache/compressed_bytes'] / stats['zcache/pool_total_size'],
    metadataBytesPerPage: stats['zcache/metadata_bytes'] / stats['zcache/stored_pages'],
    writePagesPerSec: Math.round(n / ((t1 - t0) / 1000)),
    readPagesPerSec: Math.round(n / ((t2 - t1) / 1000)),
  };
  console.log(JSON.stringify(result));
  const overLimit = poolMiB && result.maxPoolBytesSeen > poolMiB << 20;
  if (bad || badAfter || overLimit || !(result.succStores > 0) || !(result.storedPages > 0)) process.exitCode = 1;
} finally {
  area.swapoff();
  rmSync(dir, { recursive: true, force: true });
}
