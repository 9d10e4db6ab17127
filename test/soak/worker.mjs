// One seeded differential run against one backend, in its own process (run under the iofault shim
// when faults are asked for): swap-layer, frontswap, cleancache and SwapCache ops interleaved on a
// tiny pool so that writeback, refused stores and file I/O are constant, with the backend unloaded
// and loaded again mid-run and I/O faults in phases (calm, drizzle, storm). Every so often the
// faults stop and every page and value the model holds is read back. Prints one line,
// `SOAK_RESULT {json}`, for the parent (scripts/soak.mjs, test/io-faults.test.ts).
//
//   node test/soak/worker.mjs '{"backend":"zcache","allocator":"zbud","ops":100000,"seed":1,"dir":"/tmp/x","faults":"mixed"}'
import { closeSync, linkSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { debugfs, loadBackend, loadedBackend, swapon, unloadBackend } from 'tmem';
import { FaultControl } from '../faults/iofault.mjs';
import { rng } from '../support/rng.mjs';
import { CleancacheDriver } from './cleancache-driver.mjs';
import { FrontswapDriver } from './frontswap-driver.mjs';
import { PageSource } from './pages.mjs';
import { SwapCacheDriver } from './swapcache-driver.mjs';
import { SwapDriver } from './swap-driver.mjs';
import { Tally } from './tally.mjs';

const PAGE = 4096;
const config = {
  poolPages: 96,
  phaseOps: 4000,
  reloadEvery: 60_000,
  verifyEvery: 50_000,
  faults: 'none',
  ...JSON.parse(process.argv[2]),
};
const { backend, allocator, ops, seed, dir } = config;

/**
 * Fault rules per phase, and the rules a reload's unload runs under. 'short' keeps short counts on
 * all the time: they must be continued and cause no error at all.
 */
const SCHEDULES = {
  none: { phases: [{}], unload: {} },
  short: {
    phases: [{ write: { mode: 'short', ppm: 300_000 }, read: { mode: 'short', ppm: 300_000 } }],
    unload: { write: { mode: 'short', ppm: 300_000 } },
  },
  mixed: {
    phases: [
      {},
      { write: { mode: 'mixed', ppm: 20_000 }, read: { mode: 'mixed', ppm: 20_000 } },
      { write: { mode: 'mixed', every: 1, budget: 64 }, read: { mode: 'eio', every: 3, budget: 32 } },
      { write: { mode: 'short', ppm: 100_000 }, read: { mode: 'mixed', ppm: 5_000 } },
    ],
    unload: { write: { mode: 'mixed', ppm: 30_000 } },
  },
};
const COUNTERS = ['written_back_pages', 'reject_reclaim_fail', 'pool_limit_hit'];

const faults = config.faults === 'none' ? null : FaultControl.fromEnv();
const schedule = SCHEDULES[config.faults];
const tally = new Tally();
const rand = rng(seed);
const src = new PageSource(seed);
const backendOptions = { maxPoolBytes: config.poolPages * PAGE, allocator };
const totals = { reloads: 0, unloadRetries: 0, ...Object.fromEntries(COUNTERS.map((c) => [c, 0])) };

function setPhase(phase) {
  if (!faults) return;
  faults.off();
  for (const [cls, rule] of Object.entries(phase)) faults.set(cls, rule);
}

function accumulate() {
  for (const c of COUNTERS) totals[c] += debugfs.read(`zcache/${c}`);
}

const swapDir = join(dir, 'swap');
const checkDir = join(dir, 'check');
mkdirSync(swapDir, { recursive: true });
mkdirSync(checkDir, { recursive: true });
const swapArea = swapon(join(swapDir, 'area'), { pages: 4096 });
const fsArea = swapon(join(swapDir, 'frontswap'), { pages: 2048 });
// The frontswap driver checks written-back pages in the file through a link the shim does not watch.
linkSync(fsArea.path, join(checkDir, 'frontswap'));
const fsFileFd = openSync(join(checkDir, 'frontswap'), 'r');
await loadBackend(backend, backendOptions);

// Page ids are disjoint per driver, so a page showing up in the wrong place is detected.
const drivers = [
  [0.35, new SwapDriver(swapArea, src, tally, rand, 1)],
  [0.6, new FrontswapDriver(fsArea, fsFileFd, src, tally, rand, 1 << 28)],
  [0.8, new CleancacheDriver(src, tally, rand, 2 << 28)],
  [1, new SwapCacheDriver({ residentBytes: 48 << 10, path: join(swapDir, 'swapcache'), pages: 8192 }, src, tally, rand, 3 << 28)],
];
const [swapDriver, fsDriver, ccDriver, scDriver] = drivers.map(([, d]) => d);

function verify(when) {
  setPhase({});
  swapDriver.verifyAll(when);
  fsDriver.verifyAll(when);
  scDriver.verifyAll(when);
}

async function step(n) {
  for (let i = 0; i < n; i++) {
    const r = rand();
    const driver = drivers.find(([upTo]) => r < upTo)[1];
    try {
      driver.step();
    } catch (err) {
      tally.fail(`${driver.constructor.name}: uncaught ${err?.code ?? ''} ${err?.stack ?? err}`);
    }
    tally.ops++;
    if ((tally.ops & 63) === 0) await new Promise(setImmediate);
  }
}

// Unload under write faults: a failure must be coded and leave the backend loaded with every page
// in place; after a few tries the faults stop so the run can go on.
async function reload() {
  accumulate();
  setPhase(schedule.unload);
  for (let attempt = 0; ; attempt++) {
    if (attempt === 3) setPhase({});
    try {
      await unloadBackend(backend);
      break;
    } catch (err) {
      totals.unloadRetries++;
      tally.error(err, 'unloadBackend');
      if (loadedBackend() !== backend) {
        tally.fail('a failed unloadBackend left no backend loaded');
        break;
      }
      if (attempt > 6) throw err;
    }
  }
  ccDriver.forgetAll();
  totals.reloads++;
  // A stretch with no backend at all: every hook is a no-op, pages go to the files.
  await step(Math.min(2000, config.reloadEvery >> 4));
  await loadBackend(backend, backendOptions);
}

const started = performance.now();
let phase = 0;
while (tally.ops < ops) {
  setPhase(schedule.phases[phase++ % schedule.phases.length]);
  await step(Math.min(config.phaseOps, ops - tally.ops));
  const done = tally.ops;
  if (done % config.reloadEvery < config.phaseOps && done < ops) await reload();
  if (done % config.verifyEvery < config.phaseOps) verify(`after op ${done}`);
}
const seconds = (performance.now() - started) / 1000;

verify('end of run');
accumulate();
const faultCounts = faults ? { write: faults.counts('write'), read: faults.counts('read'), sync: faults.counts('sync') } : null;
await unloadBackend(backend);
verify('after the final unload');
scDriver.close();
closeSync(fsFileFd);
unlinkSync(join(checkDir, 'frontswap'));
swapArea.swapoff();
fsArea.swapoff();

const result = { backend, allocator, seed, seconds, opsPerSec: Math.round(tally.ops / seconds), ...tally.toJSON(), faults: faultCounts, ...totals };
process.stdout.write(`SOAK_RESULT ${JSON.stringify(result)}\n`);
