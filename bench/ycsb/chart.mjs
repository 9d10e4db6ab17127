// The YCSB bench's chart (SVG, no dependencies), two panels:
//   left   the memory-limit ladder: per subject, the smallest cgroup limit it finished in (bar:
//          peak charge of that run) and the limits it was OOM-killed in
//   right  ops/s of zipf-0.99 B per subject and data ÷ budget (log scale), hit ratio where < 100 %
import { esc } from '../lib/chart.mjs';

const MiB = 2 ** 20;
const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : String(Math.round(v)));
const COLORS = { ok: '#2e8b57', killed: '#c0392b', bars: ['#3b6fb6', '#e08a2c', '#8e44ad'] };

function limitPanel(results, x0, y0, w) {
  const s = [];
  const rows = results.limit;
  const ladder = [...new Set(rows.flatMap((r) => r.attempts.map((a) => a.limitBytes)))].sort((a, b) => a - b);
  const max = ladder[ladder.length - 1] * 1.05;
  const left = x0 + 210;
  const x = (b) => left + (Math.min(b, max) / max) * (w - 230);
  const r0 = rows[0];
  s.push(`<text x="${x0}" y="${y0}" font-size="13" font-weight="bold">${esc(`${Math.round(r0.dataBytes / MiB)} MiB of 1–5 KiB values inside a memory cgroup`)}</text>`);
  s.push(`<text x="${x0}" y="${y0 + 16}" fill="#555">bar: peak charge of the run that finished (MiB); ✗: limits it was killed in</text>`);
  const top = y0 + 52;
  for (const l of ladder) {
    s.push(`<line x1="${x(l)}" y1="${top - 6}" x2="${x(l)}" y2="${top + rows.length * 30}" stroke="#ccc" stroke-dasharray="3,3"/>`);
    s.push(`<text x="${x(l)}" y="${top + rows.length * 30 + 14}" text-anchor="middle" fill="#555">${Math.round(l / MiB)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * 30;
    const name = r.config.maxSize !== undefined ? `${r.subject} (maxSize ${Math.round(r.config.maxSize / MiB)} MiB)` : r.subject;
    s.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(name)}</text>`);
    const ok = r.attempts.find((a) => a.outcome === 'finished');
    if (ok) {
      s.push(`<rect x="${left}" y="${y + 2}" width="${(x(ok.peakBytes) - left).toFixed(1)}" height="14" fill="${COLORS.ok}"/>`);
      const ops = ok.result.workloads[0].throughput.opsPerSec;
      s.push(`<text x="${(x(ok.peakBytes) + 4).toFixed(1)}" y="${y + 13}" font-size="10">finished in ${Math.round(ok.limitBytes / MiB)} MiB, ${fmt(ops)} ops/s</text>`);
    } else {
      s.push(`<text x="${left + 4}" y="${y + 13}" font-size="10" fill="${COLORS.killed}">killed at every limit tried</text>`);
    }
    for (const a of r.attempts.filter((x1) => x1.outcome !== 'finished')) {
      s.push(`<text x="${x(a.limitBytes)}" y="${y + 28}" text-anchor="middle" font-size="11" fill="${COLORS.killed}">✗</text>`);
    }
  });
  return { svg: s, height: rows.length * 30 + 60 };
}

function throughputPanel(results, x0, y0, w) {
  const s = [];
  const rows = results.matrix;
  const ratios = [...new Set(rows.map((r) => r.ratio))];
  const subjects = [...new Set(rows.map((r) => r.subject))];
  const left = x0 + 170;
  const lo = 1e3;
  const hi = 1e7;
  const x = (v) => left + ((Math.log10(Math.min(Math.max(v, lo), hi)) - 3) / 4) * (w - 240);
  const r0 = rows[0];
  s.push(`<text x="${x0}" y="${y0}" font-size="13" font-weight="bold">ops/s, zipf-0.99, 95 % reads / 5 % updates (log scale)</text>`);
  s.push(`<text x="${x0}" y="${y0 + 16}" fill="#555">${esc(`${r0.valueSize} B JSON values, ${Math.round(r0.dataBytes / MiB)} MiB of data; grey: keeps all data`)}</text>`);
  const top = y0 + 52;
  const budgeted = ratios.filter((r) => r !== null);
  budgeted.forEach((ratio, k) => {
    s.push(`<rect x="${x0 + k * 130}" y="${y0 + 26}" width="10" height="10" fill="${COLORS.bars[k % 3]}"/><text x="${x0 + 14 + k * 130}" y="${y0 + 35}">data ÷ budget ${ratio}</text>`);
  });
  let y = top;
  for (const subj of subjects) {
    const mine = rows.filter((r) => r.subject === subj);
    s.push(`<text x="${left - 8}" y="${y + 11}" text-anchor="end">${esc(subj)}</text>`);
    mine.forEach((r, k) => {
      const wl = r.workloads.find((q) => q.distribution === 'zipf-0.99' && q.mix === 'B') ?? r.workloads[0];
      const v = wl.throughput.opsPerSec;
      const by = y + k * 13;
      const color = r.ratio === null ? '#777' : COLORS.bars[budgeted.indexOf(r.ratio) % 3];
      s.push(`<rect x="${left}" y="${by}" width="${Math.max(1, x(v) - left).toFixed(1)}" height="11" fill="${color}"/>`);
      const hit = wl.hitRatio < 0.9995 ? `, ${Math.round(wl.hitRatio * 100)}% hits` : '';
      s.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${by + 9}" font-size="10">${fmt(v)}${r.ratio === null ? ' (holds all)' : ''}${hit}</text>`);
    });
    y += mine.length * 13 + 10;
  }
  for (let e = 3; e <= 7; e++) {
    s.push(`<line x1="${x(10 ** e)}" y1="${top - 4}" x2="${x(10 ** e)}" y2="${y}" stroke="#e5e5e5"/>`);
    s.push(`<text x="${x(10 ** e)}" y="${y + 14}" text-anchor="middle" fill="#555">${['1k', '10k', '100k', '1M', '10M'][e - 3]}</text>`);
  }
  return { svg: s, height: y - y0 + 30 };
}

export function svgChart(results) {
  const W = 1100;
  const half = W / 2;
  const panels = [];
  if (results.limit.length) panels.push(limitPanel(results, 10, 60, half - 20));
  if (results.matrix.length) panels.push(throughputPanel(results, panels.length ? half + 10 : 10, 60, half - 20));
  const H = 60 + Math.max(100, ...panels.map((p) => p.height)) + 10;
  const m = results.machine;
  const s = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    '<text x="10" y="22" font-size="16" font-weight="bold">SwapCache against Map, lru-cache, lmdb and redis-server</text>',
    `<text x="10" y="40" fill="#555">${esc(`${m.cpu}, ${m.cores} cores · Node ${m.node} · tmem ${m.tmem}${m.commit ? ` (${m.commit})` : ''} · ${results.mode} mode, ${results.startedAt.slice(0, 10)}`)}</text>`];
  for (const p of panels) s.push(...p.svg);
  s.push('</svg>');
  return `${s.join('\n')}\n`;
}
