#!/usr/bin/env node
// SwapCache per tier: sets of small values (eviction included), and gets answered resident, from
// the compressed pool and from the swap file (page cache dropped and kept), each timed one by one
// (p50/p99), next to lru-cache's get of the same values. Values are JSON-like text (compresses
// about 2:1). No RNG or allocation in the timed loops (keys and the access order are made first).
//
//   node bench/swapcache-tiers.mjs [--keys 1000000] [--value-bytes 100] [--json]
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { SwapCache, loadBackend, unloadBackend } = require('../dist/index.js');
const { LRUCache } = require('lru-cache');

const { values: opt } = parseArgs({
  options: { keys: { type: 'string', default: '1000000' }, 'value-bytes': { type: 'string', default: '100' }, json: { type: 'boolean', default: false } },
});
const N = Number(opt.keys);
const SIZE = Number(opt['value-bytes']);
const MiB = 2 ** 20;

const words = ['"user"', '"id":', '"name":', '"email":', '"cart":[', ']', '{', '}', ',', 'true', 'false', '"sku-', '"qty":'];
function valueOf(i) {
  const b = Buffer.alloc(SIZE);
  let at = 0;
  let x = (i + 1) * 2654435761;
  while (at < SIZE) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    at += b.write(x & 1 ? words[x % words.length] : String(x % 100000), at, 'latin1');
  }
  return b;
}
const keys = Array.from({ length: N }, (_, i) => `key:${i}`);
const values = Array.from({ length: 4096 }, (_, i) => valueOf(i));
const v = (i) => values[i & 4095];

function percentiles(ns) {
  ns.sort((a, b) => a - b);
  const at = (q) => ns[Math.min(ns.length - 1, Math.floor(q * ns.length))];
  return { p50: +(at(0.5) / 1000).toFixed(2), p99: +(at(0.99) / 1000).toFixed(2), p999: +(at(0.999) / 1000).toFixed(2) };
}

// Times `get` of each key in `order` one by one; µs percentiles.
function timeGets(get, order) {
  const ns = new Float64Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const t = process.hrtime.bigint();
    get(order[i]);
    ns[i] = Number(process.hrtime.bigint() - t);
  }
  return percentiles(Array.from(ns));
}

const dir = mkdtempSync(join(tmpdir(), 'tmem-bench-tiers-'));
const out = { keys: N, valueBytes: SIZE };
try {
  // Sets, eviction included: all keys through a 16 MiB resident budget into a 64 MiB pool.
  await loadBackend('zcache', { maxPoolBytes: 64 * MiB });
  let c = new SwapCache({ residentBytes: 16 * MiB, pages: Math.ceil((N * (SIZE + 8)) / 4096) * 2 + 4096, path: join(dir, 'a') });
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) c.set(keys[i], v(i));
  const used = process.cpuUsage(cpu);
  out.setsPerSecond = Math.round(N / (Number(process.hrtime.bigint() - t) / 1e9));
  // CPU time per set (this thread and the libuv pool's writeback): what a machine to itself would see.
  out.setsPerCpuSecond = Math.round(N / ((used.user + used.system) / 1e6));
  const sample = 100_000;
  const order = Array.from({ length: sample }, (_, i) => keys[(i * 7919 + 13) % N]);
  // Pool hits: peek reads a swapped value without bringing it back (nothing is evicted
  // meanwhile); the data compresses into the pool, so none of it is in the file.
  out.filePagesDuringPoolHits = c.filePages;
  out.poolHitUs = timeGets((k) => c.peek(k), order);
  // Resident hits, against lru-cache holding the same values.
  const hot = keys.slice(N - 20_000);
  for (const k of hot) c.get(k);
  const hotOrder = Array.from({ length: sample }, (_, i) => hot[(i * 7919) % hot.length]);
  out.residentHitUs = timeGets((k) => c.get(k), hotOrder);
  const lru = new LRUCache({ maxSize: 64 * MiB, sizeCalculation: (b) => b.length });
  for (let i = N - 20_000; i < N; i++) lru.set(keys[i], Buffer.from(v(i)));
  out.lruCacheGetUs = timeGets((k) => lru.get(k), hotOrder);
  c.close();
  await unloadBackend('zcache');
  // File hits: no backend, every swapped value is in the swap file.
  for (const drop of [true, false]) {
    c = new SwapCache({ backend: 'none', residentBytes: 4 * MiB, pages: Math.ceil((Math.min(N, 200_000) * (SIZE + 8)) / 4096) * 2 + 4096, path: join(dir, `f${drop}`), dropFileCache: drop });
    const n = Math.min(N, 200_000);
    for (let i = 0; i < n; i++) c.set(keys[i], v(i));
    const fileOrder = Array.from({ length: 20_000 }, (_, i) => keys[(i * 7919 + 13) % (n / 2)]);
    out[drop ? 'fileHitUs' : 'fileHitPageCacheUs'] = timeGets((k) => c.peek(k), fileOrder);
    c.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (opt.json) console.log(JSON.stringify(out));
else for (const [k, val] of Object.entries(out)) console.log(k.padEnd(22), typeof val === 'object' ? JSON.stringify(val) : val);
