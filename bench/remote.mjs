#!/usr/bin/env node
// The remote tier on a loopback Redis Cluster (3 masters + 3 replicas, started here), against the
// swap file: put and get pages/s and latency, and the bytes a page costs in the cluster.
//
//   node bench/remote.mjs [--pages N] [--seconds S]
//
// Payloads are what the pool would send: real heap pages (bench/corpus/heap-pages.mjs) and text
// pages, LZ4-compressed, same-filled pages left out (they never leave). Uses dist/ (npm run build).
// Put = writePages of 64 pages (MSET + WAIT 1 on one master); get = readPages of 64 (async), and
// readPageSync of one page (a blocking load, as the swap layer's readPage would do it). The swap
// file side is pwrite/pread of whole 4 KiB pages through the page cache, one at a time.
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { heapPages } from './corpus/heap-pages.mjs';
import { PAGE, textPages } from './lib/corpora.mjs';
import { nodeCommand, startRedisCluster } from '../test/support/redis-cluster.mjs';

const require = createRequire(import.meta.url);
const { Lz4Compressor } = require('../dist/lz4/compress.js');
const { RemoteTier, Kind } = require('../dist/remote/tier.js');

const { values: args } = parseArgs({ options: { pages: { type: 'string', default: '16384' }, seconds: { type: 'string', default: '3' } } });
const wanted = Number(args.pages);
const seconds = Number(args.seconds);
const BATCH = 64;

/** Compressed payloads of the corpus pages that are not same-filled. */
async function payloads() {
  const raw = Buffer.concat([await heapPages({ maxPages: wanted }), textPages(wanted >> 2)]);
  const out = [];
  const lz4 = new Lz4Compressor();
  for (let at = 0; at < raw.length && out.length < wanted; at += PAGE) {
    const page = raw.subarray(at, at + PAGE);
    const w = page.readBigUInt64LE(0);
    let same = true;
    for (let i = 8; i < PAGE && same; i += 8) same = page.readBigUInt64LE(i) === w;
    if (same) continue;
    const dst = Buffer.alloc(PAGE - 1);
    const n = lz4.compress(page, 0, PAGE, dst, 0, dst.length);
    out.push(n > 0 ? dst.subarray(0, n) : page);
  }
  return out;
}

const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const us = (ms) => Math.round(ms * 1000);

/**
 * Runs `op` (returns pages done) until `seconds` passed: pages/s, per-call latency, and CPU µs
 * per page in this process and in the cluster (which, unlike wall time, a busy machine does not
 * inflate much).
 */
async function measure(cluster, op) {
  const lat = [];
  let pages = 0;
  const cpu0 = cpuNow(cluster);
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    const t = performance.now();
    pages += await op(i);
    lat.push(performance.now() - t);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuNow(cluster);
  return {
    pagesPerSec: Math.round(pages / wall),
    p50: us(quantile(lat, 0.5)),
    p99: us(quantile(lat, 0.99)),
    clientCpu: ((cpu1.client - cpu0.client) / pages).toFixed(1),
    serverCpu: ((cpu1.server - cpu0.server) / pages).toFixed(1),
  };
}

/**
 * Memory the nodes hold for data: used_memory less the replication backlog and client buffers
 * (fixed-size or transient, not per page).
 */
async function dataMemory(cluster) {
  let total = 0;
  for (const n of cluster.nodes) {
    const info = await nodeCommand(n.port, 'INFO', 'memory');
    const field = (name) => Number(new RegExp(`${name}:(\\d+)`).exec(info)[1]);
    total += field('used_memory') - field('mem_replication_backlog') - field('mem_clients_slaves') - field('mem_clients_normal');
  }
  return total;
}

/** CPU time (µs) of this process (all its threads) and of the cluster's nodes so far. */
function cpuNow(cluster) {
  const { user, system } = process.cpuUsage();
  let server = 0;
  for (const n of cluster.nodes) {
    const f = readFileSync(`/proc/${n.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    server += ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks of 1/100 s
  }
  return { client: user + system, server };
}

const corpus = await payloads();
const n = corpus.length - (corpus.length % BATCH);
const lengths = new Uint32Array(corpus.slice(0, n).map((p) => p.length));
const data = Buffer.concat(corpus.slice(0, n));
const starts = new Uint32Array(n);
for (let i = 1; i < n; i++) starts[i] = starts[i - 1] + lengths[i - 1];
const idents = new Uint32Array(n * 2).map((_, i) => (i & 1 ? i >> 1 : 0));
const batchOf = (b) => {
  const from = (b * BATCH) % n;
  const end = from + BATCH === n ? data.length : starts[from + BATCH];
  return { from, idents: idents.subarray(from * 2, (from + BATCH) * 2), data: data.subarray(starts[from], end), lengths: lengths.subarray(from, from + BATCH) };
};

const cluster = await startRedisCluster({ nodeTimeoutMs: 15_000, maxmemory: '2gb' });
const rows = [];
try {
  const tier = await RemoteTier.open({ nodes: cluster.seeds.slice(0, 1) });
  const handles = new Float64Array(n);
  const results = new Uint8Array(n);
  // Load every page once (for the gets and the memory figure).
  const before = await dataMemory(cluster);
  for (let b = 0; b < n / BATCH; b++) {
    const x = batchOf(b);
    await tier.writePages(Kind.Pers, x.idents, x.data, x.lengths, results.subarray(x.from, x.from + BATCH), handles.subarray(x.from, x.from + BATCH));
  }
  const stored = results.reduce((a, r) => a + r, 0);
  const bytesPerPage = ((await dataMemory(cluster)) - before) / stored;

  const scratch = { r: new Uint8Array(BATCH), h: new Float64Array(BATCH) };
  rows.push(['remote put, 64-page batches', await measure(cluster, async (i) => {
    const x = batchOf(i);
    return tier.writePages(Kind.Pers, x.idents, x.data, x.lengths, scratch.r, scratch.h);
  })]);
  rows.push(['remote put, 4 batches in flight', await measure(cluster, async (i) => {
    const done = await Promise.all([0, 1, 2, 3].map((k) => {
      const x = batchOf(i * 4 + k);
      return tier.writePages(Kind.Pers, x.idents, x.data, x.lengths, new Uint8Array(BATCH), new Float64Array(BATCH));
    }));
    return done.reduce((a, d) => a + d, 0);
  })]);
  const into = new Uint8Array(BATCH * PAGE);
  const lens = new Uint32Array(BATCH);
  const status = new Uint8Array(BATCH);
  rows.push(['remote get, readPages of 64', await measure(cluster, async (i) => {
    const from = (i * BATCH) % n;
    return tier.readPages(Kind.Pers, handles.subarray(from, from + BATCH), idents.subarray(from * 2, (from + BATCH) * 2), into, lens, status);
  })]);
  rows.push(['remote get, readPageSync (blocking, 1 page)', await measure(cluster, async (i) => {
    const k = (i * 7919) % n;
    tier.readPageSync(Kind.Pers, handles[k], idents.subarray(k * 2, k * 2 + 2), into.subarray(0, PAGE));
    return 1;
  })]);
  const s = tier.stats();
  await tier.close();

  const dir = mkdtempSync(join(tmpdir(), 'tmem-bench-remote-'));
  const fd = openSync(join(dir, 'swap'), 'w+');
  const page = Buffer.alloc(PAGE, 1);
  const slots = 16384;
  rows.push(['swap file pwrite, 1 page', await measure(cluster, async (i) => writeSync(fd, page, 0, PAGE, ((i * 7919) % slots) * PAGE) / PAGE)]);
  rows.push(['swap file pread, 1 page', await measure(cluster, async (i) => readSync(fd, page, 0, PAGE, ((i * 7919) % slots) * PAGE) / PAGE)]);
  closeSync(fd);
  rmSync(dir, { recursive: true });

  const mean = Math.round(data.length / n);
  console.log(`# remote tier on loopback: ${n} pages (${mean} B mean compressed payload), 3 masters + 3 replicas, WAIT 1\n`);
  console.log('| subject | pages/s | p50 µs per call | p99 µs per call | CPU µs/page, tmem process | CPU µs/page, cluster |\n| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of rows) console.log(`| ${name} | ${r.pagesPerSec} | ${r.p50} | ${r.p99} | ${r.clientCpu} | ${r.serverCpu} |`);
  console.log(`\ncluster memory per page (INFO memory: used_memory less replication backlog and client buffers, masters + replicas): ${Math.round(bytesPerPage)} B, ${Math.round(bytesPerPage / 2)} B per copy (payload ${mean} B + 24 B header)`);
  console.log(`tier round trips: put p50 ${s.remote_put_rtt_p50_us} µs, p99 ${s.remote_put_rtt_p99_us} µs; get p50 ${s.remote_get_rtt_p50_us} µs, p99 ${s.remote_get_rtt_p99_us} µs`);
  console.log(`tier: ${s.remote_batches} batches, ${s.remote_wait_short} WAIT short, ${s.pers_pages_remote_failed} pages left local, ${s.remote_replica_reads} replica reads, ${s.remote_failover_retries} retries`);
} finally {
  await cluster.stop();
}
