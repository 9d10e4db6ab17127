#!/usr/bin/env node
// `npm run bench`: every subject over every page corpus, in one run, side by side.
//
//   node bench/run.mjs [--quick | --smoke] [--out DIR] [--dir TMPDIR] [--heap-pages N]
//                      [--synthetic-pages N] [--seconds S] [--only a,b] [--keep-corpus] [--publish]
//
// default  32,768 real heap pages + 8,192 of each synthetic set, ≥ 2 s per measurement, churn of
//          500,000 pages (~8 min)
// --quick  4,096 heap pages + 2,048 synthetic, ≥ 0.15 s per measurement, churn of 50,000 (~1 min, CI)
// --smoke  512 + 256 pages, one round each, churn of 4,000: checks that everything runs (the test
//          suite uses it)
//
// Writes DIR/latest.md (Markdown table), DIR/latest.json and DIR/latest.svg (default DIR is
// bench/results/, not committed). Swap files, lmdb databases and the pwrite file go to a fresh
// directory under --dir (default: the OS temp dir), removed at the end. Each subject runs in its
// own `node --expose-gc` child process; the raw liblz4 ceiling is bench/native/lz4-loop.cc, built
// here with the system C++ compiler against the addon's liblz4. --publish also puts the report
// into bench/README.md (between the bench:results markers) and the chart into bench/chart.svg.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPORA, makeCorpora } from './lib/corpora.mjs';
import { onJsonLines } from './lib/json-lines.mjs';
import { buildLz4Loop } from './lib/native-build.mjs';
import { computeTargets, markdown, replaceBetweenMarkers, svgChart } from './lib/report.mjs';
import { ALLOCATOR_SUBJECTS, ROOT, SUBJECTS } from './lib/subjects.mjs';

const require = createRequire(import.meta.url);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    dir: { type: 'string' },
    'heap-pages': { type: 'string' },
    'synthetic-pages': { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    'keep-corpus': { type: 'boolean', default: false },
    publish: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 16).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}

const mode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'default';
const PRESETS = {
  default: { heapPages: 32768, syntheticPages: 8192, minSeconds: 2, minRounds: 5, churnPages: 500_000 },
  quick: { heapPages: 4096, syntheticPages: 2048, minSeconds: 0.15, minRounds: 2, churnPages: 50_000 },
  smoke: { heapPages: 512, syntheticPages: 256, minSeconds: 0, minRounds: 1, churnPages: 4_000 },
};
const config = { ...PRESETS[mode], batch: 128 };
if (args['heap-pages']) config.heapPages = Number(args['heap-pages']);
if (args['synthetic-pages']) config.syntheticPages = Number(args['synthetic-pages']);
if (args.seconds) config.minSeconds = Number(args.seconds);
const subjects = args.only ? args.only.split(',').map((s) => s.trim()) : Object.keys(SUBJECTS);
for (const s of subjects) if (!SUBJECTS[s]) throw new Error(`unknown subject '${s}' (known: ${Object.keys(SUBJECTS).join(', ')})`);
const outDir = resolve(args.out ?? join(ROOT, 'bench', 'results'));

if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm install` (or `npm run build`) first');
  process.exit(1);
}

// ---- progress bar on stderr ---------------------------------------------------------------
const tty = process.stderr.isTTY;
const t0 = Date.now();
let plan = [];
let doneWeight = 0;
let lastLine = '';
function draw(fraction, label) {
  const total = plan.reduce((a, j) => a + j.weight, 0);
  const p = Math.min(1, (doneWeight + fraction) / total);
  const secs = Math.round((Date.now() - t0) / 1000);
  const clock = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
  if (tty) {
    const width = 28;
    const fill = Math.round(p * width);
    const line = `[${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${String(Math.round(p * 100)).padStart(3)}% ${clock} ${label}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
  } else if (label !== lastLine) {
    process.stderr.write(`[${String(Math.round(p * 100)).padStart(3)}% ${clock}] ${label}\n`);
  }
  lastLine = label;
}
function endBar() {
  if (tty) process.stderr.write('\r\x1b[2K');
}

// ---- jobs ------------------------------------------------------------------------------------
function runWorker(spec, weight) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'worker.mjs'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: ROOT,
    });
    let result;
    let error;
    onJsonLines(child.stdout, (msg) => {
      if (msg.progress !== undefined) draw(msg.progress * weight, msg.label);
      if (msg.result) result = msg.result;
      if (msg.error) error = msg.error;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolvePromise(result);
      else reject(new Error(`worker ${spec.mode} ${spec.subject} failed (exit ${code})${error ? `:\n${error}` : ''}`));
    });
  });
}

function runNative(bin, argv) {
  return JSON.parse(execFileSync(bin, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function machineInfo() {
  const tmem = require(join(ROOT, 'dist', 'index.js'));
  const v = tmem.versions();
  // Some peers' export maps hide package.json: walk up from the resolved entry point instead.
  const pkgVersion = (name) => {
    try {
      let dir = dirname(require.resolve(name));
      for (;;) {
        const file = join(dir, 'package.json');
        if (existsSync(file)) {
          const pkg = JSON.parse(readFileSync(file, 'utf8'));
          if (pkg.name === name) return pkg.version;
        }
        const up = dirname(dir);
        if (up === dir) return 'unknown';
        dir = up;
      }
    } catch {
      return 'not installed';
    }
  };
  let commit;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    node: process.versions.node,
    v8: process.versions.v8,
    tmem: v.tmem,
    commit,
    lz4: v.lz4,
    napi: v.napi,
    nativeError: v.nativeError,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    peers: { 'lz4-napi': pkgVersion('lz4-napi'), lmdb: pkgVersion('lmdb'), lz4js: pkgVersion('lz4js') },
  };
}

const ABOUT = {
  heap: 'real pages of a live Node process holding a service-like heap (sessions map, access log, numeric series, cached JSON)',
  zero: 'zero-filled',
  random: 'random bytes (incompressible)',
  text: 'synthetic log lines and JSON records',
};

async function main() {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  if (!machine.lz4) throw new Error(`the native addon is not available: ${machine.nativeError ?? 'run npm install'}`);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(args.dir ? resolve(args.dir) : os.tmpdir(), 'tmem-bench-'));
  const corpusDir = join(outDir, 'corpus');
  mkdirSync(corpusDir, { recursive: true });

  const nCorpora = CORPORA.length;
  const subjectWeight = (s) => nCorpora * (s.startsWith('lmdb') || s.includes('js') || s.includes('JS') ? 6 : 4);
  // Writeback and churn run per allocator subject; churn needs the native Pool (zcache).
  const allocatorSubjects = ALLOCATOR_SUBJECTS.filter((a) => subjects.includes(a.name));
  const churnSubjects = allocatorSubjects.filter((a) => a.backend === 'zcache');
  plan = [
    { name: 'corpora', weight: 2 },
    { name: 'build', weight: 1 },
    { name: 'raw', weight: nCorpora * 2 },
    ...subjects.map((s) => ({ name: s, weight: subjectWeight(s) })),
    ...subjects.map((s) => ({ name: `mem ${s}`, weight: 1 })),
    ...allocatorSubjects.map((a) => ({ name: `writeback ${a.name}`, weight: 2 })),
    { name: 'pwrite', weight: 1 },
    ...churnSubjects.map((a) => ({ name: `churn ${a.name}`, weight: 3 })),
  ];
  const step = async (name, label, fn) => {
    const job = plan.find((j) => j.name === name);
    draw(0, label);
    const r = await fn(job.weight);
    doneWeight += job.weight;
    draw(0, label);
    return r;
  };

  try {
    const corpora = await step('corpora', 'making page corpora (heap pages from a live Node process)', () =>
      makeCorpora(corpusDir, { heap: config.heapPages, synthetic: config.syntheticPages }));
    for (const [k, c] of Object.entries(corpora)) c.about = ABOUT[k];
    const bin = await step('build', `building bench/native/lz4-loop.cc against liblz4 ${machine.lz4}`, () =>
      buildLz4Loop(ROOT));
    const raw = await step('raw', 'raw liblz4 loop (C++)', () => {
      const out = {};
      for (const [name, c] of Object.entries(corpora)) {
        draw(0, `raw liblz4 loop · ${name}`);
        out[name] = runNative(bin, ['lz4', c.file, String(config.minSeconds), String(config.minRounds)]);
      }
      return out;
    });
    const perf = [];
    const common = { corpora, minSeconds: config.minSeconds, minRounds: config.minRounds, batch: config.batch, tmp: work, memCorpus: 'heap',
      churnPages: config.churnPages };
    for (const s of subjects) {
      perf.push(...(await step(s, s, (w) => runWorker({ ...common, mode: 'perf', subject: s }, w))));
    }
    const memory = [];
    for (const s of subjects) {
      memory.push(...(await step(`mem ${s}`, `${s} · memory`, (w) => runWorker({ ...common, mode: 'mem', subject: s }, w))));
    }
    const writeback = [];
    for (const a of allocatorSubjects) {
      writeback.push(...(await step(`writeback ${a.name}`, `${a.name} · writeback`, (w) => runWorker({ ...common, mode: 'writeback', subject: a.name }, w))));
    }
    const pwrite = await step('pwrite', 'raw pwrite of 4 KiB pages (C++)', () =>
      runNative(bin, ['pwrite', join(work, 'pwrite.bin'), String(corpora.heap.pages), String(config.minSeconds), String(config.minRounds)]));
    const churn = [];
    for (const a of churnSubjects) {
      churn.push(...(await step(`churn ${a.name}`, `${a.name} · churn of ${config.churnPages} pages`, (w) => runWorker({ ...common, mode: 'churn', subject: a.name }, w))));
    }
    endBar();

    const results = {
      mode,
      startedAt,
      seconds: (Date.now() - t0) / 1000,
      machine,
      config,
      corpora: Object.fromEntries(Object.entries(corpora).map(([k, c]) => [k, { pages: c.pages, about: c.about }])),
      raw,
      pwrite,
      perf,
      memory,
      writeback,
      churn,
    };
    results.targets = computeTargets(results);
    const md = markdown(results);
    writeFileSync(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(outDir, 'latest.md'), md);
    writeFileSync(join(outDir, 'latest.svg'), svgChart(results));
    process.stdout.write(md + '\n');
    process.stdout.write(`\nwritten: ${join(outDir, 'latest.md')}, latest.json, latest.svg (${Math.round(results.seconds)} s)\n`);
    if (args.publish) publish(md, svgChart(results));
  } finally {
    endBar();
    rmSync(work, { recursive: true, force: true });
    if (!args['keep-corpus']) rmSync(corpusDir, { recursive: true, force: true });
  }
}

function publish(md, svg) {
  const readme = join(ROOT, 'bench', 'README.md');
  replaceBetweenMarkers(readme, 'bench:results',
    `\n![store and load pages/s, heap corpus](chart.svg)\n\n${md.replace(/^## /m, '### ').replace(/^### (?!tmem)/gm, '#### ')}`);
  writeFileSync(join(ROOT, 'bench', 'chart.svg'), svg);
  process.stdout.write(`published: ${readme}, bench/chart.svg\n`);
}

main().catch((err) => {
  endBar();
  console.error(err?.stack ?? err);
  process.exit(1);
});
