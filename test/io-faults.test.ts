// I/O faults in the swap files, for every backend × allocator: the iofault LD_PRELOAD shim
// (test/faults/iofault.c) makes pwrite/pwritev/pread fail with EIO or ENOSPC, or return short
// counts, on a schedule, for the swap files only. A child process under the shim (the soak's
// worker, test/soak/worker.mjs, on the built package in dist/) runs the swap layer, frontswap,
// cleancache and SwapCache against a model with writeback on a tiny pool and backend reloads;
// here we check what it saw: no page lost or wrong, every error an ERR_TMEM_IO carrying the errno
// error, and that the faults really were injected where they should be.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIofault, FaultControl } from './faults/iofault.mjs';
import { runWorker } from './soak/run-worker.mjs';
import { backendsUnderTest } from './support/backends';
import { tempDir } from './support/pages';

const tmp = tempDir();
let shim = '';
beforeAll(() => {
  expect(existsSync(join(__dirname, '..', 'dist', 'index.js')), 'dist/ is built (npm run build)').toBe(true);
  shim = buildIofault(tmp.dir);
});
afterAll(() => tmp.cleanup());

describe('the iofault shim', () => {
  // Each line of the child's output: the call and what it returned (bytes or an errno code).
  const probe = `
    const fs = require('node:fs');
    const [watched, other] = process.argv.slice(1);
    const b = Buffer.alloc(4096, 7);
    const log = (what, f) => { try { console.log(what, f()); } catch (e) { console.log(what, e.code); } };
    const w = fs.openSync(watched, 'w+'), o = fs.openSync(other, 'w+');
    for (let i = 0; i < 3; i++) log('pwrite', () => fs.writeSync(w, b, 0, 4096, i * 4096));
    log('pwritev', () => fs.writevSync(w, [b, b], 0));
    log('pread', () => fs.readSync(w, b, 0, 4096, 0));
    log('preadv', () => fs.readvSync(w, [b, b], 0));
    log('fsync', () => fs.fsyncSync(w));
    log('fdatasync', () => fs.fdatasyncSync(w));
    log('other pwrite', () => fs.writeSync(o, b, 0, 4096, 0));
    log('other pread', () => fs.readSync(o, b, 0, 4096, 0));
    log('other fsync', () => fs.fsyncSync(o));
  `;

  it('fails the calls its schedule names, on files under its prefix only', () => {
    const dir = join(tmp.dir, 'probe');
    mkdirSync(join(dir, 'swap'), { recursive: true });
    const control = FaultControl.create(join(dir, 'control'), 5);
    control.set('write', { mode: 'eio', every: 2 });
    control.set('read', { mode: 'short', every: 1, budget: 1 });
    control.set('sync', { mode: 'enospc', every: 1 });
    const r = spawnSync(process.execPath, ['-e', probe, join(dir, 'swap', 'f'), join(dir, 'other')], {
      env: { ...process.env, ...control.env(shim, join(dir, 'swap') + '/') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['pwrite 4096', 'pwrite EIO', 'pwrite 4096', 'pwritev EIO']);
    const shortRead = Number(lines[4].split(' ')[1]);
    expect(shortRead).toBeGreaterThan(0);
    expect(shortRead).toBeLessThan(4096);
    expect(lines.slice(5)).toEqual(['preadv 8192', 'fsync ENOSPC', 'fdatasync ENOSPC', 'other pwrite 4096', 'other pread 4096', 'other fsync undefined']);
    expect(control.counts('write')).toEqual({ calls: 4, faults: 2 });
    expect(control.counts('read')).toEqual({ calls: 2, faults: 1 });
    expect(control.counts('sync')).toEqual({ calls: 2, faults: 2 });
    control.close();
  });
});

describe.each(backendsUnderTest)('swap-file I/O faults with $label', ({ backend, allocator }) => {
  const run = (name: string, faults: string) =>
    runWorker(join(tmp.dir, `${backend}-${allocator}-${name}`), {
      backend,
      allocator,
      faults,
      ops: 40_000,
      seed: 20261214,
      phaseOps: 2000,
      reloadEvery: 16_000,
      verifyEvery: 10_000,
    }, shim);

  it('EIO, ENOSPC and short counts: no page lost or wrong, every error ERR_TMEM_IO with its cause', async () => {
    const r = await run('mixed', 'mixed');
    expect(r.crashed, r.output).toBeUndefined();
    console.log(`${backend}/${allocator} under faults: ${JSON.stringify({ errors: r.errors, faults: r.faults, reject_reclaim_fail: r.reject_reclaim_fail, reloads: r.reloads })}`);
    expect(r.failures, `seed ${r.seed}`).toEqual([]);
    expect(r.failureCount).toBe(0);
    // The faults reached every path: refused stores and reads of the file, writeback, unload.
    expect(r.faults.write.faults).toBeGreaterThan(50);
    expect(r.faults.read.faults).toBeGreaterThan(20);
    expect(r.errors['ERR_TMEM_IO/EIO']).toBeGreaterThan(0);
    expect(r.errors['ERR_TMEM_IO/ENOSPC']).toBeGreaterThan(0);
    expect(r.reject_reclaim_fail).toBeGreaterThan(0);
    expect(r.written_back_pages).toBeGreaterThan(0);
    expect(r.reloads).toBeGreaterThanOrEqual(2);
  });

  it('short reads and writes are continued: no error at all, nothing lost', async () => {
    const r = await run('short', 'short');
    expect(r.crashed, r.output).toBeUndefined();
    expect(r.failures, `seed ${r.seed}`).toEqual([]);
    expect(r.errors).toEqual({});
    expect(r.faults.write.faults).toBeGreaterThan(100);
    expect(r.faults.read.faults).toBeGreaterThan(100);
    expect(r.written_back_pages).toBeGreaterThan(0);
  });
});
