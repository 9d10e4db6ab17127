// The YCSB bench's results object → the issue's targets (measured, ✓/✗) and the Markdown report.
import { table } from '../lib/report.mjs';
import { SWAPCACHES } from './plan.mjs';

const MiB = 2 ** 20;
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const us = (ns) => (Number.isFinite(ns) ? (ns / 1000).toFixed(ns < 10_000 ? 2 : ns < 1e6 ? 1 : 0) : '–');
const mib = (b) => (Number.isFinite(b) ? `${(b / MiB).toFixed(b < 10 * MiB ? 1 : 0)}` : '–');
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(v > 0.995 && v < 1 ? 1 : 0)}%` : '–');
const size = (s) => (typeof s === 'number' ? (s >= 1024 ? `${s / 1024} KiB` : `${s} B`) : `${s.min / 1024}–${s.max / 1024} KiB`);
const Z = 'SwapCache (zcache)';

const lat = (r) => (r ? `${us(r.p50)} / ${us(r.p99)} / ${us(r.p999)}` : '–');
const tiersText = (t) => (t ? `${pct(t.resident)} / ${pct(t.pool)} / ${pct(t.file)}` : '–');
const budgetText = (r) => {
  if (r.tier) return r.tier;
  if (!r.ratio) return 'holds all';
  const c = r.config;
  if (c.maxSize !== undefined) return `÷${r.ratio}: maxSize ${mib(c.maxSize)} MiB`;
  return `÷${r.ratio}: ${mib(c.residentBytes)} + ${mib(c.poolBytes)} MiB`;
};
const label = (r) => `${SWAPCACHES.includes(r.subject) ? `**${r.subject}**` : r.subject}`;

/** RSS the issue allows a SwapCache: baseline + residentBytes + pool limit + key index (≤ 32 B + key bytes per key) + 15 %. */
export function rssBound(row) {
  const keyIndex = row.populate.sets * 32 + row.keyBytes;
  return (row.base.rss + row.config.residentBytes + row.config.poolBytes + keyIndex) * 1.15;
}

const diskText = (d) => (!d ? 'disk not measured' : d.error ? `disk not measured: ${d.error}`
  : `the disk alone, O_DIRECT random 4 KiB reads: p50 ${us(d.p50ns)} / p99 ${us(d.p99ns)} µs`);

function tierRow(results, subject, tier, valueSize) {
  return results.tiers.find((r) => r.subject === subject && r.tier === tier && r.valueSize === valueSize);
}

/** How the tiers' gets/s were taken, when passes were repeated: the median, and how far passes spread. */
function repeatsText(rows) {
  const spread = rows.map((r) => r.workloads[0].throughput.passes).filter((p) => p && p.length > 1);
  if (!spread.length) return '';
  const widest = Math.max(...spread.map((p) => Math.max(...p) / Math.min(...p)));
  return ` Gets/s: the median of ${spread[0].length} throughput passes over the same ops (the fastest pass of a subject was up to ${widest.toFixed(2)}× its slowest in this run).`;
}

export function computeTargets(results) {
  const out = [];
  const add = (name, wanted, measured, pass) => out.push({ name, wanted, measured, pass });
  const sizes = [...new Set(results.tiers.map((r) => r.valueSize))].sort((a, b) => a - b);
  for (const s of sizes) {
    const z = tierRow(results, Z, 'resident', s)?.workloads[0];
    const l = tierRow(results, 'lru-cache', 'resident', s)?.workloads[0];
    if (z && l) {
      const x = l.throughput.opsPerSec / z.throughput.opsPerSec;
      add(`resident hits, ${size(s)} values: lru-cache get ÷ SwapCache get`, '≤ 1.5×',
        `${x.toFixed(2)}× (${int(z.throughput.opsPerSec)} vs ${int(l.throughput.opsPerSec)} gets/s)`, x <= 1.5);
    }
    const p = tierRow(results, Z, 'pool', s)?.workloads[0];
    if (p) {
      add(`pool hits, ${size(s)} values (incl. decompress)`, 'p50 ≤ 5 µs, p99 ≤ 20 µs',
        `p50 ${us(p.latency.read.p50)} µs, p99 ${us(p.latency.read.p99)} µs (${pct(p.tiers.pool)} of gets from the pool)`,
        p.latency.read.p50 <= 5000 && p.latency.read.p99 <= 20_000);
    }
    const f = tierRow(results, Z, 'file', s)?.workloads[0];
    if (f) {
      add(`swap-file hits, ${size(s)} values`, 'p99 ≤ 60 µs',
        `p99 ${us(f.latency.read.p99)} µs (${pct(f.tiers.file)} of gets from the file; ${diskText(results.disk)})`, f.latency.read.p99 <= 60_000);
    }
  }
  const sets = tierRow(results, Z, 'pool', 100)
    ?? [...results.sizes, ...results.matrix].find((r) => r.subject === Z && r.valueSize === 100 && r.ratio > 1);
  if (sets) {
    // Steady state when the cell timed a set pass (tiers), else the populate.
    const lru = tierRow(results, 'lru-cache', 'evict', 100)?.sets;
    const rate = sets.sets ? sets.sets.opsPerSec : sets.populate.setsPerSec;
    const how = sets.sets
      ? `each of ${int(sets.n)} keys set again in a shuffled order, pool tier: every set evicts; populate ${int(sets.populate.setsPerSec)}/s` +
        `${lru ? `; lru-cache evicting ${int(lru.opsPerSec)}/s` : ''}`
      : `populate of ${int(sets.n)} keys, ${budgetText(sets)}`;
    add('sets of 100 B values including eviction', '≥ 1,000,000/s', `${int(rate)}/s (${how})`, rate >= 1e6);
  }
  for (const c of results.capacity.filter((r) => r.subject === Z)) {
    if (c.error || !c.populate) {
      add(`${int(c.n)} keys of 100 B`, 'all stored', c.error ?? 'no result', false);
      continue;
    }
    const stored = c.populate.sets === c.n && !c.populate.error;
    if (c.n <= 2 ** 24) {
      const heap = c.afterPopulate.heapUsed;
      add(`${int(c.n)} keys of 100 B, ${mib(c.config.residentBytes + c.config.poolBytes)} MiB budget: V8 heap`, '< 100 MiB',
        `${mib(heap)} MiB${stored ? '' : ` (stopped at ${int(c.populate.sets)}: ${c.populate.error})`}`, stored && heap < 100 * MiB);
      const bound = rssBound(c);
      add(`${int(c.n)} keys of 100 B: RSS within baseline + budgets + key index + 15%`, `≤ ${mib(bound)} MiB`,
        `${mib(c.afterPopulate.rss)} MiB (peak ${mib(c.afterPopulate.peakRss)})`, stored && c.afterPopulate.rss <= bound);
    } else {
      add(`more than 2^24 keys (${int(c.n)})`, 'all stored and read back',
        stored ? `${int(c.populate.sets)} stored, ${c.sample.bad + c.sample.missing} of ${int(c.sample.reads)} sampled reads wrong`
          : `stopped at ${int(c.populate.sets)}: ${c.populate.error}`, stored && c.sample.bad + c.sample.missing === 0);
    }
  }
  const lim = (s, pred = () => true) => results.limit.find((r) => r.subject === s && pred(r));
  const z = lim(Z);
  if (z) {
    const first = z.attempts[0];
    const peers = ['Map', 'lru-cache'].map((s) => lim(s, (r) => r.config.maxSize === undefined || r.config.maxSize >= r.dataBytes))
      .filter(Boolean).map((r) => `${r.subject}: ${r.attempts[0].outcome}`);
    const checked = first.result ? `, ${int(first.result.workloads[0].latency.reads + first.result.workloads[0].throughput.reads)} reads, ${first.result.workloads[0].bad} wrong` : '';
    add(`${mib(z.dataBytes)} MiB of 1–5 KiB values in a ${mib(first.limitBytes)} MiB memory cgroup`, 'SwapCache finishes, every value checked',
      `SwapCache: ${first.outcome}${checked}${peers.length ? `; ${peers.join('; ')}` : ''}`, first.outcome === 'finished' && first.result.workloads[0].bad === 0);
  }
  return out;
}

function limitTable(results) {
  const ladder = [...new Set(results.limit.flatMap((r) => r.attempts.map((a) => a.limitBytes)))].sort((a, b) => a - b);
  const cell = (a) => {
    if (!a) return '';
    if (a.outcome === 'finished') {
      const w = a.result.workloads[0];
      return `✓ peak ${mib(a.peakBytes)}, ${w.bad} wrong`;
    }
    const where = a.last ? ` in ${a.last.phase}${a.last.phase === 'populate' ? ` (${pct(a.last.progress)})` : ''}` : '';
    return `✗ ${a.outcome}${where}`;
  };
  return table(['subject', 'configuration', ...ladder.map((l) => `${mib(l)} MiB`), 'ops/s', 'read p50 / p99 / p99.9 µs', 'hit ratio', 'V8 heap MiB'],
    results.limit.map((r) => {
      const ok = r.attempts.find((a) => a.outcome === 'finished');
      const w = ok?.result.workloads[0];
      const c = r.config;
      const conf = c.residentBytes !== undefined ? `resident ${mib(c.residentBytes)} + pool ${mib(c.poolBytes)} MiB`
        : c.maxSize !== undefined ? `maxSize ${mib(c.maxSize)} MiB` : r.about;
      return [label(r), conf, ...ladder.map((l) => cell(r.attempts.find((a) => a.limitBytes === l))), int(w?.throughput.opsPerSec),
        lat(w?.latency.read), pct(w?.hitRatio), mib(ok?.result.end.heapUsed)];
    }));
}

export function markdown(results) {
  const { machine: m } = results;
  const md = [];
  md.push(`## SwapCache against Map, lru-cache, lmdb and redis-server (${results.mode} mode, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(results.seconds)} s)`);
  md.push('');
  md.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB · Linux ${m.kernel} · Node ${m.node} · tmem ${m.tmem}${m.commit ? ` (${m.commit})` : ''}, liblz4 ${m.lz4 ?? 'n/a'} · ` +
    `lru-cache ${m.peers['lru-cache']}, lmdb ${m.peers.lmdb}, ioredis ${m.peers.ioredis}, redis-server ${m.peers['redis-server']} · load average ${m.loadavg} at the start, ${results.loadavgEnd} at the end`);
  for (const s of results.skipped) md.push(`\nNot run: ${s}.`);
  if (results.limit.length) {
    const r0 = results.limit[0];
    md.push('', `### Inside a fixed memory limit (memory cgroup)`, '',
      `${mib(r0.dataBytes)} MiB of 1–5 KiB JSON values (${int(r0.n)} keys) stored, then zipf-0.99 reads with 5 % updates; every value read is compared byte for byte. ` +
      'Each subject runs in a fresh cgroup v1 with that `memory.limit_in_bytes` (redis-server inside the same group as its client), lowest limit first, until it finishes. ' +
      'Peak: `memory.max_usage_in_bytes` in MiB (what the limit enforces: anonymous memory and page cache).', '');
    md.push(limitTable(results));
  }
  if (results.targets.length) {
    md.push('', '### Targets (issue 12)', '');
    md.push(table(['target', 'wanted', 'measured', ''], results.targets.map((t) => [t.name, t.wanted, t.measured, t.pass ? '✓' : '✗'])));
  }
  if (results.tiers.length) {
    md.push('', '### One tier at a time (uniform keys, read only)', '',
      'SwapCache arranged so one tier serves: **resident** (budget above the data), **pool** (256 KiB resident, a pool that holds all), **file** (256 KiB resident, no backend: ' +
      'values come from the swap file, whose page cache SwapCache drops every 8 MiB of traffic by default (`dropFileCache`), so most reads reach the disk; ' +
      `${diskText(results.disk)}). ` + 'Share: gets served resident / pool / file, from `stats()`. Sets/s: every key set once more after the populate, in a shuffled order after an untimed warm-up (steady state: with eviction for pool and file and for lru-cache `evict`, maxSize data ÷ 5); populate: the first set of each key, which also pays for the subject\'s first touch of its memory and the JIT.' +
      `${repeatsText(results.tiers)}`, '');
    md.push(table(['subject', 'tier', 'value', 'keys', 'gets/s', 'read p50 / p99 / p99.9 µs', 'share res / pool / file', 'hit ratio', 'sets/s', 'populate sets/s', 'V8 heap MiB', 'RSS MiB'],
      results.tiers.map((r) => {
        const w = r.workloads[0];
        return [label(r), r.tier, size(r.valueSize), int(r.n), int(w.throughput.opsPerSec), lat(w.latency.read), tiersText(w.tiers), pct(w.hitRatio),
          r.sets ? int(r.sets.opsPerSec) : '–', int(r.populate.setsPerSec), mib(r.end.heapUsed), mib(r.end.rss)];
      })));
  }
  if (results.matrix.length) {
    const r0 = results.matrix[0];
    const ws = r0.workloads.map((w) => `${w.distribution} ${w.mix}`);
    md.push('', `### YCSB workloads: ${size(r0.valueSize)} JSON values, ${mib(r0.dataBytes)} MiB of data (${int(r0.n)} keys)`, '',
      'ops/s of each workload (C: reads only, B: 95 % reads, A: 50 % reads; the rest updates), hit ratio in brackets where below 100 %: a miss is followed by a set ' +
      '(cache-aside; the origin costs nothing here). ÷N: data ÷ budget; lru-cache gets `maxSize` = budget, SwapCache half of it resident and half as pool limit.', '');
    md.push(table(['subject', 'budget', ...ws], results.matrix.map((r) => [label(r), budgetText(r),
      ...r.workloads.map((w) => `${int(w.throughput.opsPerSec)}${w.hitRatio < 0.9995 ? ` (${pct(w.hitRatio)})` : ''}`)])));
    md.push('', `Latency (zipf-0.99 B) and memory of the same runs. RSS and V8 heap after populate and a full gc (the harness's key strings and arrays included: ${mib(r0.base.heapUsed)} MiB heap, ${mib(r0.base.rss)} MiB RSS before the subject opened); GC and event-loop delay over all workloads' passes.`, '');
    md.push(table(['subject', 'budget', 'read p50 / p99 / p99.9 µs', 'update p50 / p99 µs', 'share res / pool / file', 'populate sets/s', 'RSS MiB', 'V8 heap MiB', 'GC ms', 'loop delay p99 / max ms'],
      results.matrix.map((r) => {
        const w = r.workloads.find((x) => x.distribution === 'zipf-0.99' && x.mix === 'B') ?? r.workloads[0];
        const gcMs = r.workloads.reduce((a, x) => a + x.gcMs, 0);
        const loopMax = Math.max(...r.workloads.map((x) => x.loopMaxMs ?? 0));
        const loop99 = Math.max(...r.workloads.map((x) => x.loopP99Ms ?? 0));
        const serverRss = r.info?.serverRss ? ` + server ${mib(r.info.serverRss)}` : '';
        return [label(r), budgetText(r), lat(w.latency.read), w.latency.update ? `${us(w.latency.update.p50)} / ${us(w.latency.update.p99)}` : '–',
          tiersText(w.tiers), int(r.populate.setsPerSec), `${mib(r.afterPopulate.rss)}${serverRss}`, mib(r.afterPopulate.heapUsed), int(gcMs), `${loop99.toFixed(1)} / ${loopMax.toFixed(1)}`];
      })));
  }
  if (results.sizes.length) {
    const rows = results.sizes;
    const cols = [...new Set(rows.map((r) => `${r.corpus} ${r.valueSize}`))];
    const subjects = [...new Set(rows.map((r) => r.subject))];
    md.push('', `### Value sizes and corpora (${mib(rows[0].dataBytes)} MiB of data, data ÷ budget 5, zipf-0.99 B)`, '',
      'ops/s · read p99 µs · hit ratio where below 100 %. heap: values cut from real heap pages of a live Node process.', '');
    md.push(table(['subject', ...cols.map((c) => { const [corpus, s] = c.split(' '); return `${corpus} ${size(Number(s))}`; })], subjects.map((s) => [s, ...cols.map((c) => {
      const r = rows.find((x) => x.subject === s && `${x.corpus} ${x.valueSize}` === c);
      const w = r?.workloads.find((x) => x.distribution === 'zipf-0.99' && x.mix === 'B');
      return w ? `${int(w.throughput.opsPerSec)} · ${us(w.latency.read.p99)}${w.hitRatio < 0.9995 ? ` · ${pct(w.hitRatio)}` : ''}` : '–';
    })])));
  }
  if (results.capacity.length) {
    md.push('', '### Capacity (--big)', '');
    md.push(table(['subject', 'keys asked', 'stored', 'stopped by', 'sets/s', 'V8 heap MiB', 'RSS MiB (peak)', 'RSS bound MiB', 'sampled reads p50 / p99 µs', 'wrong'],
      results.capacity.map((c) => c.populate
        ? [label(c), int(c.n), int(c.populate.sets), c.populate.error ?? '–', int(c.populate.setsPerSec), mib(c.afterPopulate.heapUsed),
          `${mib(c.afterPopulate.rss)} (${mib(c.afterPopulate.peakRss)})`, c.config.residentBytes ? mib(rssBound(c)) : '–',
          c.sample ? `${us(c.sample.read.p50)} / ${us(c.sample.read.p99)}` : '–', c.sample ? int(c.sample.bad + c.sample.missing) : '–']
        : [label(c), int(c.n), '–', c.error, '', '', '', '', '', ''])));
  }
  const timedRuns = results.matrix.length + results.sizes.length + results.tiers.length + results.limit.length > 0;
  if (results.capacity.length) {
    md.push('', 'Capacity: keys `item:<n>` made on the fly, 100 B values set one by one (sets per CPU-second), a full gc, then a sample of 200,000 keys spread over all stored ones read back and compared byte for byte. ' +
      'RSS bound: RSS before the cache opened + `residentBytes` + the pool limit + 32 B and the key bytes per key, + 15 %.');
  }
  if (timedRuns) md.push('', '### Method', '',
    'Pre-populated (sets/s), then per workload an op stream (key index, read/update, value seed) built in typed arrays before timing, an untimed warm-up of a quarter of the ops, ' +
    'a throughput pass and a latency pass. Throughput: chunks of 256 ops with a yield to the event loop between them; ops per second of the process\'s CPU time (all its threads: GC, writeback), ' +
    'so other load on the machine does not count; for redis-server per second of wall time (it waits for the server). Every read\'s length and (key, version) stamp checked. ' +
    'Latency: a second pass timing each op with `performance.now()` (one timer read is in every sample; p99 and above include preemption by other processes), every read compared byte for byte outside the timed region. ' +
    `Passes stop at their op count (${int(results.preset.throughputOps)} / ${int(results.preset.latencyOps)}) or after ${results.preset.seconds} s of ops. Each job is one subject in its own \`node --expose-gc\` process; ` +
    'redis-server (no persistence, loopback) is started per job, one request in flight; lmdb: `compression: true, noSync`, sync puts and gets, populate in one transaction per 4,096 keys; redis populate pipelined.');
  if (results.failures?.length) md.push('', `Failures: ${results.failures.join('; ')}`);
  md.push('');
  return md.join('\n');
}
