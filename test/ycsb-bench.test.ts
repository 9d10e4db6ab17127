// `npm run bench:ycsb` must not rot: run it in --smoke mode (every part, every subject, tiny
// sizes) and check that the report has every row, that no subject returned a wrong value, and
// that the phases meant to isolate one SwapCache tier did. The memory-limit part needs root and
// cgroup v1 (CI has both); without them it must say why it was skipped. Timing targets are not
// asserted: they are the report's business, not a test's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const SUBJECTS = ['SwapCache (zcache)', 'SwapCache (zcache-js)', 'Map', 'lru-cache', 'lmdb (compression)', 'redis-server'];
const KEEPS_ALL = SUBJECTS.filter((s) => s !== 'lru-cache');
const CGROUPS = '/sys/fs/cgroup/memory';
const cgroupsUsable = existsSync(join(CGROUPS, 'memory.limit_in_bytes')) && process.getuid?.() === 0;

/* eslint-disable @typescript-eslint/no-explicit-any */
describe('npm run bench:ycsb (--smoke)', () => {
  let out: string;
  let r: any;
  let md: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'tmem-ycsb-test-'));
    execFileSync(process.execPath, [join(ROOT, 'bench', 'ycsb', 'run.mjs'), '--smoke', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 400_000,
    });
    r = JSON.parse(readFileSync(join(out, 'ycsb.json'), 'utf8'));
    md = readFileSync(join(out, 'ycsb.md'), 'utf8');
  }, 420_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every subject over the workload matrix and checks every value', () => {
    expect(r.mode).toBe('smoke');
    expect(r.failures).toEqual([]);
    for (const s of SUBJECTS) {
      const row = r.matrix.find((x: any) => x.subject === s);
      expect(row, s).toBeDefined();
      expect(row.populate.sets).toBe(row.n);
      for (const w of row.workloads) {
        expect(w.bad, s).toBe(0);
        expect(w.throughput.opsPerSec).toBeGreaterThan(0);
        expect(w.latency.read.p99).toBeGreaterThanOrEqual(w.latency.read.p50);
        expect(w.latency.read.count).toBeGreaterThan(0);
        expect(w.gcCount).toBeGreaterThanOrEqual(0);
        if (KEEPS_ALL.includes(s)) expect(w.hitRatio, `${s} keeps every value`).toBe(1);
      }
      expect(row.afterPopulate.rss).toBeGreaterThan(0);
      expect(row.afterPopulate.heapUsed).toBeGreaterThan(0);
    }
    // lru-cache at data ÷ budget 5 must have dropped values; its misses were reloaded.
    const lru = r.matrix.find((x: any) => x.subject === 'lru-cache');
    expect(lru.workloads[0].hitRatio).toBeLessThan(1);
    // The redis-server it started reports its own memory.
    expect(r.matrix.find((x: any) => x.subject === 'redis-server').info.serverRss).toBeGreaterThan(0);
  });

  it('isolates the SwapCache tiers it reports latencies for', () => {
    for (const s of ['SwapCache (zcache)', 'SwapCache (zcache-js)']) {
      const tier = (t: string) => r.tiers.find((x: any) => x.subject === s && x.tier === t).workloads[0];
      expect(tier('resident').tiers.resident).toBe(1);
      expect(tier('pool').tiers.pool).toBeGreaterThan(0.8);
      expect(tier('file').tiers.file).toBeGreaterThan(0.8);
    }
    expect(r.tiers.find((x: any) => x.subject === 'lru-cache' && x.tier === 'evict').workloads[0].hitRatio).toBeLessThan(1);
  });

  it('runs the memory-limit ladder in real cgroups and tells OOM kills apart', () => {
    if (!cgroupsUsable) {
      expect(r.skipped.join(' ')).toMatch(/memory-limit runs/);
      return;
    }
    const map = r.limit.find((x: any) => x.subject === 'Map');
    // 48 MiB of values in a Map cannot fit in 40 MiB.
    expect(map.attempts[0].limitBytes).toBe(40 * 2 ** 20);
    expect(map.attempts[0].outcome).toBe('OOM-killed');
    expect(map.attempts[0].oomKills).toBeGreaterThan(0);
    for (const row of r.limit) {
      for (const a of row.attempts.slice(0, -1)) expect(a.outcome).not.toBe('finished'); // the ladder stops at the first success
      const last = row.attempts[row.attempts.length - 1];
      if (last.outcome === 'finished') expect(last.result.workloads[0].bad).toBe(0);
      else expect(last.outcome).toMatch(/OOM-killed/);
    }
    // Every cgroup it made is gone.
    const made = r.limit.flatMap((x: any) => x.attempts.map((a: any) => a.cgroup));
    expect(made.every((name: string) => name.startsWith('tmem-bench-'))).toBe(true);
    expect(readdirSync(CGROUPS).filter((d) => made.includes(d))).toEqual([]);
  });

  it('lists every target with a verdict and writes the report and the chart', () => {
    const names = r.targets.map((t: any) => t.name).join('\n');
    for (const want of ['resident hits', 'pool hits', 'swap-file hits', 'sets of 100 B']) expect(names).toContain(want);
    for (const t of r.targets) expect(typeof t.pass).toBe('boolean');
    expect(md).toContain('### Targets');
    expect(md).toContain('### One tier at a time');
    expect(md).toContain(r.machine.node);
    const svg = readFileSync(join(out, 'ycsb.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});
