// What each mode runs: the worker specs of every part, from one table of presets.
//
// matrix     1 KiB JSON values, every subject, data ÷ budget 1, 5 and 25, every workload
//            (zipf-0.99 / zipf-0.7 / uniform × C / B / A). A budget B gives lru-cache
//            maxSize B and SwapCache residentBytes B/2 + a B/2 compressed pool (the same memory
//            for values); Map, lmdb and redis-server hold everything whatever the budget, so they
//            run once.
// sizes      100 B, 1 KiB, 4 KiB values from JSON and from real heap pages at data ÷ budget 5,
//            zipf-0.99 B.
// tiers      SwapCache arranged so one tier serves every get (uniform keys, read only):
//            resident (budget > data), pool (256 KiB resident, a pool that holds everything),
//            file (256 KiB resident, no backend); lru-cache and Map all resident beside them,
//            and lru-cache evicting (maxSize data/5) for sets with eviction; after the populate
//            each cell sets every key once more (steady-state sets/s).
// limit      the headline: 1–5 KiB JSON values in a memory cgroup, every subject (redis-server
//            inside the same group), climbing a ladder of limits until the subject finishes.
// capacity   (--big) 10M keys of 100 B with a 64 MiB budget, and 2^24 + 2^20 keys (SwapCache
//            and Map).
import { DISTRIBUTIONS, MIXES } from './workload.mjs';

const MiB = 2 ** 20;
/** Bytes of each value corpus the orchestrator makes. */
export const CORPUS_BYTES = 16 * MiB;
/** The memory-limit runs read only this much of it: their data source counts against the limit. */
const LIMIT_CORPUS_BYTES = 4 * MiB;
export const SWAPCACHES = ['SwapCache (zcache)', 'SwapCache (zcache-js)'];
export const BUDGETED = [...SWAPCACHES, 'lru-cache'];
export const UNBOUNDED = ['Map', 'lmdb (compression)', 'redis-server'];
export const ALL_WORKLOADS = DISTRIBUTIONS.flatMap((distribution) => Object.keys(MIXES).map((mix) => ({ distribution, mix })));
const HEADLINE_WORKLOAD = { distribution: 'zipf-0.99', mix: 'B' };
/** Resident budget of the pool and file tiers: a few eviction runs, so nearly every get leaves the heap. */
const TIER_RESIDENT = 256 * 1024;

export const PRESETS = {
  // Every part and subject once, tiny: checks that it all runs (test/ycsb-bench.test.ts).
  smoke: {
    matrix: { dataBytes: 2 * MiB, ratios: [5], workloads: [HEADLINE_WORKLOAD] },
    sizes: { dataBytes: 2 * MiB, ratio: 5, sizes: [100], corpora: ['heap'], subjects: ['SwapCache (zcache)'] },
    tiers: { dataBytes: 2 * MiB, sizes: [1024] },
    limit: { dataBytes: 48 * MiB, residentBytes: 4 * MiB, poolBytes: 8 * MiB, ladder: [40 * MiB, 80 * MiB], subjects: ['SwapCache (zcache)', 'Map'] },
    throughputOps: 2_000,
    latencyOps: 1_000,
    seconds: 0.05,
  },
  quick: {
    matrix: { dataBytes: 8 * MiB, ratios: [5], workloads: [HEADLINE_WORKLOAD, { distribution: 'uniform', mix: 'A' }, { distribution: 'zipf-0.7', mix: 'C' }] },
    sizes: { dataBytes: 8 * MiB, ratio: 5, sizes: [100], corpora: ['heap'], subjects: ['SwapCache (zcache)', 'lru-cache'] },
    tiers: { dataBytes: 8 * MiB, sizes: [1024] },
    limit: { dataBytes: 128 * MiB, residentBytes: 8 * MiB, poolBytes: 16 * MiB, ladder: [96 * MiB, 160 * MiB], subjects: ['SwapCache (zcache)', 'Map'] },
    throughputOps: 20_000,
    latencyOps: 10_000,
    seconds: 0.15,
  },
  default: {
    matrix: { dataBytes: 64 * MiB, ratios: [1, 5, 25], workloads: ALL_WORKLOADS },
    sizes: { dataBytes: 16 * MiB, ratio: 5, sizes: [100, 1024, 4096], corpora: ['json', 'heap'] },
    tiers: { dataBytes: 16 * MiB, sizes: [100, 1024, 4096], repeats: 7 },
    limit: { dataBytes: 256 * MiB, residentBytes: 32 * MiB, poolBytes: 48 * MiB, ladder: [128 * MiB, 192 * MiB, 256 * MiB, 384 * MiB] },
    throughputOps: 100_000,
    latencyOps: 30_000,
    seconds: 0.3,
  },
  big: {
    capacity: [
      { subject: 'SwapCache (zcache)', n: 10_000_000, valueSize: 100, residentBytes: 32 * MiB, poolBytes: 32 * MiB, target: '10M' },
      { subject: 'SwapCache (zcache)', n: 2 ** 24 + 2 ** 20, valueSize: 100, residentBytes: 32 * MiB, poolBytes: 32 * MiB, target: '2^24' },
      { subject: 'Map', n: 2 ** 24 + 2 ** 20, valueSize: 100, target: '2^24' },
    ],
    sampleReads: 200_000,
    throughputOps: 0,
    latencyOps: 0,
    seconds: 0,
  },
};

function budgetConfig(subject, budget) {
  if (SWAPCACHES.includes(subject)) return { residentBytes: Math.floor(budget / 2), poolBytes: Math.floor(budget / 2) };
  if (subject === 'lru-cache') return { maxSize: Math.floor(budget) };
  return {};
}

/** Every worker job of a mode: { part, spec, limits? } (spec without the run's paths). */
export function planJobs(mode, subjects) {
  const p = PRESETS[mode];
  const jobs = [];
  const common = { throughputOps: p.throughputOps, latencyOps: p.latencyOps, seconds: p.seconds, exact: false, corpusBytes: CORPUS_BYTES };
  const has = (s) => subjects.includes(s);
  const cell = (part, subject, valueSize, corpus, dataBytes, config, workloads, extra = {}) => jobs.push({
    part,
    spec: { ...common, mode: 'cell', subject, valueSize, corpus, dataBytes, n: Math.floor(dataBytes / avgSize(valueSize)), config, workloads, ...extra },
  });
  if (p.matrix) {
    const { dataBytes, ratios, workloads } = p.matrix;
    for (const s of BUDGETED.filter(has)) {
      for (const ratio of ratios) cell('matrix', s, 1024, 'json', dataBytes, budgetConfig(s, dataBytes / ratio), workloads, { ratio });
    }
    for (const s of UNBOUNDED.filter(has)) cell('matrix', s, 1024, 'json', dataBytes, {}, workloads, { ratio: null });
  }
  if (p.sizes) {
    const { dataBytes, ratio, sizes, corpora } = p.sizes;
    for (const s of [...BUDGETED, ...UNBOUNDED].filter((x) => has(x) && (!p.sizes.subjects || p.sizes.subjects.includes(x)))) {
      for (const corpus of corpora) {
        for (const size of sizes) {
          const config = BUDGETED.includes(s) ? budgetConfig(s, dataBytes / ratio) : {};
          cell('sizes', s, size, corpus, dataBytes, config, [HEADLINE_WORKLOAD], { ratio: BUDGETED.includes(s) ? ratio : null });
        }
      }
    }
  }
  if (p.tiers) {
    const { dataBytes, sizes, repeats = 1 } = p.tiers;
    const read = [{ distribution: 'uniform', mix: 'C' }];
    const extra = (tier) => ({ tier, repeats, setPass: true });
    for (const size of sizes) {
      for (const s of SWAPCACHES.filter(has)) {
        // 4×: besides its bytes each resident value is charged 192 B + its key for its JS-side state.
        cell('tiers', s, size, 'json', dataBytes, { residentBytes: 4 * dataBytes, poolBytes: 16 * MiB }, read, extra('resident'));
        cell('tiers', s, size, 'json', dataBytes, { residentBytes: TIER_RESIDENT, poolBytes: 2 * dataBytes }, read, extra('pool'));
        cell('tiers', s, size, 'json', dataBytes, { residentBytes: TIER_RESIDENT, poolBytes: 0, backend: 'none' }, read, extra('file'));
      }
      if (has('lru-cache')) {
        cell('tiers', 'lru-cache', size, 'json', dataBytes, { maxSize: 2 * dataBytes }, read, extra('resident'));
        cell('tiers', 'lru-cache', size, 'json', dataBytes, { maxSize: Math.floor(dataBytes / 5) }, read, extra('evict'));
      }
      if (has('Map')) cell('tiers', 'Map', size, 'json', dataBytes, {}, read, extra('resident'));
    }
  }
  if (p.limit) {
    const { dataBytes, residentBytes, poolBytes, ladder } = p.limit;
    const limitSubjects = [
      ...SWAPCACHES.map((s) => [s, { residentBytes, poolBytes }, 'residentBytes + pool']),
      ['Map', {}, 'holds everything'],
      ['lru-cache', { maxSize: 2 * dataBytes }, 'maxSize ≥ data: holds everything'],
      ['lru-cache', { maxSize: residentBytes + poolBytes }, 'maxSize = SwapCache\'s resident + pool'],
      ['lmdb (compression)', {}, 'holds everything (page cache)'],
      ['redis-server', {}, 'holds everything, server in the same cgroup'],
    ].filter(([s]) => has(s) && (!p.limit.subjects || p.limit.subjects.includes(s)));
    for (const [s, config, about] of limitSubjects) {
      jobs.push({
        part: 'limit',
        ladder,
        spec: { ...common, exact: true, corpusBytes: LIMIT_CORPUS_BYTES, mode: 'cell', subject: s, valueSize: { min: 1024, max: 5120 }, corpus: 'json', dataBytes,
          n: Math.floor(dataBytes / avgSize({ min: 1024, max: 5120 })), config, workloads: [HEADLINE_WORKLOAD], about },
      });
    }
  }
  if (p.capacity) {
    for (const c of p.capacity.filter((x) => has(x.subject))) {
      const config = c.residentBytes ? { residentBytes: c.residentBytes, poolBytes: c.poolBytes } : {};
      jobs.push({ part: 'capacity', spec: { mode: 'capacity', corpusBytes: CORPUS_BYTES, subject: c.subject, n: c.n, valueSize: c.valueSize, corpus: 'json',
        dataBytes: c.n * c.valueSize, config, sampleReads: p.sampleReads, target: c.target, seconds: 0 } });
    }
  }
  return jobs;
}

export function avgSize(size) {
  return typeof size === 'number' ? size : (size.min + size.max) / 2;
}
