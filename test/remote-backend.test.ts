// The remote tier wired into both zcache backends, end to end through loadBackend + swapon on a
// real 3 + 3 cluster: pages that leave a small pool for the cluster come back byte for byte
// through readPages/takePages, invalidations delete their remote copies, and unload brings every
// remote page back to its swap file. Uses dist/ for the tier's worker thread (npm run build).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { heapPages } from '../bench/corpus/heap-pages.mjs';
import { debugfs, loadBackend, swapon, unloadBackend, type BackendName, type SwapArea } from '../lib/index';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.mjs';
import { PAGE, tempDir, textPage } from './support/pages';

let cluster: RedisCluster;
let heap: Buffer;
const dirs: (() => void)[] = [];
const areas: SwapArea[] = [];

beforeAll(async () => {
  [cluster, heap] = await Promise.all([startRedisCluster(), heapPages({ maxPages: 100_000 })]);
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  for (const a of areas.splice(0)) if (a.active) a.swapoff();
  for (const name of ['zcache', 'zcache-js'] as const) await unloadBackend(name).catch(() => {});
  for (const d of dirs.splice(0)) d();
});

function area(pages: number): SwapArea {
  const t = tempDir();
  dirs.push(t.cleanup);
  const a = swapon(`${t.dir}/swap`, { pages: pages + 1 });
  areas.push(a);
  return a;
}

/** Writes `pages` in batches of 256, yielding between them so that remotify runs; returns the slots. */
async function writeAll(a: SwapArea, pages: Uint8Array): Promise<Uint32Array> {
  const n = pages.length / PAGE;
  const slots = new Uint32Array(n);
  for (let i = 0; i < n; i += 256) {
    const end = Math.min(n, i + 256);
    a.writePages(pages.subarray(i * PAGE, end * PAGE), slots.subarray(i, end));
    await new Promise((r) => setImmediate(r));
  }
  return slots;
}

/** Reads every slot back (batches of 64, blocking) and counts pages that differ from `pages`. */
function mismatches(a: SwapArea, slots: Uint32Array, pages: Uint8Array, take = false): number {
  const into = new Uint8Array(64 * PAGE);
  let bad = 0;
  for (let i = 0; i < slots.length; i += 64) {
    const end = Math.min(slots.length, i + 64);
    const got = into.subarray(0, (end - i) * PAGE);
    if (take) a.takePages(slots.subarray(i, end), got);
    else a.readPages(slots.subarray(i, end), got);
    for (let k = i; k < end; k++) {
      if (Buffer.compare(got.subarray((k - i) * PAGE, (k - i + 1) * PAGE), pages.subarray(k * PAGE, (k + 1) * PAGE)) !== 0) bad++;
    }
  }
  return bad;
}

/** The same through readPagesAsync, 256 pages a call, four calls in flight. */
async function asyncMismatches(a: SwapArea, slots: Uint32Array, pages: Uint8Array): Promise<number> {
  let bad = 0;
  for (let i = 0; i < slots.length; i += 1024) {
    const calls: Promise<void>[] = [];
    for (let j = i; j < Math.min(slots.length, i + 1024); j += 256) {
      const end = Math.min(slots.length, j + 256);
      calls.push(
        a.readPagesAsync(slots.slice(j, end), new Uint8Array((end - j) * PAGE)).then((got) => {
          for (let k = j; k < end; k++) {
            if (Buffer.compare(got.subarray((k - j) * PAGE, (k - j + 1) * PAGE), pages.subarray(k * PAGE, (k + 1) * PAGE)) !== 0) bad++;
          }
        }),
      );
    }
    await Promise.all(calls);
  }
  return bad;
}

const counter = (name: string) => debugfs.read(`ramster/${name}`);

describe.each(['zcache', 'zcache-js'] as BackendName[])('%s with a remote tier', (backend) => {
  // 100,000 real heap pages for the native pool; the pure-JS one is slower per page, 20,000.
  const count = backend === 'zcache' ? 100_000 : 20_000;

  it(`round trip of ${count} real heap pages through a 1 MiB pool`, async () => {
    await loadBackend(backend, { maxPoolBytes: 1 << 20, remote: { nodes: cluster.seeds, waitTimeoutMs: 2000 } });
    const pages = heap.subarray(0, Math.min(count, heap.length / PAGE) * PAGE);
    const a = area(pages.length / PAGE);
    const slots = await writeAll(a, pages);
    expect(counter('pers_pages_remoted')).toBeGreaterThan(1000);
    expect(counter('remote_pers_pages')).toBeGreaterThan(0);
    expect(mismatches(a, slots, pages)).toBe(0);
    expect(counter('remote_pers_pages_succ_get')).toBeGreaterThan(0);
    // The non-blocking path (SwapCache's getAsync/fetch read through it): no blocking load at all.
    const blocking = counter('remote_blocking_loads');
    const gets = counter('remote_pers_pages_succ_get');
    expect(await asyncMismatches(a, slots, pages)).toBe(0);
    expect(counter('remote_blocking_loads')).toBe(blocking);
    expect(counter('remote_pers_pages_succ_get')).toBeGreaterThan(gets);
    // Half taken (exclusive gets drop the remote copies), the rest brought home by unload.
    const half = slots.length >> 1;
    expect(mismatches(a, slots.subarray(0, half), pages.subarray(0, half * PAGE), true)).toBe(0);
    await unloadBackend(backend);
    expect(mismatches(a, slots.subarray(half), pages.subarray(half * PAGE))).toBe(0);
    const keys = await cluster.keys('t{*');
    expect(keys.filter((k) => !k.endsWith(':c') && !k.endsWith(':lease'))).toEqual([]);
  }, 300_000);

  it('freeing remote pages deletes their remote copies; reused slots never return old bytes', async () => {
    await loadBackend(backend, { maxPoolBytes: 64 * PAGE, remote: { nodes: cluster.seeds, waitTimeoutMs: 2000 } });
    const n = 2000;
    const pages = new Uint8Array(n * PAGE);
    for (let i = 0; i < n; i++) pages.set(textPage(i), i * PAGE);
    const a = area(2 * n);
    const slots = await writeAll(a, pages);
    // Remotify drains the full pool in the background, one batch of 64 at a time.
    await vi.waitFor(() => expect(counter('remote_pers_pages')).toBeGreaterThan(0), { timeout: 20_000 });
    const remote = counter('remote_pers_pages');
    const flushed = counter('remote_pages_flushed');
    a.freePages(slots);
    await vi.waitFor(() => expect(counter('remote_pages_flushed') - flushed).toBeGreaterThanOrEqual(remote), { timeout: 10_000 });
    // The slots are reused for other pages: nothing of the old ones may come back.
    const reversed = new Uint8Array(n * PAGE);
    for (let i = 0; i < n; i++) reversed.set(textPage(n - 1 - i), i * PAGE);
    const again = await writeAll(a, reversed);
    expect(mismatches(a, again, reversed)).toBe(0);
  }, 120_000);
});
