// The targets of the issues, computed from one run's results: what was measured, PASS/MISS and
// the margin. Issue 11 (density, the store path at the ceiling) is about the default allocator
// of each backend; the earlier issue 7 targets stay listed for what they still say.
import { ALLOCATOR_SUBJECTS, COMPRESSING_PEERS, DEFAULT_SUBJECT } from './subjects.mjs';

export const fmtInt = (v) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const fmtB = (v, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));

export function findRow(results, subject, corpus) {
  return results.perf.find((r) => r.subject === subject && r.corpus === corpus);
}

export function memRow(results, subject) {
  return results.memory.find((r) => r.subject === subject);
}

/**
 * The writeback rows of an allocator subject ("zcache/zsmalloc"): the policy through a swap area,
 * and the mechanics alone (native Pool rows, so only for the zcache subjects).
 */
export function writebackRows(results, subject) {
  const [backend, allocator] = subject.split('/');
  return {
    policy: results.writeback.find((w) => w.subject === subject && w.op !== 'writebackSync'),
    sync: backend === 'zcache' ? results.writeback.find((w) => w.op === 'writebackSync' && w.allocator === allocator) : undefined,
  };
}

/** Pool ratio (page bytes / pool bytes) of a perf row over LZ4's own ratio on the same pages. */
export function ratioToLz4(results, row) {
  const raw = results.raw[row?.corpus];
  return row?.poolRatio && raw ? row.poolRatio / raw.ratio : undefined;
}

export function computeTargets(results) {
  const out = [];
  const add = (issue, name, target, measured, display, pass, margin) =>
    out.push({ issue, name, target, measured: Number.isFinite(measured) ? measured : null, display, pass, margin });
  const atLeast = (issue, name, measured, target, detail) => {
    const ok = Number.isFinite(measured);
    add(issue, name, `≥ ${target}`, measured, ok ? `${measured.toFixed(2)} (${detail})` : 'not measured', ok && measured >= target,
      ok ? measured / target - 1 : null);
  };
  const atMost = (issue, name, measured, target, unit, detail) => {
    const ok = Number.isFinite(measured);
    add(issue, name, `≤ ${target}${unit}`, measured, ok ? `${fmtB(measured, 2)}${unit}${detail ? ` (${detail})` : ''}` : 'not measured',
      ok && measured <= target, ok ? target / measured - 1 : null);
  };
  const raw = results.raw.heap;
  const zName = DEFAULT_SUBJECT.zcache;
  const z = findRow(results, zName, 'heap');
  const vs = (op, ref) => `${fmtInt(z?.[op]?.pagesPerSec)} vs ${fmtInt(raw?.[ref]?.pagesPerSec)} pages/s`;

  // ---- issue 11
  for (const a of ['zsmalloc', 'z3fold']) {
    const row = findRow(results, `zcache/${a}`, 'heap');
    const r = ratioToLz4(results, row);
    const detail = `pool ${fmtB(row?.poolRatio, 2)}× vs LZ4 ${fmtB(raw?.ratio, 2)}×`;
    if (a === 'zsmalloc') atLeast(11, 'pool ratio ÷ LZ4 ratio, zsmalloc (heap)', r, 0.95, detail);
    else add(11, 'pool ratio ÷ LZ4 ratio, z3fold (heap)', 'reported', r, Number.isFinite(r) ? `${r.toFixed(2)} (${detail})` : 'not measured', true, null);
  }
  const mem = memRow(results, 'zcache/zsmalloc');
  atMost(11, 'native metadata per stored page, zsmalloc', mem?.metadataPerPage, 16, ' B', 'zcache/metadata_bytes ÷ stored_pages');
  if (raw && z) {
    atLeast(11, `single-page store ÷ raw compress, ${zName} (heap)`, z.store.pagesPerSec / raw.compress.pagesPerSec, 0.95, vs('store', 'compress'));
    atLeast(11, `single-page load ÷ raw decompress, ${zName} (heap)`, z.load.pagesPerSec / raw.decompress.pagesPerSec, 0.92, vs('load', 'decompress'));
    atLeast(11, `batch store ÷ raw compress, ${zName} (heap)`, z.storeBatch?.pagesPerSec / raw.compress.pagesPerSec, 0.97, vs('storeBatch', 'compress'));
    atLeast(11, `batch load ÷ raw decompress, ${zName} (heap)`, z.loadBatch?.pagesPerSec / raw.decompress.pagesPerSec, 0.95, vs('loadBatch', 'decompress'));
  }
  const churn = results.churn?.find((c) => c.allocator === 'zsmalloc');
  atMost(11, `pool frames after churn ÷ ideal, zsmalloc (${fmtInt(churn?.pages)} pages, half freed, compacted)`, churn?.ratioToIdeal, 1.1, '',
    churn ? `${fmtInt(churn.framesAfterCompact)} frames, ideal ${fmtInt(churn.idealFrames)}` : '');
  const wb = writebackRows(results, 'zcache/zsmalloc').sync;
  const pw = results.pwrite?.pwrite?.pagesPerSec;
  atLeast(11, 'writeback pages/s ÷ raw sequential 4 KiB pwrite, zsmalloc', wb?.pagesPerSec / pw, 0.5,
    `${fmtInt(wb?.pagesPerSec)} vs ${fmtInt(pw)} pages/s`);

  // zcache-js as dense as zcache with the same allocator (the native-vs-JS comparison like for like).
  const nativeAllocators = ALLOCATOR_SUBJECTS.filter((s) => s.backend === 'zcache').map((s) => s.allocator);
  for (const a of ALLOCATOR_SUBJECTS.filter((s) => s.backend === 'zcache-js' && nativeAllocators.includes(s.allocator)).map((s) => s.allocator)) {
    const js = findRow(results, `zcache-js/${a}`, 'heap');
    const nat = findRow(results, `zcache/${a}`, 'heap');
    const r = js?.poolRatio / nat?.poolRatio;
    add(11, `pool ratio zcache-js ÷ zcache, both ${a} (heap)`, 'reported', r,
      Number.isFinite(r) ? `${r.toFixed(2)} (${fmtB(js.poolRatio, 2)}× vs ${fmtB(nat.poolRatio, 2)}×)` : 'not measured', true, null);
  }

  // ---- issue 7, what still applies
  const zjs = findRow(results, DEFAULT_SUBJECT['zcache-js'], 'heap');
  if (z && zjs) {
    atLeast(7, 'zcache / zcache-js, store (heap)', z.store.pagesPerSec / zjs.store.pagesPerSec, 10,
      `${fmtInt(z.store.pagesPerSec)} vs ${fmtInt(zjs.store.pagesPerSec)} pages/s`);
    atLeast(7, 'zcache / zcache-js, load (heap)', z.load.pagesPerSec / zjs.load.pagesPerSec, 3,
      `${fmtInt(z.load.pagesPerSec)} vs ${fmtInt(zjs.load.pagesPerSec)} pages/s`);
  }
  const zero = findRow(results, zName, 'zero');
  if (zero) {
    const v = zero.store.pagesPerSec;
    add(7, 'zcache store of zero-filled pages', '≥ 2,000,000 pages/s', v, `${fmtInt(v)} pages/s`, v >= 2e6, v / 2e6 - 1);
  }
  const zmem = memRow(results, zName);
  if (zmem) {
    const h = zmem.heapPerPage;
    // "≈ 0": under 1 byte per stored page after a full gc.
    add(7, 'V8 heap growth per stored page', '≈ 0 (< 1 B)', h, `${fmtB(h, 3)} B`, Math.abs(h) < 1, Math.abs(h) < 1 ? null : 1 / Math.abs(h) - 1);
  }
  if (z) {
    for (const peer of COMPRESSING_PEERS) {
      const p = findRow(results, peer, 'heap');
      if (!p) continue;
      for (const op of ['store', 'load']) {
        const r = z[op].pagesPerSec / p[op].pagesPerSec;
        add(7, `zcache faster than ${peer}, ${op} (heap)`, '> 1×', r,
          `${r.toFixed(2)}× (${fmtInt(z[op].pagesPerSec)} vs ${fmtInt(p[op].pagesPerSec)} pages/s)`, r > 1, r - 1);
      }
    }
  }
  return out;
}
