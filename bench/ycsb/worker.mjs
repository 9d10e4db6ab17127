// One subject in one scenario, in its own `node --expose-gc` process (so RSS, heap and GC are
// its own), spawned by run.mjs with a JSON spec as its only argument. Writes JSON lines on
// stdout: {progress, label, phase, done} while it works, {serverPid} when it starts a server,
// then {result} or {error}.
//
// mode 'cell': pre-populate n keys (timed: sets/s), then per workload (distribution × mix) an
//   untimed warm-up pass, a throughput pass (ops in chunks of CHUNK with a yield to the event
//   loop between chunks; every read's stamp and length checked) and a latency pass (each op
//   timed alone with performance.now(); every read checked byte for byte, outside the timed
//   region). The op streams are built before each workload: the timed loops only index typed
//   arrays. A read that misses is followed by a set of the value (cache-aside; the origin costs
//   nothing here).
// mode 'capacity': n keys whose strings are made on the fly (an array of them would dwarf what is
//   measured), then a sample read back byte for byte; memory before and after, and where a
//   subject gave up (a Map past 2^24 keys).
import { closeSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gc, memory, percentiles, watch, yieldLoop } from './metrics.mjs';
import { SUBJECTS } from './subjects.mjs';
import { Expected, initialSeed, Values } from './values.mjs';
import { makeOps, makeSetOps } from './workload.mjs';

const spec = JSON.parse(process.argv[2]);
const send = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const CHUNK = 256;
const SLICE = 4096;
const keyName = (k) => `item:${k}`;

/** Σ keyName(k).length for k < n, without making the strings. */
function keyBytes(n) {
  let total = 5 * n;
  for (let lo = 0, digits = 1; lo < n; lo = lo ? lo * 10 : 10, digits++) total += (Math.min(n, lo ? lo * 10 : 10) - lo) * digits;
  return total;
}

const subject = SUBJECTS[spec.subject];
if (!subject) throw new Error(`unknown subject '${spec.subject}'`);
/** The corpus, or its first `bytes` (the memory-limit runs keep the data source small). */
function readCorpus(file, bytes) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
const values = new Values(readCorpus(spec.corpusFile, spec.corpusBytes), spec.valueSize);

async function open() {
  return subject.open({ ...spec.config, dataBytes: spec.dataBytes, tmp: spec.tmp, onServer: (pid) => send({ serverPid: pid }) });
}

/**
 * Loads keys [0, n) with version 1 of each value, in slices. Time: CPU time of the process for
 * sync subjects, wall time of the slices for an async one (as in runPass).
 */
async function populate(inst, n, keyOf, exp) {
  const stop = watch();
  const valueOf = exp
    ? (k) => {
      exp.version[k] = 1;
      exp.seed[k] = initialSeed(k);
      return values.write(k, 1, exp.seed[k]);
    }
    : (k) => values.write(k, 1, initialSeed(k));
  let busy = 0;
  let done = 0;
  let error;
  const cpu0 = process.cpuUsage();
  try {
    for (let from = 0; from < n; from += SLICE) {
      const to = Math.min(n, from + SLICE);
      const t0 = performance.now();
      if (inst.populate) {
        await inst.populate(from, to, keyOf, valueOf);
        done = to;
      } else {
        for (let k = from; k < to; k++) {
          inst.set(keyOf(k), valueOf(k));
          done++;
        }
      }
      busy += performance.now() - t0;
      send({ progress: to / n, label: `${spec.subject} · populate`, phase: 'populate', done: to });
      await yieldLoop();
    }
  } catch (err) {
    error = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = subject.async ? busy / 1000 : (cpu.user + cpu.system) / 1e6;
  return { sets: done, seconds, setsPerSec: done / seconds, wallSetsPerSec: done / (busy / 1000), error, ...(await stop()) };
}

/**
 * One pass's bookkeeping around each op: the expected (key, version) of updates, latency samples
 * into preallocated arrays, the check of every value read, misses.
 */
class Pass {
  constructor(exp, lat, exact) {
    this.exp = exp;
    this.exact = exact;
    this.timed = lat !== null;
    this.readLat = lat?.read;
    this.updLat = lat?.update;
    this.reads = 0;
    this.updates = 0;
    this.misses = 0;
    this.bad = 0;
    this.ms = 0;
  }

  /** The next version of key k, made from `seed`: the value an update stores. */
  nextValue(k, seed) {
    const ver = this.exp.version[k] + 1;
    this.exp.version[k] = ver;
    this.exp.seed[k] = seed;
    return values.write(k, ver, seed);
  }

  /** After an op started at t0: records it; for a read that missed, returns the value to set back. */
  done(k, update, v, t0) {
    const ms = this.timed ? performance.now() - t0 : 0;
    if (update !== null) {
      if (this.timed) this.updLat[this.updates] = ms;
      this.updates++;
      return null;
    }
    if (this.timed) this.readLat[this.reads] = ms;
    this.reads++;
    const { version, seed } = this.exp;
    if (v === undefined) {
      this.misses++;
      return values.write(k, version[k], seed[k]);
    }
    if (!(this.exact ? values.exact(v, k, version[k], seed[k]) : values.stampOk(v, k, version[k]))) this.bad++;
    return null;
  }
}

// The same op loop twice: one calls a sync subject, one awaits an async one (awaiting a sync
// subject would add a microtask and a Promise to every op of theirs).
function syncChunk(inst, ops, from, to, keys, p) {
  for (let i = from; i < to; i++) {
    const k = ops.keys[i];
    const update = ops.writes[i] === 1 ? p.nextValue(k, ops.seeds[i]) : null;
    const t0 = p.timed ? performance.now() : 0;
    const reload = p.done(k, update, update === null ? inst.get(keys[k]) : inst.set(keys[k], update), t0);
    if (reload !== null) inst.set(keys[k], reload);
  }
}

async function asyncChunk(inst, ops, from, to, keys, p) {
  for (let i = from; i < to; i++) {
    const k = ops.keys[i];
    const update = ops.writes[i] === 1 ? p.nextValue(k, ops.seeds[i]) : null;
    const t0 = p.timed ? performance.now() : 0;
    const reload = p.done(k, update, await (update === null ? inst.get(keys[k]) : inst.set(keys[k], update)), t0);
    if (reload !== null) await inst.set(keys[k], reload);
  }
}

/**
 * Ops [from, to) of the stream, until done or `capSeconds` of op time. Throughput is ops per
 * second of the process's CPU time (every thread: GC helpers, writeback threads) for sync
 * subjects, so other processes on a busy machine do not count; per second of wall time for an
 * async subject (its time is spent waiting for the server).
 */
async function runPass(inst, ops, from, to, keys, exp, lat, exact, capSeconds = spec.seconds) {
  const p = new Pass(exp, lat, exact);
  const capMs = capSeconds * 1000;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = from; i < to && p.ms < capMs; i += CHUNK) {
    const end = Math.min(to, i + CHUNK);
    const t0 = performance.now();
    if (subject.async) await asyncChunk(inst, ops, i, end, keys, p);
    else syncChunk(inst, ops, i, end, keys, p);
    p.ms += performance.now() - t0;
    if (!subject.async) await yieldLoop();
  }
  const cpu = process.cpuUsage(cpu0);
  const opsDone = p.reads + p.updates;
  const seconds = subject.async ? (performance.now() - wall0) / 1000 : (cpu.user + cpu.system) / 1e6;
  const out = { ops: opsDone, seconds, opsPerSec: opsDone / seconds, wallOpsPerSec: opsDone / (p.ms / 1000), reads: p.reads, updates: p.updates,
    misses: p.misses, bad: p.bad };
  if (lat) {
    out.read = nanos(percentiles(lat.read, p.reads));
    out.update = p.updates ? nanos(percentiles(lat.update, p.updates)) : null;
  }
  return out;
}

/**
 * The throughput pass `repeats` times over the same ops; the one with the median ops/s, with every
 * pass's ops/s in `passes`. A pass of a fast subject lasts tens of milliseconds, and whether a GC
 * cycle (its helper threads count) lands in it moves one pass by up to 2× on this VM.
 */
async function medianPass(inst, ops, from, to, keys, exp, repeats) {
  const passes = [];
  for (let r = 0; r < repeats; r++) passes.push(await runPass(inst, ops, from, to, keys, exp, null, spec.exact));
  const sorted = [...passes].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return { ...sorted[(repeats - 1) >> 1], passes: passes.map((q) => q.opsPerSec) };
}

/** Percentiles of millisecond samples, in nanoseconds. */
function nanos(stats) {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, k === 'count' ? v : v * 1e6]));
}

function tierShares(before, after) {
  if (!before) return null;
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  const total = Object.values(d).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, total ? v / total : 0]));
}

async function cell() {
  const { n } = spec;
  const keys = new Array(n);
  for (let k = 0; k < n; k++) keys[k] = keyName(k);
  const exp = new Expected(n);
  const lat = { read: new Float64Array(spec.latencyOps), update: new Float64Array(spec.latencyOps) };
  gc();
  const base = memory();
  const inst = await open();
  const row = { mode: 'cell', subject: spec.subject, n, valueSize: spec.valueSize, corpus: spec.corpus, dataBytes: spec.dataBytes, config: spec.config, base };
  try {
    row.populate = await populate(inst, n, (k) => keys[k], exp);
    if (row.populate.error) throw new Error(`populate: ${row.populate.error}`);
    gc();
    row.afterPopulate = memory();
    if (spec.setPass) {
      // Sets in steady state: every key once more, in a shuffled order, after a warm-up. The
      // populate's rate also pays for the subject's first touch of its memory and the JIT.
      const ops = makeSetOps({ n, seed: 0x5e75 });
      await runPass(inst, ops, 0, ops.warm, keys, exp, null, spec.exact, spec.seconds / 2);
      row.sets = await runPass(inst, ops, ops.warm, ops.count, keys, exp, null, spec.exact);
    }
    row.workloads = [];
    let seed = 1;
    for (const w of spec.workloads) {
      const label = `${spec.subject} · ${w.distribution} ${w.mix}`;
      send({ progress: row.workloads.length / spec.workloads.length, label, phase: 'workload', done: row.workloads.length });
      // Warm-up (untimed, a quarter of the throughput ops): the JIT, and the subject's own state
      // (LRU order, resident set) settled into this workload's access pattern.
      const warm = spec.throughputOps >> 2;
      const tput = warm + spec.throughputOps;
      const total = tput + spec.latencyOps;
      const ops = makeOps({ n, count: total, distribution: w.distribution, mix: w.mix, seed: seed++ * 0x2545f491 });
      const warmup = await runPass(inst, ops, 0, warm, keys, exp, null, spec.exact, spec.seconds / 2);
      const tiers0 = inst.tiers?.();
      const stop = watch();
      const throughput = await medianPass(inst, ops, warm, tput, keys, exp, spec.repeats ?? 1);
      const latency = await runPass(inst, ops, tput, total, keys, exp, lat, true);
      const reads = throughput.reads + latency.reads;
      row.workloads.push({
        ...w,
        throughput,
        latency,
        hitRatio: reads ? 1 - (throughput.misses + latency.misses) / reads : null,
        bad: warmup.bad + throughput.bad + latency.bad,
        tiers: tierShares(tiers0, inst.tiers?.()),
        ...(await stop()),
      });
    }
    gc();
    row.end = memory();
    row.info = inst.info?.();
  } finally {
    await inst.close();
  }
  return row;
}

async function capacity() {
  const { n } = spec;
  gc();
  const base = memory();
  const inst = await open();
  const row = { mode: 'capacity', subject: spec.subject, n, valueSize: spec.valueSize, dataBytes: spec.dataBytes, config: spec.config, base };
  try {
    row.populate = await populate(inst, n, keyName, null);
    gc();
    row.afterPopulate = memory();
    row.info = inst.info?.();
    const stored = row.populate.sets;
    row.keyBytes = keyBytes(stored);
    // A sample spread over every key stored, each read checked byte for byte.
    const step = Math.max(1, Math.floor(stored / spec.sampleReads));
    const lat = new Float64Array(Math.ceil(stored / step));
    let reads = 0;
    let bad = 0;
    let missing = 0;
    for (let k = 0; k < stored; k += step) {
      const key = keyName(k);
      const t0 = performance.now();
      const v = subject.async ? await inst.get(key) : inst.get(key);
      lat[reads++] = performance.now() - t0;
      if (v === undefined) missing++;
      else if (!values.exact(v, k, 1, initialSeed(k))) bad++;
    }
    row.sample = { reads, bad, missing, read: nanos(percentiles(lat, reads)) };
    gc();
    row.end = memory();
  } finally {
    await inst.close();
  }
  return row;
}

try {
  send({ result: await (spec.mode === 'capacity' ? capacity() : cell()) });
} catch (err) {
  send({ error: String(err?.stack ?? err) });
  process.exitCode = 1;
}
