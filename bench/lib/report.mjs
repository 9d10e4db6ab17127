// Turns the results object of one run into the targets, the Markdown report and the SVG chart.
import { readFileSync, writeFileSync } from 'node:fs';
import { COMPRESSING_PEERS, PLAIN_PEERS } from './subjects.mjs';

const fmtInt = (v) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const fmtUs = (ns) => (ns === undefined || !Number.isFinite(ns) ? '–' : (ns / 1000).toFixed(ns < 10000 ? 2 : 1));
const fmtLat = (op) => (op ? `${fmtUs(op.p50ns)} / ${fmtUs(op.p99ns)}` : '–');
const fmtX = (v, d = 2) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(d)}×`);
const fmtPct = (v) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 100)}%`);
const fmtB = (v, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));

export function findRow(results, subject, corpus) {
  return results.perf.find((r) => r.subject === subject && r.corpus === corpus);
}

function memRow(results, subject) {
  return results.memory.find((r) => r.subject === subject);
}

/** Each target of issue #7 with what was measured, PASS/MISS and the margin. */
export function computeTargets(results) {
  const out = [];
  const raw = results.raw.heap;
  const z = findRow(results, 'zcache', 'heap');
  const zjs = findRow(results, 'zcache-js', 'heap');
  const zero = findRow(results, 'zcache', 'zero');
  const mem = memRow(results, 'zcache');
  const ratioTarget = (name, measured, target, detail) => {
    const ok = Number.isFinite(measured);
    out.push({
      name,
      target: `≥ ${target}`,
      measured: ok ? measured : null,
      display: ok ? `${measured.toFixed(2)} (${detail})` : 'not measured',
      pass: ok && measured >= target,
      margin: ok ? measured / target - 1 : null,
    });
  };
  if (raw && z) {
    ratioTarget('zcache store / raw LZ4 compress (heap)', z.store.pagesPerSec / raw.compress.pagesPerSec, 0.85,
      `${fmtInt(z.store.pagesPerSec)} vs ${fmtInt(raw.compress.pagesPerSec)} pages/s`);
    ratioTarget('zcache load / raw LZ4 decompress (heap)', z.load.pagesPerSec / raw.decompress.pagesPerSec, 0.75,
      `${fmtInt(z.load.pagesPerSec)} vs ${fmtInt(raw.decompress.pagesPerSec)} pages/s`);
    ratioTarget('zcache batch store / raw LZ4 compress (heap)', z.storeBatch?.pagesPerSec / raw.compress.pagesPerSec, 0.95,
      `${fmtInt(z.storeBatch?.pagesPerSec)} vs ${fmtInt(raw.compress.pagesPerSec)} pages/s`);
    ratioTarget('zcache batch load / raw LZ4 decompress (heap)', z.loadBatch?.pagesPerSec / raw.decompress.pagesPerSec, 0.9,
      `${fmtInt(z.loadBatch?.pagesPerSec)} vs ${fmtInt(raw.decompress.pagesPerSec)} pages/s`);
  }
  if (z && zjs) {
    ratioTarget('zcache / zcache-js, store (heap)', z.store.pagesPerSec / zjs.store.pagesPerSec, 10,
      `${fmtInt(z.store.pagesPerSec)} vs ${fmtInt(zjs.store.pagesPerSec)} pages/s`);
    ratioTarget('zcache / zcache-js, load (heap)', z.load.pagesPerSec / zjs.load.pagesPerSec, 3,
      `${fmtInt(z.load.pagesPerSec)} vs ${fmtInt(zjs.load.pagesPerSec)} pages/s`);
  }
  if (zero) {
    const v = zero.store.pagesPerSec;
    out.push({ name: 'zcache store of zero-filled pages', target: '≥ 2,000,000 pages/s', measured: v,
      display: `${fmtInt(v)} pages/s`, pass: v >= 2e6, margin: v / 2e6 - 1 });
  }
  if (mem) {
    const m = mem.metadataPerPage;
    out.push({ name: 'native metadata per stored page', target: '≤ 32 B', measured: m ?? null,
      display: `${fmtB(m)} B`, pass: m !== undefined && m <= 32, margin: m !== undefined ? 32 / m - 1 : null });
    const h = mem.heapPerPage;
    // "≈ 0": under 1 byte per stored page (32 KiB of heap over 32,768 pages), after a full gc.
    out.push({ name: 'V8 heap growth per stored page', target: '≈ 0 (< 1 B)', measured: h,
      display: `${fmtB(h, 3)} B`, pass: Math.abs(h) < 1, margin: Math.abs(h) < 1 ? null : 1 / Math.abs(h) - 1 });
  }
  if (z) {
    for (const peer of COMPRESSING_PEERS) {
      const p = findRow(results, peer, 'heap');
      if (!p) continue;
      for (const op of ['store', 'load']) {
        const r = z[op].pagesPerSec / p[op].pagesPerSec;
        out.push({ name: `zcache faster than ${peer}, ${op} (heap)`, target: '> 1×', measured: r,
          display: `${r.toFixed(2)}× (${fmtInt(z[op].pagesPerSec)} vs ${fmtInt(p[op].pagesPerSec)} pages/s)`,
          pass: r > 1, margin: r - 1 });
      }
    }
  }
  return out;
}

/** Against the uncompressed peers: memory saved per page by zcache, and the time it costs. */
export function tradeoffs(results) {
  const z = findRow(results, 'zcache', 'heap');
  const zm = memRow(results, 'zcache');
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

export function markdown(results) {
  const { machine, config } = results;
  const md = [];
  md.push(`## tmem bench (${results.mode} mode, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(results.seconds)} s)`);
  md.push('');
  md.push(`Machine: ${machineLine(machine)}`);
  md.push('');
  md.push(
    `Throughput is the median of timed rounds (≥ ${config.minRounds} rounds and ≥ ${config.minSeconds} s), each round one pass over every page of the corpus; ` +
      `p50/p99 come from a separate pass timing every single op with \`process.hrtime.bigint()\` (batch rows: each call of ${config.batch} pages, divided by ${config.batch}). ` +
      `zcache/zcache-js: \`frontswap.store/load\` (batch: \`frontswap.storeBatch/loadBatch\`) after \`swapon\` + \`loadBackend\`, pool large enough that nothing is refused, incompressible pages stored raw. ` +
      'Peers store a copy and read it back into the same caller buffer.',
  );
  for (const corpus of Object.keys(results.corpora)) {
    const c = results.corpora[corpus];
    const raw = results.raw[corpus];
    md.push('');
    md.push(`### ${corpus} pages (${fmtInt(c.pages)} pages${raw ? `, LZ4 ratio ${raw.ratio.toFixed(2)}` : ''}) — ${c.about}`);
    md.push('');
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
    md.push(table(['subject', 'layer', 'store pages/s', 'store p50 / p99 µs', 'load pages/s', 'load p50 / p99 µs', `batch store pages/s`,
      `batch load pages/s`, 'store vs LZ4 (single / batch)', 'load vs LZ4 (single / batch)', 'ratio'], rows));
  }
  md.push('');
  md.push('ratio: page bytes / pool bytes for zcache and zcache-js (the effective pool ratio: zbud keeps at most two objects per 4 KiB frame, so it cannot exceed 2×); page bytes / kept bytes for the Map peers; page bytes / database pages in use for lmdb.');

  md.push('');
  md.push('### Pool ratio against LZ4\'s own ratio');
  md.push('');
  md.push(table(['corpus', 'LZ4 ratio (raw liblz4)', 'zcache pool ratio', 'zcache compressed-bytes ratio', 'zcache-js pool ratio'],
    Object.keys(results.corpora).map((corpus) => {
      const z = findRow(results, 'zcache', corpus);
      const j = findRow(results, 'zcache-js', corpus);
      const pool = (r) => (r?.poolEmpty ? '∞ (same-filled, no pool bytes)' : fmtX(r?.poolRatio));
      return [corpus, fmtX(results.raw[corpus]?.ratio), pool(z), fmtX(z?.keptRatio), pool(j)];
    })));

  md.push('');
  md.push(`### Memory per stored page (${results.memory[0]?.corpus ?? 'heap'} corpus, ${fmtInt(results.memory[0]?.pages)} pages stored once)`);
  md.push('');
  md.push('Growth between the half-full and the full store, after a full gc, per page (one-time costs excluded); "from empty" counts from the empty store.');
  md.push('');
  md.push(table(['subject', 'V8 heap B/page', 'RSS B/page', 'RSS B/page from empty', 'external B/page', 'pool B/page', 'lmdb pages B/page', 'native metadata B/page'],
    results.memory.map((m) => [m.subject, fmtB(m.heapPerPage, 2), fmtB(m.rssPerPage, 0), fmtB(m.total?.rssPerPage, 0), fmtB(m.externalPerPage, 0),
      fmtB(m.poolBytesPerPage, 0), fmtB(m.dbBytesPerPage, 0), fmtB(m.metadataPerPage, 1)])));

  md.push('');
  md.push('### Writeback');
  md.push('');
  const wbRows = results.writeback.map((w) => w.op === 'writebackSync'
    ? [`${w.subject} \`writebackSync(${w.batchPages})\` until empty (mechanics, this thread)`, w.available ? fmtInt(w.pagesPerSec) : w.note ?? 'n/a',
      w.available ? `${fmtInt(w.writtenBack)} of ${fmtInt(w.pages)} pages per round (same-filled pages stay), median of ${w.writeback.rounds} rounds` : '']
    : [`${w.subject} through the swap area, pool = 1/8 of the corpus, writeback policy on`,
      w.available ? fmtInt(w.pagesPerSec) : w.note ?? 'n/a',
      `${fmtInt(w.pages)} pages written with \`area.writePages\` in ${w.seconds?.toFixed(2)} s (${fmtInt(w.pages / w.seconds)} pages/s), ${fmtInt(w.writtenBack)} written back`]);
  if (results.pwrite) {
    wbRows.push(['raw sequential pwrite of 4 KiB pages, same disk (C++)', fmtInt(results.pwrite.pwrite.pagesPerSec),
      `p50 / p99 ${fmtLat(results.pwrite.pwrite)} µs, no fsync (page cache), ${fmtInt(results.pwrite.pages)}-page file`]);
  }
  md.push(table(['row', 'pages/s', 'detail'], wbRows));

  const trade = tradeoffs(results);
  if (trade.length) {
    md.push('');
    md.push('### zcache against the uncompressed peers (heap corpus): memory saved per page, time it costs');
    md.push('');
    md.push('Footprint: RSS growth per page; for lmdb the database pages in use per page (its data is in the page cache of its mapped file). Cost: difference in time per page, from the median throughputs.');
    md.push('');
    md.push(table(['peer', 'peer footprint B/page', 'zcache footprint B/page', 'saved B/page', 'store: zcache costs µs/page', 'load: zcache costs µs/page'],
      trade.map((t) => [t.peer, fmtB(t.peerBytesPerPage, 0), fmtB(t.zcacheBytesPerPage, 0), fmtB(t.savedBytesPerPage, 0),
        `${t.storeCostNs >= 0 ? '+' : ''}${fmtUs(t.storeCostNs)}`, `${t.loadCostNs >= 0 ? '+' : ''}${fmtUs(t.loadCostNs)}`])));
  }

  md.push('');
  md.push('### Targets (issue #7)');
  md.push('');
  md.push(table(['target', 'wanted', 'measured', 'result'], results.targets.map((t) => [t.name, t.target, t.display,
    t.pass ? `PASS${t.margin !== null && t.margin !== undefined ? ` (+${Math.round(t.margin * 100)}%)` : ''}`
      : `**MISS**${t.margin !== null && t.margin !== undefined ? ` (${Math.round(t.margin * 100)}%)` : ''}`])));
  md.push('');
  return md.join('\n');
}

export const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars, log scale: store and load pages/s of every subject on the heap corpus. */
export function svgChart(results, corpus = 'heap') {
  const bars = [];
  const raw = results.raw[corpus];
  if (raw) bars.push({ label: 'raw liblz4 (C++ ceiling)', store: raw.compress.pagesPerSec, load: raw.decompress.pagesPerSec });
  for (const r of results.perf.filter((x) => x.corpus === corpus)) {
    bars.push({ label: r.layer === 'frontswap' ? `${r.subject} (frontswap)` : r.subject, store: r.store.pagesPerSec, load: r.load.pagesPerSec });
    if (r.storeBatch) bars.push({ label: `${r.subject} batch ×${r.batchPages}`, store: r.storeBatch.pagesPerSec, load: r.loadBatch.pagesPerSec });
  }
  const W = 900, left = 200, right = 90, top = 58, rowH = 34, barH = 12;
  const H = top + bars.length * rowH + 40;
  const lo = 1e3, hi = 1e7;
  const x = (v) => left + ((Math.log10(Math.min(Math.max(v, lo), hi)) - 3) / 4) * (W - left - right);
  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  s.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  s.push(`<text x="10" y="20" font-size="15" font-weight="bold">tmem: 4 KiB pages/s, ${esc(corpus)} corpus (${results.corpora[corpus]?.pages} pages), log scale</text>`);
  const m = results.machine;
  s.push(`<text x="10" y="38" fill="#555">${esc(`${m.cpu}, ${m.cores} cores · Node ${m.node} · liblz4 ${m.lz4} · tmem ${m.tmem}${m.commit ? ` (${m.commit})` : ''} · ${results.mode} mode, ${results.startedAt.slice(0, 10)}`)}</text>`);
  s.push(`<rect x="${W - 150}" y="10" width="10" height="10" fill="#3b6fb6"/><text x="${W - 136}" y="19">store</text>`);
  s.push(`<rect x="${W - 90}" y="10" width="10" height="10" fill="#e08a2c"/><text x="${W - 76}" y="19">load</text>`);
  for (let e = 3; e <= 7; e++) {
    const gx = x(10 ** e);
    s.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${H - 30}" stroke="#ddd"/>`);
    s.push(`<text x="${gx}" y="${H - 16}" text-anchor="middle" fill="#555">${['1k', '10k', '100k', '1M', '10M'][e - 3]}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    s.push(`<text x="${left - 8}" y="${y + barH + 4}" text-anchor="end">${esc(b.label)}</text>`);
    for (const [k, op, color] of [[0, 'store', '#3b6fb6'], [1, 'load', '#e08a2c']]) {
      const v = b[op];
      if (!Number.isFinite(v)) continue;
      const by = y + k * (barH + 2);
      s.push(`<rect x="${left}" y="${by}" width="${Math.max(1, x(v) - left).toFixed(1)}" height="${barH}" fill="${color}"/>`);
      s.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${by + barH - 2}" font-size="10" fill="#333">${fmtInt(v)}</text>`);
    }
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
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
