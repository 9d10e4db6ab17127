// One subject in its own process (run with --expose-gc), so one subject's garbage, heap and RSS
// never show in another's numbers. Spawned by run.mjs with a JSON spec as its only argument;
// writes JSON lines on stdout: {"progress": 0..1, "label"} while it works, then {"result": ...}.
//
// perf mode, per corpus (same page views, same order, for every subject):
//   verify      store every page, load every page back and compare (untimed)
//   store       rounds of: clear (untimed), then one timed pass storing every page
//   load        rounds of one timed pass loading every page (non-exclusive) into one buffer
//   latency     one extra pass each of store and load, every op timed on its own with
//               process.hrtime.bigint() (kept apart from the throughput passes: the timer costs)
//   batch       as store/load with `batch` pages per call; latency = time of a call / batch
// mem mode: gc, baseline, store every heap page once, gc, growth of V8 heap and RSS per page.
// writeback mode: a small pool with writeback on, every page written through the swap area; then
//               the mechanics alone (Pool.writebackSync) emptying a full pool into a swap file.
// churn mode: a native Pool of one allocator stores `churnPages` heap pages (the corpus cycled),
//               a random half is freed, compact() runs: frames against the ideal, compaction time.
import { closeSync, ftruncateSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { churnRun } from './lib/churn.mjs';
import { nativePool, PAGE, SUBJECTS, tmem } from './lib/subjects.mjs';

const spec = JSON.parse(process.argv[2]);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let steps = 0;
let stepsDone = 0;
const progress = (label) => send({ progress: steps ? stepsDone++ / steps : 0, label });

const gc = () => {
  if (!globalThis.gc) throw new Error('run the worker with --expose-gc');
  globalThis.gc();
  globalThis.gc();
};
const now = () => process.hrtime.bigint();
const keepAlive = [];

function views(buf, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.subarray(i * PAGE, (i + 1) * PAGE);
  return out;
}

function batches(buf, n, size) {
  const out = [];
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    const offsets = new Uint32Array(count);
    for (let k = 0; k < count; k++) offsets[k] = start + k;
    out.push({
      start,
      offsets,
      pages: buf.subarray(start * PAGE, (start + count) * PAGE),
      results: new Uint8Array(count),
      hits: new Uint8Array(count),
    });
  }
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
}

/** Timed rounds of `pass` (which handles `pages` pages); `before` runs untimed ahead of each. */
function rounds(pages, pass, before) {
  const rates = [];
  const start = now();
  const minNs = BigInt(Math.round(spec.minSeconds * 1e9));
  while ((now() - start < minNs || rates.length < spec.minRounds) && rates.length < 10000) {
    before?.();
    const t0 = now();
    pass();
    const ns = Number(now() - t0);
    rates.push(pages / (ns / 1e9));
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return { pagesPerSec: percentile(sorted, 0.5), bestPagesPerSec: sorted[sorted.length - 1], rounds: rates.length };
}

function latency(lat, perCall = 1) {
  const sorted = Float64Array.from(lat).sort();
  return { p50ns: percentile(sorted, 0.5) / perCall, p99ns: percentile(sorted, 0.99) / perCall };
}

async function perfCorpus(subject, s, name, corpus, tmp) {
  const buf = readFileSync(corpus.file);
  const n = corpus.pages;
  const page = views(buf, n);
  const into = Buffer.alloc(PAGE);
  const inst = await s.open({ n, tmp });
  const row = { subject, layer: s.layer, corpus: name, pages: n };
  try {
    // Correctness first, untimed: every page kept and read back intact.
    let kept = 0;
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (inst.store(i, page[i])) kept++;
    for (let i = 0; i < n; i++) if (!inst.load(i, into) || !into.equals(page[i])) mismatches++;
    row.kept = kept;
    row.mismatches = mismatches;
    progress(`${subject} · ${name} · store`);

    row.store = rounds(n, () => { for (let i = 0; i < n; i++) inst.store(i, page[i]); }, () => inst.clear());
    // The pool is full of the corpus now: its size against the page bytes it holds.
    const info = inst.info();
    row.info = { storedPages: info.storedPages, poolBytes: info.poolBytes, metadataBytes: info.metadataBytes, keptBytes: info.keptBytes,
      sameFilledPages: info.stats?.['zcache/same_filled_pages'] };
    if (info.poolBytes) row.poolRatio = (n * PAGE) / info.poolBytes;
    else if (info.poolBytes === 0 && info.storedPages > 0) row.poolEmpty = true; // same-filled pages only
    if (info.keptBytes) row.keptRatio = (n * PAGE) / info.keptBytes;
    if (info.dbBytes) row.dbRatio = (n * PAGE) / info.dbBytes;
    progress(`${subject} · ${name} · load`);
    row.load = rounds(n, () => { for (let i = 0; i < n; i++) inst.load(i, into); });

    progress(`${subject} · ${name} · latency`);
    inst.clear();
    const lat = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t0 = now();
      inst.store(i, page[i]);
      lat[i] = Number(now() - t0);
    }
    Object.assign(row.store, latency(lat));
    for (let i = 0; i < n; i++) {
      const t0 = now();
      inst.load(i, into);
      lat[i] = Number(now() - t0);
    }
    Object.assign(row.load, latency(lat));

    if (s.batch) {
      progress(`${subject} · ${name} · batch`);
      const bs = batches(buf, n, spec.batch);
      const bigInto = Buffer.alloc(spec.batch * PAGE);
      const intoFor = (b) => (b.offsets.length === spec.batch ? bigInto : bigInto.subarray(0, b.offsets.length * PAGE));
      // Correctness of the batch path too.
      inst.clear();
      let bad = 0;
      for (const b of bs) inst.storeBatch(b);
      for (const b of bs) {
        const to = intoFor(b);
        inst.loadBatch(b, to);
        if (!to.equals(b.pages) || b.hits.some((h) => h !== 1)) bad++;
      }
      row.batchMismatches = bad;
      row.batchPages = spec.batch;
      row.storeBatch = rounds(n, () => { for (const b of bs) inst.storeBatch(b); }, () => inst.clear());
      row.loadBatch = rounds(n, () => { for (const b of bs) inst.loadBatch(b, intoFor(b)); });
      inst.clear();
      const blat = [];
      for (const b of bs) {
        const t0 = now();
        inst.storeBatch(b);
        blat.push(Number(now() - t0) / b.offsets.length);
      }
      Object.assign(row.storeBatch, latency(blat));
      blat.length = 0;
      for (const b of bs) {
        const t0 = now();
        inst.loadBatch(b, intoFor(b));
        blat.push(Number(now() - t0) / b.offsets.length);
      }
      Object.assign(row.loadBatch, latency(blat));
    }
  } finally {
    inst.clear();
    await inst.close();
  }
  return row;
}

async function perf() {
  const s = SUBJECTS[spec.subject];
  const names = Object.keys(spec.corpora);
  steps = names.length * (s.batch ? 4 : 3);
  const rows = [];
  for (const name of names) rows.push(await perfCorpus(spec.subject, s, name, spec.corpora[name], spec.tmp));
  return rows;
}

function mem() {
  return (async () => {
    const s = SUBJECTS[spec.subject];
    const corpus = spec.corpora[spec.memCorpus];
    const buf = readFileSync(corpus.file);
    const n = corpus.pages;
    const page = views(buf, n);
    const inst = await s.open({ n, tmp: spec.tmp });
    steps = 2;
    progress(`${spec.subject} · memory`);
    // Warm the code paths, then start from an empty store.
    for (let i = 0; i < Math.min(n, 256); i++) inst.store(i, page[i]);
    inst.clear();
    // Growth per page is the slope between the half-full and the full store, so one-time costs
    // (code, caches, the first arena chunk) do not count; `total` is from the empty store.
    gc();
    const m0 = process.memoryUsage();
    const half = n >> 1;
    for (let i = 0; i < half; i++) inst.store(i, page[i]);
    gc();
    const mh = process.memoryUsage();
    for (let i = half; i < n; i++) inst.store(i, page[i]);
    gc();
    const m1 = process.memoryUsage();
    // The corpus must outlive the last measurement: V8 may free what a function no longer uses,
    // and the 128 MiB page buffer going away would show as negative growth.
    keepAlive.push(buf, page);
    const info = inst.info();
    const per = (k) => (m1[k] - mh[k]) / (n - half);
    const total = (k) => (m1[k] - m0[k]) / n;
    const row = {
      subject: spec.subject,
      corpus: spec.memCorpus,
      pages: n,
      heapPerPage: per('heapUsed'),
      rssPerPage: per('rss'),
      externalPerPage: per('external'),
      arrayBuffersPerPage: per('arrayBuffers'),
      total: { heapPerPage: total('heapUsed'), rssPerPage: total('rss'), externalPerPage: total('external') },
      poolBytesPerPage: info.poolBytes !== undefined ? info.poolBytes / n : undefined,
      metadataPerPage: info.metadataBytes !== undefined && info.storedPages ? info.metadataBytes / info.storedPages : undefined,
      keptBytesPerPage: info.keptBytes !== undefined ? info.keptBytes / n : undefined,
      dbBytesPerPage: info.dbBytes !== undefined ? info.dbBytes / n : undefined,
    };
    // What keeping a page costs in memory: RSS growth, or for lmdb the database pages it maps.
    row.footprintPerPage = row.dbBytesPerPage ?? row.rssPerPage;
    progress(`${spec.subject} · memory`);
    inst.clear();
    await inst.close();
    return [row];
  })();
}

// Writeback: a pool an eighth of the corpus's page bytes, writeback on, every heap page written
// through the swap area (frontswap first, the file on a refusal) in batches, then the background
// writeback waited for. Pages/s written back = zcache/written_back_pages over that whole time.
async function writeback() {
  const t = tmem();
  const { backend, allocator } = SUBJECTS[spec.subject];
  const corpus = spec.corpora[spec.memCorpus];
  const buf = readFileSync(corpus.file);
  const n = corpus.pages;
  steps = 1;
  progress(`${spec.subject} · writeback`);
  const area = t.swapon(join(spec.tmp, `swap-wb-${backend}-${allocator}`), { pages: n + 1 });
  const poolBytes = Math.max(1 << 20, Math.floor((n * PAGE) / 8 / PAGE) * PAGE);
  await t.loadBackend(backend, { allocator, maxPoolBytes: poolBytes, writeback: true, storeIncompressible: true, maxMeanCompressedBytes: PAGE });
  const row = { subject: spec.subject, allocator, corpus: spec.memCorpus, pages: n, poolBytes };
  try {
    const read = (k) => t.debugfs.snapshot()[k];
    const wb0 = read('zcache/written_back_pages');
    const fileWrites0 = area.usedPages;
    const t0 = now();
    const offsets = new Uint32Array(spec.batch);
    for (let start = 0; start < n; start += spec.batch) {
      const count = Math.min(spec.batch, n - start);
      area.writePages(buf.subarray(start * PAGE, (start + count) * PAGE), offsets.subarray(0, count));
    }
    // Let background writeback finish (bounded wait).
    const deadline = Date.now() + 60_000;
    while ((read('zcache/outstanding_writeback_pages') ?? 0) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const seconds = Number(now() - t0) / 1e9;
    const written = (read('zcache/written_back_pages') ?? 0) - (wb0 ?? 0);
    row.seconds = seconds;
    row.writtenBack = written;
    row.usedPages = area.usedPages - fileWrites0;
    row.storedPages = read('zcache/stored_pages');
    row.available = written > 0;
    if (row.available) row.pagesPerSec = written / seconds;
    else row.note = 'n/a (writeback not available: no page was written back)';
  } finally {
    await t.unloadBackend(backend);
    area.swapoff();
  }
  // The mechanics alone need the native Pool.
  return backend === 'zcache' ? [row, writebackSyncRow(buf, n, allocator)] : [row];
}

// The writeback mechanics alone: a native Pool holding every heap page, emptied into a swap file
// by pool.writebackSync(batch) calls on this thread (direct reclaim), in timed rounds. Same-filled
// pages are never written back, so they are not counted.
function writebackSyncRow(buf, n, allocator) {
  const row = { subject: `zcache (Pool)`, allocator, op: 'writebackSync', corpus: spec.memCorpus, pages: n, batchPages: spec.batch };
  const pool = nativePool(n, { allocator });
  const path = join(spec.tmp, `swap-wbsync-${allocator}`);
  const fd = openSync(path, 'w+', 0o600);
  try {
    ftruncateSync(fd, n * PAGE);
    pool.initArea(0, n, fd);
    const page = views(buf, n);
    let written = 0;
    row.writeback = rounds(n, () => {
      let zeros = 0;
      written = 0;
      while (zeros < 3) {
        const w = pool.writebackSync(spec.batch);
        written += w;
        zeros = w === 0 ? zeros + 1 : 0;
      }
    }, () => {
      pool.invalidateArea(0);
      pool.initArea(0, n, fd);
      for (let i = 0; i < n; i++) pool.store(0, i, page[i]);
    });
    // rounds() divides by n; rescale to the pages actually written.
    for (const k of ['pagesPerSec', 'bestPagesPerSec']) row.writeback[k] *= written / n;
    row.writtenBack = written;
    row.available = written > 0;
    if (row.available) row.pagesPerSec = row.writeback.pagesPerSec;
    else row.note = 'n/a (writebackSync wrote nothing)';
  } finally {
    pool.close();
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return row;
}

function churn() {
  steps = 3;
  return churnRun(spec, progress);
}

const modes = { perf, mem, writeback, churn };
try {
  const result = await modes[spec.mode]();
  send({ result });
} catch (err) {
  send({ error: String(err?.stack ?? err) });
  process.exitCode = 1;
}
