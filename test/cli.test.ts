// The `tmem` command, run from dist/ as a child process like a user would.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOCATORS } from '../lib/index';

const root = join(__dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
const TINY = ['--data-mib', '8', '--resident-mib', '2', '--pool-mib', '4'];

function tmem(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a demo in the background; resolves once its stderr has a line matching `ready`. */
function startDemo(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [main, 'demo', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = err.match(ready);
      if (m) resolve({ child, match: m, exit });
    });
    child.once('exit', (code) => reject(new Error(`demo exited (${code}) before ready: ${err}`)));
  });
}

let dir: string;
beforeAll(() => {
  try {
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing CLI is fatal here.
    if (!existsSync(main)) throw err;
  }
  dir = mkdtempSync(join(tmpdir(), 'tmem-cli-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tmem demo', () => {
  it('runs a tiny workload to a correct JSON summary', () => {
    const r = tmem(['demo', ...TINY, '--ops', '20000', '--json']);
    expect(r.stderr).not.toMatch(/mismatch(es)? [1-9]/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.mismatches).toBe(0);
    expect(s.ops).toBe(20000);
    expect(s.gets + s.sets).toBe(20000);
    expect(s.verified).toBe(s.gets);
    expect(s.gets).toBeGreaterThan(15000);
    expect(s.dataBytes).toBeGreaterThanOrEqual(8 * 2 ** 20 * 0.95);
    expect(s.residentBytes).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(s.poolBytes).toBeGreaterThan(0);
    expect(s.poolBytes).toBeLessThanOrEqual(4 * 2 ** 20);
    expect(s.compressionRatio).toBeGreaterThan(1);
    expect(s.allocator).toBe(ALLOCATORS[s.backend as keyof typeof ALLOCATORS][0]); // the backend's default
    expect(s.poolDensity).toBeGreaterThan(0.5);
    expect(s.poolDensity).toBeLessThanOrEqual(1);
    const h = s.hitRates;
    expect(h.resident + h.pool + h.file).toBeCloseTo(1, 2);
    expect(h.resident).toBeGreaterThan(0);
    expect(h.pool + h.file).toBeGreaterThan(0); // data is 4x the resident budget: some gets leave the heap
    expect(s.opsPerSecond).toBeGreaterThan(0);
    expect(['zcache', 'zcache-js']).toContain(s.backend);
  });

  it('runs with the allocator asked for and says which', () => {
    const r = tmem(['demo', ...TINY, '--ops', '3000', '--allocator', 'z3fold', '--backend', 'zcache', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.allocator).toBe('z3fold');
    expect(s.mismatches).toBe(0);
  });

  it('prints the summary table with every row, on the JS backend too', () => {
    const r = tmem(['demo', ...TINY, '--ops', '5000', '--backend', 'zcache-js']);
    expect(r.code).toBe(0);
    for (const row of ['data size', 'resident size', 'pool size', 'swap file size', 'compression ratio', 'pool density', 'hit rate: resident', 'hit rate: pool', 'hit rate: file', 'pages written back', 'throughput']) {
      expect(r.stdout).toContain(row);
    }
    expect(r.stdout).toMatch(/verified\s+[\d,]+ values\s+0 mismatches/);
    expect(r.stdout).toMatch(/pool density\s+[01]\.\d{3}/);
    expect(r.stdout).toContain(`(zcache-js, ${ALLOCATORS['zcache-js'][0]})`);
    // Not a TTY: a few plain progress lines, not a redrawn bar.
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('run ')).length).toBeLessThanOrEqual(5);
  });
});

describe('tmem stat', () => {
  it('reads the mounted tree of a running demo, and the tree goes when the demo ends', async () => {
    const mnt = join(dir, 'mnt');
    const demo = await startDemo([...TINY, '--seconds', '60', '--mount', mnt, '--interval-ms', '100'], /run +\d+%/);
    try {
      const r = tmem(['stat', mnt]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.every((l) => /^\S+ +-?[\d.e+]+$/.test(l))).toBe(true);
      expect(r.stdout).toMatch(/^zcache\/stored_pages +\d+$/m);
      expect(r.stdout).toMatch(/^swap\/0\/file_allocated_bytes +\d+$/m);
      // Aligned: every value ends in the same column.
      expect(new Set(lines.map((l) => l.length)).size).toBe(1);
      const only = tmem(['stat', mnt, 'frontswap']);
      expect(only.stdout.trim().split('\n').every((l) => l.startsWith('frontswap/'))).toBe(true);
      const prom = tmem(['stat', mnt, '--prometheus', 'zcache']);
      expect(prom.stdout).toMatch(/^# TYPE tmem_zcache_stored_pages gauge$/m);
      expect(prom.stdout).toMatch(/^tmem_zcache_stored_pages \d+$/m);
    } finally {
      demo.child.kill('SIGINT');
    }
    expect(await demo.exit).toBe(130);
    expect(existsSync(mnt)).toBe(false);
    const gone = tmem(['stat', mnt]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reads the served tree of a --listen demo, and --watch shows rates', async () => {
    const demo = await startDemo([...TINY, '--seconds', '60', '--listen', '0'], /serving counters at (http:\/\/[^/\s]+)\/debug\/tmem[\s\S]*run +\d+%/);
    const url = demo.match[1];
    try {
      const r = tmem(['stat', url]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^frontswap\/succ_stores +\d+$/m);
      expect(r.stdout).toMatch(/^swapcache\/0\/gets_resident +\d+$/m);
      const one = tmem(['stat', `${url}/debug/tmem/zcache/stored_pages`]);
      expect(one.stdout).toMatch(/^zcache\/stored_pages +\d+\n$/);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^tmem_swap_used_pages\{type="0"\} \d+$/m);

      // --watch: redraws every interval; the second frame has rates for counters that moved.
      const watch = spawn(process.execPath, [main, 'stat', url, 'swapcache', '--watch', '0.3'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      watch.stdout!.on('data', (d) => (out += d));
      const deadline = Date.now() + 20_000;
      while (!/gets_resident +\d+ +\+[\d,.]+\/s/.test(out) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      watch.kill('SIGINT');
      const code = await new Promise((res) => watch.once('exit', res));
      expect(out).toMatch(/gets_resident +\d+ +\+[\d,.]+\/s/);
      expect(code).toBe(0);
    } finally {
      demo.child.kill('SIGINT');
    }
    await demo.exit;
    const gone = tmem(['stat', url]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^tmem: cannot reach/);
  });
});

describe('help and errors', () => {
  it('--help everywhere', () => {
    for (const args of [['--help'], ['-h'], ['help'], ['demo', '--help'], ['stat', '--help'], ['help', 'stat']]) {
      const r = tmem(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: tmem/);
      expect(r.stderr).toBe('');
    }
    expect(tmem(['demo', '--help']).stdout).toContain('--data-mib');
    expect(tmem(['stat', '--help']).stdout).toContain('--watch');
    expect(tmem(['--version']).stdout).toMatch(/^tmem \d+\.\d+\.\d+/);
  });

  it('mistakes are one line on stderr and exit code 2', () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['--frob'],
      ['demo', '--frob'],
      ['demo', '--data-mib', 'lots'],
      ['demo', '--data-mib', '0'],
      ['demo', '--backend', 'zswap'],
      ['demo', '--allocator', 'slab'],
      ['demo', '--listen', 'nope'],
      ['demo', 'extra'],
      ['stat'],
      ['stat', dir, '--frob'],
      ['stat', dir, '--watch', '-1'],
    ]) {
      const r = tmem(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      if (args.length > 0) expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      if (args.length > 0) expect(r.stderr).toMatch(/^tmem: /);
    }
  });

  it('failures are one line on stderr and exit code 1', () => {
    const missing = tmem(['stat', join(dir, 'nothing-here')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tmem: .*no such directory.*\n$/);
    const refused = tmem(['stat', 'http://127.0.0.1:1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });
});
