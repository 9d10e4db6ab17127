// The pure-JS zcache keeps page metadata in typed arrays and pages in ArrayBuffers, so the V8 heap
// must not grow with the number of stored pages.
import { expect, it } from 'vitest';
import { PAGE_SIZE } from '../lib/backends/types';
import { parseZcacheOptions } from '../lib/backends/options';
import { createZcacheJs } from '../lib/backends/zcache-js';

const gc = (globalThis as { gc?: () => void }).gc;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    if (gc) gc();
    else await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

it('stores 100,000 pages with < 5 MB of V8 heap growth', async () => {
  const N = 100_000;
  const b = createZcacheJs(parseZcacheOptions({ maxPoolBytes: 512 << 20, writeback: false }));
  const fs = b.frontswap;
  fs.init(0, { type: 0, pages: N, path: '/tmp/zcache-js-heap', fd: -1 });
  // A text-like page template; each stored page differs in a few bytes.
  const page = new Uint8Array(PAGE_SIZE);
  const text = 'lorem ipsum dolor sit amet {"k":12345,"v":[1,2,3]} consectetur adipiscing elit ';
  for (let i = 0; i < PAGE_SIZE; i++) page[i] = text.charCodeAt(i % text.length);
  const batch = 64;
  const offsets = new Uint32Array(batch);
  const pages = new Uint8Array(batch * PAGE_SIZE);
  const results = new Uint8Array(batch);

  const before = await settledHeap();
  let stored = 0;
  for (let off = 0; off < N; off++) {
    // Mix single and batch stores.
    page[off % 997] = off & 0xff;
    page[(off * 7) % PAGE_SIZE] = (off >>> 8) & 0xff;
    if (off % 2 === 0) {
      if (fs.store(0, off, page)) stored++;
    } else {
      const k = (off >> 1) % batch;
      offsets[k] = off;
      pages.set(page, k * PAGE_SIZE);
      if (k === batch - 1) stored += fs.storeBatch(0, offsets, pages, results);
    }
  }
  const after = await settledHeap();
  const s = b.stats().zcache;
  expect(s.stored_pages).toBe(stored);
  expect(stored).toBeGreaterThan(N * 0.95);
  const growth = after - before;
  console.log(
    `zcache-js heap: ${stored} pages, pool ${(s.pool_total_size / 2 ** 20).toFixed(1)} MiB, ` +
      `metadata ${(s.metadata_bytes / 2 ** 20).toFixed(2)} MiB, heapUsed growth ${(growth / 2 ** 20).toFixed(2)} MiB`,
  );
  expect(growth).toBeLessThan(5 * 2 ** 20);

  const into = new Uint8Array(PAGE_SIZE);
  expect(fs.load(0, 0, into, false)).toBe(true);
  await b.close();
});

it('keeps 50,000 ephemeral (cleancache) pages with < 5 MB of V8 heap growth', async () => {
  const N = 50_000;
  const b = createZcacheJs(parseZcacheOptions({ maxPoolBytes: 512 << 20, writeback: false }));
  const cc = b.cleancache!;
  const pool = cc.initFs(PAGE_SIZE);
  const shared = cc.initSharedFs('heap-test', PAGE_SIZE);
  const page = new Uint8Array(PAGE_SIZE);
  const text = 'GET /api/items/12345 HTTP/1.1 200 OK user=alice latency_ms=12 bytes=5120 cache=miss\n';
  for (let i = 0; i < PAGE_SIZE; i++) page[i] = text.charCodeAt(i % text.length);
  // The hook layer passes one reused key buffer; so does this test.
  const key = new Uint32Array(6);

  const before = await settledHeap();
  for (let n = 0; n < N; n++) {
    page[n % 997] = n & 0xff;
    page[(n * 7) % PAGE_SIZE] = (n >>> 8) & 0xff;
    key[0] = n >>> 6; // 64 pages per inode, ~780 inodes
    key[5] = 0xabcd;
    cc.putPage(n % 3 === 0 ? shared : pool, key, n & 63, page, true);
  }
  const after = await settledHeap();
  const s = b.stats().zcache;
  expect(s.eph_zpages).toBe(N);
  expect(s.eph_puts).toBe(N);
  const growth = after - before;
  console.log(
    `zcache-js heap (ephemeral): ${s.eph_zpages} pages, ${s.eph_pageframes} frames, ` +
      `metadata ${(s.metadata_bytes / 2 ** 20).toFixed(2)} MiB, heapUsed growth ${(growth / 2 ** 20).toFixed(2)} MiB`,
  );
  expect(growth).toBeLessThan(5 * 2 ** 20);

  key[0] = 0;
  const into = new Uint8Array(PAGE_SIZE);
  expect(cc.getPage(shared, key, 0, into, false)).toBe(true);
  await b.close();
});
