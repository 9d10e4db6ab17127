#!/usr/bin/env node
// zcache-js, one row per allocator (zsmalloc, zbud) and corpus, each allocator in its own process:
//
//   node bench/zcache-js-allocators.mjs [--quick] [--heap-pages N] [--synthetic-pages N]
//                                       [--churn-pages N] [--json FILE]
//
// per corpus (heap: real pages of a live Node process; text: log lines and JSON; random):
//   ratio     zcache/compressed_bytes ÷ zcache/pool_total_size after storing every page once: the
//             pool ratio over LZ4's own ratio on the same pages (1.0 = no allocator overhead)
//   metadata  zcache/metadata_bytes ÷ zcache/stored_pages (the area is as large as the corpus)
//   store, load, batch store, batch load   pages/s through frontswap, median of timed passes
// heap corpus only:
//   writeback pages/s: a pool holding every page emptied into a swap file by writebackSync(128)
//             calls (decompress, pwrite runs, free, compact), against raw sequential 4 KiB
//             pwrite of the same number of pages (bench/native/lz4-loop.cc, as in run.mjs)
//   churn     store N pages (--churn-pages, default the corpus; the corpus over and over), free a
//             random half, compact(): frames ÷ ideal (the live objects' slot or chunk bytes ÷
//             4096), frames at each step, compact()'s time, and the process's RSS with the pool
//             full and after (storage chunks that empty are released)
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCorpora } from './lib/corpora.mjs';
import { buildLz4Loop } from './lib/native-build.mjs';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE = 4096;
const BATCH = 128;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'heap-pages': { type: 'string' },
    'synthetic-pages': { type: 'string' },
    json: { type: 'string' },
    'churn-pages': { type: 'string' },
    child: { type: 'string' },
  },
});

const now = () => process.hrtime.bigint();

/** Median pages/s of at least `rounds` timed passes taking at least `seconds` in all. */
function rate(pages, pass, before, { seconds, rounds }) {
  const rates = [];
  const start = now();
  while (rates.length < rounds || Number(now() - start) / 1e9 < seconds) {
    before?.();
    const t0 = now();
    pass();
    rates.push(pages / (Number(now() - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

// ---- one allocator, in its own process -------------------------------------------------------

async function child(spec) {
  const tmem = require(join(ROOT, 'dist', 'index.js'));
  const { createZcacheJs } = require(join(ROOT, 'dist', 'backends', 'zcache-js', 'index.js'));
  const { parseZcacheOptions } = require(join(ROOT, 'dist', 'backends', 'options.js'));
  const { allocator, corpora, timing, tmp, churnPages } = spec;
  const options = (n) => ({
    allocator,
    maxPoolBytes: Math.max(64 << 20, 2 * n * PAGE),
    writeback: false,
    storeIncompressible: true,
    maxMeanCompressedBytes: PAGE,
  });
  const rows = [];
  for (const [name, file] of Object.entries(corpora)) {
    const buf = readFileSync(file);
    const n = buf.length / PAGE;
    const pages = Array.from({ length: n }, (_, i) => buf.subarray(i * PAGE, (i + 1) * PAGE));
    const area = tmem.swapon(join(tmp, `swap-${allocator}-${name}`), { pages: n + 1 });
    await tmem.loadBackend('zcache-js', options(n));
    const { frontswap: fs, debugfs } = tmem;
    const t = area.type;
    const into = Buffer.alloc(PAGE);
    const row = { allocator, corpus: name, pages: n };
    try {
      for (let i = 0; i < n; i++) fs.store(t, i + 1, pages[i]);
      let bad = 0;
      for (let i = 0; i < n; i++) if (!fs.load(t, i + 1, into) || !into.equals(pages[i])) bad++;
      const s = debugfs.snapshot();
      row.mismatches = bad;
      row.compressedBytes = s['zcache/compressed_bytes'];
      row.poolBytes = s['zcache/pool_total_size'];
      row.ratio = row.poolBytes ? row.compressedBytes / row.poolBytes : null;
      row.lz4Ratio = row.compressedBytes ? (n * PAGE) / row.compressedBytes : null;
      row.metadataPerPage = s['zcache/metadata_bytes'] / s['zcache/stored_pages'];
      const clear = () => fs.invalidateArea(t);
      row.store = rate(n, () => { for (let i = 0; i < n; i++) fs.store(t, i + 1, pages[i]); }, clear, timing);
      row.load = rate(n, () => { for (let i = 0; i < n; i++) fs.load(t, i + 1, into); }, null, timing);
      const batches = [];
      for (let at = 0; at < n; at += BATCH) {
        const k = Math.min(BATCH, n - at);
        batches.push({ offsets: Uint32Array.from({ length: k }, (_, j) => at + j + 1), pages: buf.subarray(at * PAGE, (at + k) * PAGE) });
      }
      const bigInto = Buffer.alloc(BATCH * PAGE);
      row.storeBatch = rate(n, () => { for (const b of batches) fs.storeBatch(t, b.offsets, b.pages); }, clear, timing);
      row.loadBatch = rate(n, () => { for (const b of batches) fs.loadBatch(t, b.offsets, bigInto.subarray(0, b.offsets.length * PAGE)); }, null, timing);
      fs.invalidateArea(t);
    } finally {
      await tmem.unloadBackend('zcache-js');
      area.swapoff();
    }
    if (name === 'heap') {
      Object.assign(row, writeback(createZcacheJs, parseZcacheOptions, options(n), pages, tmp));
      const m = churnPages || n;
      Object.assign(row, await churn(createZcacheJs, parseZcacheOptions, options(m), pages, m));
    }
    rows.push(row);
  }
  return rows;
}

// The writeback mechanics alone: every page stored, then writebackSync(BATCH) until nothing is left.
function writeback(createZcacheJs, parseZcacheOptions, options, pages, tmp) {
  const { PageSeals } = require(join(ROOT, 'dist', 'swap', 'page-seals.js'));
  const n = pages.length;
  const path = join(tmp, `wb-${options.allocator}`);
  const fd = openSync(path, 'w+', 0o600);
  try {
    ftruncateSync(fd, (n + 1) * PAGE);
    const b = createZcacheJs(parseZcacheOptions(options));
    b.frontswap.init(0, { type: 0, pages: n + 1, path, fd, seals: new PageSeals(0, n + 1, false) });
    let stored = 0;
    for (let i = 0; i < n; i++) if (b.frontswap.store(0, i + 1, pages[i])) stored++;
    const same = b.stats().zcache.same_filled_pages;
    const t0 = now();
    let written = 0;
    for (let w; (w = b.frontswap.writebackSync(BATCH)) > 0; ) written += w;
    const seconds = Number(now() - t0) / 1e9;
    const left = b.stats().zcache;
    void b.close();
    if (written !== stored - same || left.pool_pages !== 0) throw new Error(`writeback left ${left.stored_pages} pages, ${left.pool_pages} frames`);
    return { writtenBack: written, writebackPagesPerSec: written / seconds };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

// Store every page, free a random half, compact: frames against the ideal, and memory given back.
async function churn(createZcacheJs, parseZcacheOptions, options, pages, n) {
  const b = createZcacheJs(parseZcacheOptions(options));
  const frames = () => b.stats().zcache.pool_pages;
  // V8 frees the backing stores of dead ArrayBuffers after a gc, not always within it: settle first.
  const rss = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 100));
    }
    return process.memoryUsage().rss / 2 ** 20;
  };
  b.frontswap.init(0, { type: 0, pages: n + 1, path: '', fd: -1 });
  for (let i = 0; i < n; i++) b.frontswap.store(0, i + 1, pages[i % pages.length]);
  const full = { frames: frames(), rssMiB: await rss() };
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    if (s & 1) b.frontswap.invalidatePage(0, i + 1);
  }
  const halfFreed = frames();
  const t0 = now();
  b.compact();
  const compactMs = Number(now() - t0) / 1e6;
  const z = b.stats().zcache;
  const after = { frames: z.pool_pages, rssMiB: await rss() };
  void b.close();
  const ideal = z.pers_zbytes / PAGE;
  return { churn: { pages: n, full, halfFreed, after, ideal, overIdeal: after.frames / ideal, compactMs } };
}

// ---- the parent: corpora, one child per allocator, the report -------------------------------

async function main() {
  const tmem = require(join(ROOT, 'dist', 'index.js'));
  const { ALLOCATORS } = tmem;
  const heap = Number(args['heap-pages'] ?? (args.quick ? 4096 : 32768));
  const synthetic = Number(args['synthetic-pages'] ?? (args.quick ? 2048 : 8192));
  const timing = args.quick ? { seconds: 0.2, rounds: 2 } : { seconds: 2, rounds: 5 };
  const tmp = mkdtempSync(join(os.tmpdir(), 'tmem-zjs-bench-'));
  try {
    const made = await makeCorpora(tmp, { heap, synthetic, only: ['heap', 'text', 'random'] });
    const corpora = Object.fromEntries(Object.entries(made).map(([k, c]) => [k, c.file]));
    const rows = [];
    for (const allocator of ALLOCATORS['zcache-js']) {
      const spec = JSON.stringify({ allocator, corpora, timing, tmp, churnPages: Number(args['churn-pages'] ?? 0) });
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', spec], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 26,
      });
      if (r.status !== 0) throw new Error(`child for ${allocator} failed (${r.status})`);
      rows.push(...JSON.parse(r.stdout));
    }
    // The raw pwrite baseline is the C++ loop run.mjs uses, built against the addon's liblz4.
    const pwrite = tmem.versions().lz4
      ? JSON.parse(
          execFileSync(buildLz4Loop(ROOT), ['pwrite', join(tmp, 'pwrite.bin'), String(made.heap.pages), String(timing.seconds), String(timing.rounds)], {
            encoding: 'utf8',
          }),
        )
      : null;
    const result = { mode: args.quick ? 'quick' : 'default', date: new Date().toISOString(), node: process.versions.node, loadavg: os.loadavg(), rows, pwrite };
    if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(report(result));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function report({ mode, date, loadavg, rows, pwrite }) {
  const k = (x) => Math.round(x).toLocaleString('en-US');
  const f = (x, d = 3) => (x === null || x === undefined ? '–' : x.toFixed(d));
  const raw = pwrite ? pwrite.pwrite.pagesPerSec : null;
  let out = `### zcache-js allocators (${mode}, ${date}, load ${loadavg.map((x) => x.toFixed(1)).join(' ')})\n\n`;
  out += '| allocator | corpus | pages | LZ4 ratio | pool ÷ LZ4 ratio | metadata B/page | store/s | load/s | batch store/s | batch load/s |\n';
  out += '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n';
  for (const r of rows) {
    out += `| ${r.allocator} | ${r.corpus} | ${k(r.pages)} | ${f(r.lz4Ratio, 2)} | ${f(r.ratio)} | ${f(r.metadataPerPage, 1)} | ${k(r.store)} | ${k(r.load)} | ${k(r.storeBatch)} | ${k(r.loadBatch)} |\n`;
  }
  out += `\nWriteback and churn, heap corpus (raw sequential 4 KiB pwrite: ${raw ? `${k(raw)} pages/s` : 'n/a, no addon'}):\n\n`;
  out += '| allocator | writeback pages/s | ÷ raw pwrite | churn pages | frames after churn ÷ ideal | frames: full → half freed → compacted | compact() ms | RSS MiB: full → after |\n';
  out += '| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |\n';
  for (const r of rows.filter((x) => x.corpus === 'heap')) {
    const c = r.churn;
    out += `| ${r.allocator} | ${k(r.writebackPagesPerSec)} | ${raw ? f(r.writebackPagesPerSec / raw, 2) : '–'} | ${k(c.pages)} | ${f(c.overIdeal)} | ${k(c.full.frames)} → ${k(c.halfFreed)} → ${k(c.after.frames)} | ${f(c.compactMs, 1)} | ${f(c.full.rssMiB, 0)} → ${f(c.after.rssMiB, 0)} |\n`;
  }
  return out;
}

if (args.child) {
  child(JSON.parse(args.child)).then(
    (rows) => process.stdout.write(JSON.stringify(rows)),
    (err) => {
      console.error(err?.stack ?? err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  });
}
