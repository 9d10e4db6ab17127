// Turns the results object of one run into the Markdown report (targets: targets.mjs, chart:
// chart.mjs).
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_SUBJECT, PLAIN_PEERS } from './subjects.mjs';
import { findRow, fmtInt, memRow, ratioToLz4, writebackRows } from './targets.mjs';

export { computeTargets } from './targets.mjs';
export { svgChart } from './chart.mjs';

const fmtUs = (ns) => (ns === undefined || !Number.isFinite(ns) ? '–' : (ns / 1000).toFixed(ns < 10000 ? 2 : 1));
const fmtLat = (op) => (op ? `${fmtUs(op.p50ns)} / ${fmtUs(op.p99ns)}` : '–');
const fmtX = (v, d = 2) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(d)}×`);
const fmtPct = (v) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 100)}%`);
const fmtB = (v, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));

/** Against the uncompressed peers: memory saved per page by zcache, and the time it costs. */
export function tradeoffs(results) {
  const z = findRow(results, DEFAULT_SUBJECT.zcache, 'heap');
  const zm = memRow(results, DEFAULT_SUBJECT.zcache);
  if (!z || !zm) return [];
  const zBytes = zm.footprintPerPage;
  return PLAIN_PEERS.map((peer) => {
    const p = findRow(results, peer, 'heap');
    const pm = memRow(results, peer);
    if (!p || !pm) return null;
    return {
      peer,
      peerBytesPerPage: pm.footprintPerPage,
      zcacheBytesPerPage: zBytes,
      savedBytesPerPage: pm.footprintPerPage - zBytes,
      storeCostNs: 1e9 / z.store.pagesPerSec - 1e9 / p.store.pagesPerSec,
      loadCostNs: 1e9 / z.load.pagesPerSec - 1e9 / p.load.pagesPerSec,
    };
  }).filter(Boolean);
}

export function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function machineLine(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB · Linux ${m.kernel} · Node ${m.node} · liblz4 ${m.lz4} · tmem ${m.tmem}${m.commit ? ` (${m.commit})` : ''} · lz4-napi ${m.peers['lz4-napi']}, lmdb ${m.peers.lmdb}, lz4js ${m.peers.lz4js}${m.loadavg ? ` · load average at start ${m.loadavg[0]}` : ''}`;
}

const verdict = (t) => (t.pass
  ? `PASS${Number.isFinite(t.margin) ? ` (+${Math.round(t.margin * 100)}%)` : ''}`
  : `**MISS**${Number.isFinite(t.margin) ? ` (${Math.round(t.margin * 100)}%)` : ''}`);

/** The allocator subjects of the run ("zcache/zsmalloc", ...), in ALLOCATORS order. */
function allocatorSubjects(results) {
  return [...new Set(results.perf.filter((r) => r.layer === 'frontswap').map((r) => r.subject))];
}

function corpusTables(results, md) {
  const { config } = results;
  md.push(
    `Throughput is the median of timed rounds (≥ ${config.minRounds} rounds and ≥ ${config.minSeconds} s), each round one pass over every page of the corpus; ` +
      `p50/p99 come from a separate pass timing every single op with \`process.hrtime.bigint()\` (batch rows: each call of ${config.batch} pages, divided by ${config.batch}). ` +
      'zcache/zcache-js, one row per allocator: `frontswap.store/load` (batch: `frontswap.storeBatch/loadBatch`) after `swapon` + `loadBackend(backend, { allocator })`, pool large enough that nothing is refused, incompressible pages stored raw. ' +
      `Raw liblz4 compresses with ${results.raw.heap?.entryPoint ?? 'the pool\'s entry point'}, as the pool does (\`LZ4_compress_default\` for reference in the last section). ` +
      'Peers store a copy and read it back into the same caller buffer.',
  );
  for (const corpus of Object.keys(results.corpora)) {
    const c = results.corpora[corpus];
    const raw = results.raw[corpus];
    md.push('', `### ${corpus} pages (${fmtInt(c.pages)} pages${raw ? `, LZ4 ratio ${raw.ratio.toFixed(2)}` : ''}) — ${c.about}`, '');
    const rows = [];
    if (raw) {
      rows.push(['**raw liblz4** (ceiling)', 'C++ loop', fmtInt(raw.compress.pagesPerSec), fmtLat(raw.compress), fmtInt(raw.decompress.pagesPerSec),
        fmtLat(raw.decompress), '–', '–', '100%', '100%', '–']);
    }
    for (const r of results.perf.filter((x) => x.corpus === corpus)) {
      const vs = (op, ref) => (raw ? fmtPct(r[op]?.pagesPerSec / raw[ref].pagesPerSec) : '–');
      rows.push([
        r.subject.startsWith('zcache') ? `**${r.subject}**` : r.subject,
        r.layer,
        fmtInt(r.store.pagesPerSec),
        fmtLat(r.store),
        fmtInt(r.load.pagesPerSec),
        fmtLat(r.load),
        r.storeBatch ? fmtInt(r.storeBatch.pagesPerSec) : '–',
        r.loadBatch ? fmtInt(r.loadBatch.pagesPerSec) : '–',
        r.storeBatch ? `${vs('store', 'compress')} / ${vs('storeBatch', 'compress')}` : vs('store', 'compress'),
        r.loadBatch ? `${vs('load', 'decompress')} / ${vs('loadBatch', 'decompress')}` : vs('load', 'decompress'),
        r.poolEmpty ? '∞ (no pool bytes)' : r.poolRatio ? fmtX(r.poolRatio) : r.keptRatio ? fmtX(r.keptRatio) : r.dbRatio ? fmtX(r.dbRatio) : '–',
      ]);
    }
    md.push(table(['subject', 'layer', 'store pages/s', 'store p50 / p99 µs', 'load pages/s', 'load p50 / p99 µs', 'batch store pages/s',
      'batch load pages/s', 'store vs LZ4 (single / batch)', 'load vs LZ4 (single / batch)', 'ratio'], rows));
  }
  md.push('', 'ratio: page bytes / pool bytes for zcache and zcache-js (what the pool really takes: frames in use); page bytes / kept bytes for the Map peers; page bytes / database pages in use for lmdb.');
}

// One table per allocator: density and speed against liblz4 on every corpus, then its memory,
// writeback and compaction figures.
function allocatorTables(results, md) {
  md.push('', '### Allocators', '');
  md.push('Per allocator, on every corpus: the pool ratio and its share of LZ4\'s own ratio on the same pages (the density the allocator keeps of what the codec achieved), and the rates against raw liblz4. Below each table: native metadata per stored page and V8 heap growth (heap corpus), writeback against raw sequential pwrite, and the churn measurement.');
  const pw = results.pwrite?.pwrite?.pagesPerSec;
  for (const subject of allocatorSubjects(results)) {
    md.push('', `#### ${subject}`, '');
    md.push(table(['corpus', 'pool ratio', '÷ LZ4 ratio', 'compressed ÷ pool bytes', 'store pages/s (÷ raw)', 'load pages/s (÷ raw)',
      'batch store (÷ raw)', 'batch load (÷ raw)'],
    Object.keys(results.corpora).map((corpus) => {
      const r = findRow(results, subject, corpus);
      const raw = results.raw[corpus];
      const rate = (op, ref) => (r?.[op] ? `${fmtInt(r[op].pagesPerSec)} (${raw ? fmtPct(r[op].pagesPerSec / raw[ref].pagesPerSec) : '–'})` : '–');
      const density = r?.info?.poolBytes ? r.info.keptBytes / r.info.poolBytes : undefined;
      return [corpus, r?.poolEmpty ? '∞ (same-filled)' : fmtX(r?.poolRatio), r?.poolEmpty ? '–' : fmtX(ratioToLz4(results, r)),
        fmtX(density, 3), rate('store', 'compress'), rate('load', 'decompress'), rate('storeBatch', 'compress'), rate('loadBatch', 'decompress')];
    })));
    const m = memRow(results, subject);
    const { policy, sync } = writebackRows(results, subject);
    const churn = results.churn?.find((c) => c.subject === subject);
    const parts = [];
    if (m) parts.push(`metadata ${fmtB(m.metadataPerPage, 1)} B/page, V8 heap ${fmtB(m.heapPerPage, 3)} B/page`);
    if (sync?.available) parts.push(`writeback (mechanics) ${fmtInt(sync.pagesPerSec)} pages/s = ${fmtX(sync.pagesPerSec / pw)} raw pwrite`);
    if (policy?.available) parts.push(`through the policy ${fmtInt(policy.pagesPerSec)} pages/s`);
    if (churn) {
      parts.push(`churn of ${fmtInt(churn.pages)} pages: ${fmtX(churn.ratioToIdeal, 3)} ideal after compact(), which took ` +
        `${(churn.compactSeconds * 1000).toFixed(1)} ms for ${fmtInt(churn.released)} frames`);
    }
    if (parts.length) md.push('', `${parts.join('; ')}.`);
  }
}

function ratioTable(results, md) {
  const subjects = allocatorSubjects(results);
  md.push('', '### Pool ratio against LZ4\'s own ratio', '');
  md.push(table(['corpus', 'LZ4 ratio (raw liblz4)', ...subjects.map((s) => `${s} pool ratio (÷ LZ4)`), `${DEFAULT_SUBJECT.zcache} compressed-bytes ratio`],
    Object.keys(results.corpora).map((corpus) => {
      const cell = (s) => {
        const r = findRow(results, s, corpus);
        return r?.poolEmpty ? '∞ (same-filled, no pool bytes)' : `${fmtX(r?.poolRatio)} (${fmtX(ratioToLz4(results, r))})`;
      };
      return [corpus, fmtX(results.raw[corpus]?.ratio), ...subjects.map(cell), fmtX(findRow(results, DEFAULT_SUBJECT.zcache, corpus)?.keptRatio)];
    })));
}

function memoryTable(results, md) {
  md.push('', `### Memory per stored page (${results.memory[0]?.corpus ?? 'heap'} corpus, ${fmtInt(results.memory[0]?.pages)} pages stored once)`, '');
  md.push('Growth between the half-full and the full store, after a full gc, per page (one-time costs excluded); "from empty" counts from the empty store.', '');
  md.push(table(['subject', 'V8 heap B/page', 'RSS B/page', 'RSS B/page from empty', 'external B/page', 'pool B/page', 'lmdb pages B/page', 'native metadata B/page'],
    results.memory.map((m) => [m.subject, fmtB(m.heapPerPage, 2), fmtB(m.rssPerPage, 0), fmtB(m.total?.rssPerPage, 0), fmtB(m.externalPerPage, 0),
      fmtB(m.poolBytesPerPage, 0), fmtB(m.dbBytesPerPage, 0), fmtB(m.metadataPerPage, 1)])));
}

function writebackTable(results, md) {
  md.push('', '### Writeback', '');
  const pw = results.pwrite?.pwrite?.pagesPerSec;
  const rows = results.writeback.map((w) => w.op === 'writebackSync'
    ? [`${w.subject}, ${w.allocator}: \`writebackSync(${w.batchPages})\` until empty (mechanics, this thread)`, w.available ? fmtInt(w.pagesPerSec) : w.note ?? 'n/a',
      w.available ? fmtX(w.pagesPerSec / pw) : '–',
      w.available ? `${fmtInt(w.writtenBack)} of ${fmtInt(w.pages)} pages per round (same-filled pages stay), median of ${w.writeback.rounds} rounds` : '']
    : [`${w.subject} through the swap area, pool = 1/8 of the corpus, writeback policy on`, w.available ? fmtInt(w.pagesPerSec) : w.note ?? 'n/a',
      w.available ? fmtX(w.pagesPerSec / pw) : '–',
      `${fmtInt(w.pages)} pages written with \`area.writePages\` in ${w.seconds?.toFixed(2)} s (${fmtInt(w.pages / w.seconds)} pages/s), ${fmtInt(w.writtenBack)} written back`]);
  if (results.pwrite) {
    rows.push(['raw sequential pwrite of 4 KiB pages, same disk (C++)', fmtInt(pw), '1.00×',
      `p50 / p99 ${fmtLat(results.pwrite.pwrite)} µs, no fsync (page cache), ${fmtInt(results.pwrite.pages)}-page file`]);
  }
  md.push(table(['row', 'pages/s', '÷ raw pwrite', 'detail'], rows));
}

function churnTable(results, md) {
  if (!results.churn?.length) return;
  md.push('', `### Churn: ${fmtInt(results.churn[0].pages)} heap pages stored, a random half freed, compact()`, '');
  md.push('Ideal: the live objects\' bytes in their allocator\'s unit of placement (zsmalloc: each object\'s size class, header included; z3fold and zbud: 64-byte chunks), divided by 4096. Automatic compaction off for this run, so that compact() does all the work it is timed for; every live page is read back afterwards.', '');
  md.push(table(['allocator', 'frames stored', 'after freeing half', 'after compact()', 'ideal', '÷ ideal', 'compact() ms', 'frames released', 'read back wrong'],
    results.churn.map((c) => [c.subject, fmtInt(c.framesStored), fmtInt(c.framesAfterFree), fmtInt(c.framesAfterCompact), fmtInt(c.idealFrames),
      fmtX(c.ratioToIdeal, 3), (c.compactSeconds * 1000).toFixed(1), fmtInt(c.released), fmtInt(c.mismatches)])));
}

function tradeoffTable(results, md) {
  const trade = tradeoffs(results);
  if (!trade.length) return;
  md.push('', `### ${DEFAULT_SUBJECT.zcache} against the uncompressed peers (heap corpus): memory saved per page, time it costs`, '');
  md.push('Footprint: RSS growth per page; for lmdb the database pages in use per page (its data is in the page cache of its mapped file). Cost: difference in time per page, from the median throughputs.', '');
  md.push(table(['peer', 'peer footprint B/page', 'zcache footprint B/page', 'saved B/page', 'store: zcache costs µs/page', 'load: zcache costs µs/page'],
    trade.map((t) => [t.peer, fmtB(t.peerBytesPerPage, 0), fmtB(t.zcacheBytesPerPage, 0), fmtB(t.savedBytesPerPage, 0),
      `${t.storeCostNs >= 0 ? '+' : ''}${fmtUs(t.storeCostNs)}`, `${t.loadCostNs >= 0 ? '+' : ''}${fmtUs(t.loadCostNs)}`])));
}

function entryPointTable(results, md) {
  md.push('', '### The compressor\'s entry point', '');
  md.push(`The pool and the raw loop compress with ${results.raw.heap?.entryPoint ?? '–'} (native/codec.h says why). \`LZ4_compress_default\` on the same pages, for reference:`, '');
  md.push(table(['corpus', 'stream entry point pages/s', 'LZ4_compress_default pages/s', 'default ÷ stream'],
    Object.keys(results.corpora).map((corpus) => {
      const raw = results.raw[corpus];
      return [corpus, fmtInt(raw?.compress?.pagesPerSec), fmtInt(raw?.compressDefault?.pagesPerSec),
        fmtX(raw?.compressDefault?.pagesPerSec / raw?.compress?.pagesPerSec)];
    })));
}

export function markdown(results) {
  const md = [];
  md.push(`## tmem bench (${results.mode} mode, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(results.seconds)} s)`, '');
  md.push(`Machine: ${machineLine(results.machine)}`, '');
  corpusTables(results, md);
  allocatorTables(results, md);
  ratioTable(results, md);
  memoryTable(results, md);
  writebackTable(results, md);
  churnTable(results, md);
  tradeoffTable(results, md);
  entryPointTable(results, md);
  for (const issue of [11, 7]) {
    const rows = results.targets.filter((t) => t.issue === issue);
    if (!rows.length) continue;
    md.push('', `### Targets (issue #${issue})`, '');
    md.push(table(['target', 'wanted', 'measured', 'result'], rows.map((t) => [t.name, t.target, t.display, verdict(t)])));
  }
  md.push('');
  return md.join('\n');
}

/** Puts `body` between the `<!-- NAME:start -->` and `<!-- NAME:end -->` lines of `file`. */
export function replaceBetweenMarkers(file, name, body) {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: no ${start} ... ${end} markers`);
  writeFileSync(file, `${text.slice(0, a)}${start}\n${body}\n${end}${text.slice(b + end.length)}`);
}
