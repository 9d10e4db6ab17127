// `npm run bench` must not rot: run it in --smoke mode (a few hundred pages, one round per
// measurement) and check that the report has every row with sane values. Timing targets are not
// asserted here: a test machine's speed is nobody's business; the bench's targets section is.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const SUBJECTS = ['zcache', 'zcache (Pool)', 'zcache-js', 'Map', 'lz4-napi + Map', 'lz4 JS + Map', 'lmdb (compression)', 'lmdb'];
const CORPORA = ['heap', 'zero', 'random', 'text'];
const BATCHED = ['zcache', 'zcache (Pool)', 'zcache-js'];

interface Op {
  pagesPerSec: number;
  p50ns: number;
  p99ns: number;
  rounds: number;
}
interface PerfRow {
  subject: string;
  corpus: string;
  pages: number;
  kept: number;
  mismatches: number;
  batchMismatches?: number;
  store: Op;
  load: Op;
  storeBatch?: Op;
  loadBatch?: Op;
  poolRatio?: number;
  keptRatio?: number;
  poolEmpty?: boolean;
}

describe('npm run bench (--smoke)', () => {
  let out: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let r: any;
  let stdout: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'tmem-bench-test-'));
    stdout = execFileSync(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--smoke', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 170_000,
    });
    r = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  }, 180_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('carries the machine info', () => {
    for (const k of ['cpu', 'cores', 'node', 'lz4', 'tmem']) expect(r.machine[k], k).toBeTruthy();
    expect(r.mode).toBe('smoke');
  });

  it('has a raw liblz4 row per corpus with a sane ratio', () => {
    for (const c of CORPORA) {
      const raw = r.raw[c];
      expect(raw.pages, c).toBe(r.corpora[c].pages);
      expect(raw.compress.pagesPerSec).toBeGreaterThan(0);
      expect(raw.decompress.pagesPerSec).toBeGreaterThan(0);
      expect(raw.ratio).toBeGreaterThan(0.98);
    }
    expect(r.raw.random.ratio).toBeLessThan(1.01);
    expect(r.raw.zero.ratio).toBeGreaterThan(50);
    expect(r.raw.heap.ratio).toBeGreaterThan(1.2);
  });

  it('stores and reads back every page of every corpus in every subject', () => {
    for (const s of SUBJECTS) {
      for (const c of CORPORA) {
        const row: PerfRow | undefined = r.perf.find((x: PerfRow) => x.subject === s && x.corpus === c);
        expect(row, `${s} / ${c}`).toBeDefined();
        expect(row!.pages).toBe(r.corpora[c].pages);
        expect(row!.kept, `${s} / ${c} kept`).toBe(row!.pages);
        expect(row!.mismatches, `${s} / ${c} mismatches`).toBe(0);
        for (const op of [row!.store, row!.load]) {
          expect(op.pagesPerSec).toBeGreaterThan(0);
          expect(op.p50ns).toBeGreaterThan(0);
          expect(op.p99ns).toBeGreaterThanOrEqual(op.p50ns);
        }
        if (BATCHED.includes(s)) {
          expect(row!.batchMismatches, `${s} / ${c} batch`).toBe(0);
          expect(row!.storeBatch!.pagesPerSec).toBeGreaterThan(0);
          expect(row!.loadBatch!.pagesPerSec).toBeGreaterThan(0);
        }
      }
    }
  });

  it('reports pool ratios within what the compressor reached', () => {
    for (const s of ['zcache', 'zcache-js']) {
      const heap: PerfRow = r.perf.find((x: PerfRow) => x.subject === s && x.corpus === 'heap');
      expect(heap.poolRatio).toBeGreaterThan(1);
      // The pool holds at least the compressed bytes: never better than LZ4's own ratio.
      expect(heap.poolRatio).toBeLessThanOrEqual(heap.keptRatio! * (1 + 1e-9));
      const random: PerfRow = r.perf.find((x: PerfRow) => x.subject === s && x.corpus === 'random');
      expect(random.poolRatio).toBeCloseTo(1, 5);
      const zero: PerfRow = r.perf.find((x: PerfRow) => x.subject === s && x.corpus === 'zero');
      expect(zero.poolEmpty).toBe(true);
    }
  });

  it('measures memory per page for every subject and native metadata for zcache', () => {
    for (const s of SUBJECTS) {
      const m = r.memory.find((x: { subject: string }) => x.subject === s);
      expect(m, s).toBeDefined();
      expect(Number.isFinite(m.heapPerPage)).toBe(true);
      expect(Number.isFinite(m.rssPerPage)).toBe(true);
    }
    const z = r.memory.find((x: { subject: string }) => x.subject === 'zcache');
    expect(z.metadataPerPage).toBeGreaterThan(0);
    expect(z.metadataPerPage).toBeLessThan(4096);
  });

  it('has the writeback rows and the raw pwrite baseline', () => {
    expect(r.pwrite.pwrite.pagesPerSec).toBeGreaterThan(0);
    expect(r.writeback.length).toBe(2);
    for (const w of r.writeback) {
      // Either measured, or honestly marked as not available.
      if (w.available) expect(w.pagesPerSec).toBeGreaterThan(0);
      else expect(w.note).toMatch(/^n\/a/);
    }
  });

  it('lists every target with a verdict, and writes Markdown, JSON and SVG', () => {
    expect(r.targets.length).toBeGreaterThanOrEqual(15);
    for (const t of r.targets) {
      expect(typeof t.pass).toBe('boolean');
      expect(t.display).toBeTruthy();
    }
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('### Targets');
    expect(md).toContain('raw liblz4');
    expect(md).toContain(r.machine.cpu);
    expect(stdout).toContain('### Targets');
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Corpora are generated per run and removed, never left behind.
    expect(existsSync(join(out, 'corpus'))).toBe(false);
  });
});
