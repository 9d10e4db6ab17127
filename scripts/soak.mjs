// `npm run soak`: seeded differential runs of every backend × allocator (ALLOCATORS) across the
// swap layer, frontswap, cleancache and SwapCache, on a tiny pool with writeback, backend reloads
// and injected I/O faults (the iofault LD_PRELOAD shim, test/faults/), each in its own process
// (test/soak/worker.mjs). Prints ops/s, coded errors, faults injected and failures per run; exits
// non-zero on any failure. Uses the built package (dist/): run `npm run build` first.
//
// --ops is per backend, shared evenly by its allocators (10M for zcache with three allocators is
// three runs of 3,333,334 ops).
//
//   npm run soak                                  10M ops per backend, seed from the clock
//   npm run soak -- --ops 1000000 --seed 7        CI size
//   npm run soak -- --backend zcache-js --faults none
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALLOCATORS } from 'tmem';
import { buildIofault } from '../test/faults/iofault.mjs';
import { runWorker } from '../test/soak/run-worker.mjs';

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '10000000' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    faults: { type: 'string', default: 'mixed' },
  },
});
const backendOps = Number(args.ops);
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
const runs = Object.entries(ALLOCATORS)
  .filter(([backend]) => args.backend === undefined || backend === args.backend)
  .flatMap(([backend, allocators]) =>
    allocators.map((allocator) => ({ backend, allocator, ops: Math.ceil(backendOps / allocators.length) })),
  );
if (runs.length === 0) throw new Error(`no backend named ${args.backend}`);

const root = mkdtempSync(join(tmpdir(), 'tmem-soak-'));
const lib = args.faults === 'none' ? null : buildIofault(root);

console.log(`soak: ${backendOps.toLocaleString('en-US')} ops per backend, seed ${seed}, faults ${args.faults}, ${runs.length} run(s)`);
let failed = false;
const totals = {};
try {
  // One run at a time: the rates printed are then each run's own.
  for (const [i, { backend, allocator, ops }] of runs.entries()) {
    const params = { backend, allocator, ops, seed: seed + i, faults: args.faults };
    const r = await runWorker(join(root, `${backend}-${allocator}`), params, lib);
    const label = `${backend}/${allocator}`;
    if (r.crashed) {
      failed = true;
      console.log(`${label}: CRASHED (${r.crashed}), seed ${r.seed}\n${r.output}`);
      continue;
    }
    const injected = r.faults ? Object.entries(r.faults).map(([c, f]) => `${c} ${f.faults}/${f.calls}`).join(', ') : 'none';
    console.log(
      `${label}: ${r.ops.toLocaleString('en-US')} ops in ${r.seconds.toFixed(1)} s = ${r.opsPerSec.toLocaleString('en-US')} ops/s; ` +
        `mismatches/failures ${r.failureCount} ${JSON.stringify(r.failureKinds)}; reloads ${r.reloads} (${r.unloadRetries} failed unloads retried); ` +
        `written back ${r.written_back_pages}, reject_reclaim_fail ${r.reject_reclaim_fail}; ` +
        `faults injected (faults/calls) ${injected}; coded errors ${JSON.stringify(r.errors)}`,
    );
    for (const f of r.failures) console.log(`  ${f}`);
    if (r.failureCount > 0) failed = true;
    const t = (totals[backend] ??= { ops: 0, seconds: 0, failures: 0 });
    t.ops += r.ops;
    t.seconds += r.seconds;
    t.failures += r.failureCount;
  }
  for (const [backend, t] of Object.entries(totals)) {
    console.log(
      `${backend}: ${t.ops.toLocaleString('en-US')} ops in ${t.seconds.toFixed(1)} s = ` +
        `${Math.round(t.ops / t.seconds).toLocaleString('en-US')} ops/s; mismatches/failures ${t.failures}`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
