// The SVG chart of one run: on top, store and load pages/s of every subject on the heap corpus
// (log scale, every allocator of both backends side by side); below, for every corpus, each
// allocator's pool ratio as a share of LZ4's own ratio on the same pages.
import { findRow, fmtInt, ratioToLz4 } from './targets.mjs';

export const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#3b6fb6', '#e08a2c', '#4f9a5a', '#9a4f8f', '#888'];

function throughputPanel(results, corpus, s, W, top) {
  const bars = [];
  const raw = results.raw[corpus];
  if (raw) bars.push({ label: 'raw liblz4 (C++ ceiling)', store: raw.compress.pagesPerSec, load: raw.decompress.pagesPerSec });
  for (const r of results.perf.filter((x) => x.corpus === corpus)) {
    bars.push({ label: r.layer === 'frontswap' ? `${r.subject} (frontswap)` : r.subject, store: r.store.pagesPerSec, load: r.load.pagesPerSec });
    if (r.storeBatch) bars.push({ label: `${r.subject} batch ×${r.batchPages}`, store: r.storeBatch.pagesPerSec, load: r.loadBatch.pagesPerSec });
  }
  const left = 220, right = 90, rowH = 34, barH = 12;
  const bottom = top + bars.length * rowH;
  const x = (v) => left + ((Math.log10(Math.min(Math.max(v, 1e3), 1e7)) - 3) / 4) * (W - left - right);
  s.push(`<text x="10" y="${top - 22}" font-size="13" font-weight="bold">4 KiB pages/s, ${esc(corpus)} corpus (${results.corpora[corpus]?.pages} pages), log scale</text>`);
  s.push(`<rect x="${W - 150}" y="${top - 32}" width="10" height="10" fill="${COLORS[0]}"/><text x="${W - 136}" y="${top - 23}">store</text>`);
  s.push(`<rect x="${W - 90}" y="${top - 32}" width="10" height="10" fill="${COLORS[1]}"/><text x="${W - 76}" y="${top - 23}">load</text>`);
  for (let e = 3; e <= 7; e++) {
    const gx = x(10 ** e);
    s.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${bottom}" stroke="#ddd"/>`);
    s.push(`<text x="${gx}" y="${bottom + 14}" text-anchor="middle" fill="#555">${['1k', '10k', '100k', '1M', '10M'][e - 3]}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    s.push(`<text x="${left - 8}" y="${y + barH + 4}" text-anchor="end">${esc(b.label)}</text>`);
    for (const [k, op] of [[0, 'store'], [1, 'load']]) {
      const v = b[op];
      if (!Number.isFinite(v)) continue;
      const by = y + k * (barH + 2);
      s.push(`<rect x="${left}" y="${by}" width="${Math.max(1, x(v) - left).toFixed(1)}" height="${barH}" fill="${COLORS[k]}"/>`);
      s.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${by + barH - 2}" font-size="10" fill="#333">${fmtInt(v)}</text>`);
    }
  });
  return bottom + 30;
}

function densityPanel(results, s, W, top) {
  const subjects = [...new Set(results.perf.filter((r) => r.layer === 'frontswap').map((r) => r.subject))];
  const corpora = Object.keys(results.corpora);
  const left = 60, h = 160, groupW = (W - left - 20) / corpora.length;
  const barW = Math.min(36, (groupW - 20) / Math.max(1, subjects.length));
  s.push(`<text x="10" y="${top}" font-size="13" font-weight="bold">Pool ratio ÷ LZ4's own ratio on the same pages (1.0 = the pool keeps all the codec achieved)</text>`);
  subjects.forEach((name, i) => {
    s.push(`<rect x="${left + i * 150}" y="${top + 10}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    s.push(`<text x="${left + i * 150 + 14}" y="${top + 19}">${esc(name)}</text>`);
  });
  const y0 = top + 30 + h;
  const y = (v) => y0 - Math.min(Math.max(v, 0), 1.05) / 1.05 * h;
  for (const v of [0.25, 0.5, 0.75, 1]) {
    s.push(`<line x1="${left}" y1="${y(v)}" x2="${W - 20}" y2="${y(v)}" stroke="#ddd"/>`);
    s.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v.toFixed(2)}</text>`);
  }
  corpora.forEach((corpus, c) => {
    const gx = left + c * groupW + 10;
    s.push(`<text x="${gx + groupW / 2 - 10}" y="${y0 + 16}" text-anchor="middle">${esc(corpus)} (LZ4 ${results.raw[corpus]?.ratio?.toFixed(2) ?? '–'}×)</text>`);
    subjects.forEach((name, i) => {
      const r = findRow(results, name, corpus);
      const bx = gx + i * barW;
      if (r?.poolEmpty) {
        s.push(`<text x="${bx + barW / 2}" y="${y0 - 4}" font-size="9" text-anchor="middle" fill="#555">∞</text>`);
        return;
      }
      const v = ratioToLz4(results, r);
      if (!Number.isFinite(v)) return;
      s.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(y0 - y(v)).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>`);
      s.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${v.toFixed(2)}</text>`);
    });
  });
  return y0 + 30;
}

export function svgChart(results, corpus = 'heap') {
  const W = 960;
  const body = [];
  const afterThroughput = throughputPanel(results, corpus, body, W, 90);
  const end = densityPanel(results, body, W, afterThroughput + 10);
  const m = results.machine;
  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${end}" viewBox="0 0 ${W} ${end}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  s.push(`<rect width="${W}" height="${end}" fill="#fff"/>`);
  s.push('<text x="10" y="20" font-size="15" font-weight="bold">tmem: the allocators side by side</text>');
  s.push(`<text x="10" y="38" fill="#555">${esc(`${m.cpu}, ${m.cores} cores · Node ${m.node} · liblz4 ${m.lz4} · tmem ${m.tmem}${m.commit ? ` (${m.commit})` : ''} · ${results.mode} mode, ${results.startedAt.slice(0, 10)}`)}</text>`);
  s.push(...body, '</svg>');
  return s.join('\n') + '\n';
}
