#!/usr/bin/env node
// `npm run bench:ycsb`: SwapCache against what Node users pick today (Map, lru-cache, lmdb,
// redis-server through ioredis), YCSB-style, and the same workload inside a memory cgroup.
//
//   node bench/ycsb/run.mjs [--quick | --smoke | --big] [--out DIR] [--dir TMPDIR] [--only a,b] [--parts p,q]
//                           [--publish]
//
// default  matrix + value sizes + per-tier latency + memory-limit ladder (~5 min on 2 cores)
// --quick  a slice of each part (< 1 min; CI runs it)
// --smoke  every part once, tiny (seconds; what test/ycsb-bench.test.ts runs)
// --big    capacity runs: 10M keys with a 64 MiB budget, and past 2^24 keys (several minutes,
//          several GiB of memory)
//
// Writes DIR/ycsb.md, DIR/ycsb.json and DIR/ycsb.svg (default DIR: bench/results/). Every job is
// one subject in its own `node --expose-gc` process (bench/ycsb/worker.mjs); memory-limit jobs
// start inside a fresh memory cgroup (needs root and cgroup v1; skipped with the reason
// otherwise). Corpora, swap files, lmdb and redis directories go to a temporary directory under
// --dir (default: the OS temp dir), removed at the end. --publish also writes the report into
// bench/README.md (between the ycsb:results markers) and the chart to bench/ycsb-chart.svg.
// Exit code 1 when any subject returned a wrong value or a job failed for another reason than
// the memory limit.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { heapPages } from '../corpus/heap-pages.mjs';
import { onJsonLines } from '../lib/json-lines.mjs';
import { replaceBetweenMarkers } from '../lib/report.mjs';
import { buildLz4Loop } from '../lib/native-build.mjs';
import { ROOT, tmem } from '../lib/subjects.mjs';
import { cgroupUnavailable, MemoryCgroup } from './cgroup.mjs';
import { svgChart } from './chart.mjs';
import { CORPUS_BYTES, planJobs, PRESETS } from './plan.mjs';
import { redisVersion } from './redis-server.mjs';
import { computeTargets, markdown } from './report.mjs';
import { SUBJECTS } from './subjects.mjs';
import { jsonCorpus } from './values.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    big: { type: 'boolean', default: false },
    out: { type: 'string' },
    dir: { type: 'string' },
    only: { type: 'string' },
    parts: { type: 'string' },
    publish: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1);
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  process.stdout.write(`${header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}

const mode = args.big ? 'big' : args.quick ? 'quick' : args.smoke ? 'smoke' : 'default';
const subjects = args.only ? args.only.split(',').map((s) => s.trim()) : Object.keys(SUBJECTS);
for (const s of subjects) if (!SUBJECTS[s]) throw new Error(`unknown subject '${s}' (known: ${Object.keys(SUBJECTS).join(', ')})`);
const outDir = resolve(args.out ?? join(ROOT, 'bench', 'results'));
const WORKER = join(ROOT, 'bench', 'ycsb', 'worker.mjs');

const t0 = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
let jobIndex = 0;
let jobCount = 0;
const tty = process.stderr.isTTY;
function status(label) {
  const line = `[${jobIndex}/${jobCount} ${clock()}] ${label}`;
  if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
  else process.stderr.write(`${line}\n`);
}

/** Runs one worker; never rejects. Servers it reports are killed if still alive afterwards. */
function runWorker(spec, { cgroup, nodeArgs = [] } = {}) {
  return new Promise((done) => {
    const argv = [process.execPath, '--expose-gc', ...nodeArgs, WORKER, JSON.stringify(spec)];
    const opts = { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT };
    const child = cgroup ? cgroup.spawn(argv, opts) : spawn(argv[0], argv.slice(1), opts);
    const out = { result: null, error: null, last: null, servers: [], stderr: '' };
    let lastLabel = '';
    onJsonLines(child.stdout, (msg) => {
      if (msg.serverPid) out.servers.push(msg.serverPid);
      if (msg.result) out.result = msg.result;
      if (msg.error) out.error = msg.error;
      if (msg.phase) out.last = { phase: msg.phase, done: msg.done, progress: msg.progress };
      if (msg.label && msg.label !== lastLabel) status((lastLabel = msg.label));
    });
    child.stderr.on('data', (d) => {
      out.stderr = (out.stderr + d).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      for (const pid of out.servers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already stopped by the worker
        }
      }
      done({ ...out, code, signal });
    });
  });
}

function workerFailure(r) {
  return r.error ?? `exit ${r.code ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
}

/** One memory-limit job: the ladder of limits, lowest first, until the subject finishes. */
async function limitJob(job, index) {
  const attempts = [];
  for (const limit of job.ladder) {
    status(`${job.spec.subject} in a ${limit >> 20} MiB memory cgroup`);
    const group = new MemoryCgroup(`${index}-${limit >> 20}`, limit);
    let r;
    let st;
    try {
      r = await runWorker(job.spec, { cgroup: group });
      st = group.stats();
    } finally {
      group.remove();
    }
    const killed = st.oomKills > 0;
    const outcome = r.result ? 'finished' : killed ? (r.signal === 'SIGKILL' ? 'OOM-killed' : 'a process of it OOM-killed') : 'failed';
    attempts.push({ cgroup: group.name, limitBytes: st.limitBytes, outcome, peakBytes: st.peakBytes, oomKills: st.oomKills, signal: r.signal, code: r.code,
      last: r.last, result: r.result, error: r.result ? null : workerFailure(r) });
    if (r.result) break;
  }
  return { subject: job.spec.subject, about: job.spec.about, config: job.spec.config, dataBytes: job.spec.dataBytes, n: job.spec.n, attempts };
}

/**
 * The latency floor of the file tier: O_DIRECT random 4 KiB reads of a file as large as the
 * biggest file-tier data set, on the disk the swap files were on (bench/native/lz4-loop.cc).
 */
function diskFloor(jobs, dir) {
  const file = jobs.filter((j) => j.part === 'tiers' && j.spec.tier === 'file');
  if (!file.length) return null;
  status('the disk itself: O_DIRECT random 4 KiB reads');
  const pages = Math.ceil(Math.max(...file.map((j) => j.spec.dataBytes)) / 4096);
  try {
    const out = execFileSync(buildLz4Loop(ROOT), ['pread', join(dir, 'disk-floor.bin'), String(pages), String(PRESETS[mode].latencyOps)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out);
  } catch (err) {
    return { error: `${err.stderr?.toString().trim() || err.message}`.split('\n')[0] };
  }
}

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function machineInfo() {
  const v = tmem().versions();
  let commit;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.versions.node,
    tmem: v.tmem,
    commit,
    lz4: v.lz4,
    nativeError: v.nativeError,
    loadavg: Math.round(os.loadavg()[0] * 100) / 100,
    peers: { 'lru-cache': pkgVersion('lru-cache'), lmdb: pkgVersion('lmdb'), ioredis: pkgVersion('ioredis'), 'redis-server': redisVersion() },
  };
}

async function main() {
  const startedAt = new Date().toISOString();
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing; run `npm install` (or `npm run build`) first');
  const machine = machineInfo();
  if (subjects.includes('SwapCache (zcache)') && !machine.lz4) {
    throw new Error(`the native addon is not available: ${machine.nativeError ?? 'run npm install'}`);
  }
  if (subjects.includes('redis-server') && !machine.peers['redis-server']) {
    throw new Error('redis-server is not installed (apt-get install redis-server), or leave it out with --only');
  }
  let jobs = planJobs(mode, subjects);
  if (args.parts) {
    const parts = args.parts.split(',');
    jobs = jobs.filter((j) => parts.includes(j.part));
  }
  const noCgroup = cgroupUnavailable();
  const skipped = [];
  if (noCgroup && jobs.some((j) => j.part === 'limit')) {
    skipped.push(`memory-limit runs: ${noCgroup}`);
    jobs = jobs.filter((j) => j.part !== 'limit');
  }
  jobCount = jobs.length;
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(args.dir ? resolve(args.dir) : os.tmpdir(), 'tmem-ycsb-'));
  const failures = [];
  const results = { mode, startedAt, machine, skipped, matrix: [], sizes: [], tiers: [], limit: [], capacity: [], disk: null };
  try {
    status('making value corpora (JSON records; real heap pages of a live Node process)');
    const corpusFiles = { json: join(work, 'json.corpus'), heap: join(work, 'heap.corpus') };
    writeFileSync(corpusFiles.json, jsonCorpus(CORPUS_BYTES));
    writeFileSync(corpusFiles.heap, await heapPages({ maxPages: CORPUS_BYTES / 4096 }));
    for (const [index, job] of jobs.entries()) {
      jobIndex = index + 1;
      const spec = { ...job.spec, corpusFile: corpusFiles[job.spec.corpus], tmp: work };
      if (job.part === 'limit') {
        const row = await limitJob({ ...job, spec }, index);
        results.limit.push(row);
        for (const a of row.attempts) if (a.outcome === 'failed') failures.push(`${row.subject} in ${a.limitBytes >> 20} MiB: ${a.error}`);
        continue;
      }
      status(`${job.part} · ${spec.subject}`);
      const nodeArgs = job.part === 'capacity' ? ['--max-old-space-size=16384'] : [];
      const r = await runWorker(spec, { nodeArgs });
      if (job.part === 'capacity') {
        // A subject that cannot hold that many keys fails in populate and says where: a result.
        results.capacity.push(r.result ?? { subject: spec.subject, n: spec.n, target: spec.target, error: workerFailure(r) });
      } else if (r.result) {
        results[job.part].push({ ...r.result, ratio: spec.ratio, tier: spec.tier });
      } else {
        failures.push(`${job.part} ${spec.subject} ${spec.valueSize} B ${spec.corpus}${spec.tier ? ` (${spec.tier})` : ''}: ${workerFailure(r)}`);
      }
    }
    results.disk = diskFloor(jobs, work);
  } finally {
    if (tty) process.stderr.write('\r\x1b[2K');
    rmSync(work, { recursive: true, force: true });
  }
  results.seconds = (Date.now() - t0) / 1000;
  results.loadavgEnd = Math.round(os.loadavg()[0] * 100) / 100;
  results.preset = { throughputOps: PRESETS[mode].throughputOps, latencyOps: PRESETS[mode].latencyOps, seconds: PRESETS[mode].seconds };
  results.failures = failures;
  results.targets = computeTargets(results);
  const md = markdown(results);
  const svg = svgChart(results);
  writeFileSync(join(outDir, 'ycsb.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'ycsb.md'), md);
  writeFileSync(join(outDir, 'ycsb.svg'), svg);
  process.stdout.write(`${md}\nwritten: ${join(outDir, 'ycsb.md')}, ycsb.json, ycsb.svg (${Math.round(results.seconds)} s)\n`);
  if (args.publish) publish(md, svg);
  const cells = [...results.matrix, ...results.sizes, ...results.tiers, ...results.limit.flatMap((r) => r.attempts.map((a) => a.result).filter(Boolean))];
  for (const r of cells.filter((c) => c.workloads.some((w) => w.bad > 0))) failures.push(`${r.subject} returned wrong values (${JSON.stringify(r.valueSize)} B ${r.corpus})`);
  for (const c of results.capacity.filter((x) => x.sample && x.sample.bad + x.sample.missing > 0)) failures.push(`${c.subject} lost or corrupted values of ${c.n} keys`);
  if (failures.length) {
    process.stderr.write(`\nbench:ycsb failures:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

function publish(md, svg) {
  const readme = join(ROOT, 'bench', 'README.md');
  // Under the README's "Latest results" heading: the report's title becomes a line, its sections level 4.
  replaceBetweenMarkers(readme, 'ycsb:results',
    `\n![SwapCache against its peers](ycsb-chart.svg)\n\n${md.replace(/^## (.*)$/m, '**$1**').replace(/^### /gm, '#### ')}`);
  writeFileSync(join(ROOT, 'bench', 'ycsb-chart.svg'), svg);
  process.stdout.write(`published: ${readme}, bench/ycsb-chart.svg\n`);
}

main().catch((err) => {
  if (tty) process.stderr.write('\r\x1b[2K');
  console.error(err?.stack ?? err);
  process.exit(1);
});
