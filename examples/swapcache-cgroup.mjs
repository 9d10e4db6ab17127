#!/usr/bin/env node
// Stores a data set several times its memory limit and reads every value back: run it inside a
// memory cgroup (a container limit) to see SwapCache keep serving where a Map is OOM-killed.
//
//   node examples/swapcache-cgroup.mjs [--store swapcache|map] [--data-mib 250]
//        [--resident-mib 32] [--pool-mib 48] [--backend zcache|zcache-js]
//
// As root, with cgroup v1 (a 128 MiB limit):
//   mkdir /sys/fs/cgroup/memory/demo && echo $((128<<20)) > /sys/fs/cgroup/memory/demo/memory.limit_in_bytes
//   sh -c 'echo $$ > /sys/fs/cgroup/memory/demo/cgroup.procs; exec node examples/swapcache-cgroup.mjs'
//
// The values (1-5 KiB) are slices of a 16 MiB source this script makes itself (text-like runs
// and random bytes, about 2:1 compressible); each is compared byte for byte when read back.
// Prints one JSON line: values stored and verified, mismatches, and, inside a cgroup, the
// cgroup's charge before the first value and the peak of its anonymous (non page cache) part.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBackend, SwapCache } from 'tmem';

const { values: opt } = parseArgs({
  options: {
    store: { type: 'string', default: 'swapcache' },
    'data-mib': { type: 'string', default: '250' },
    'resident-mib': { type: 'string', default: '32' },
    'pool-mib': { type: 'string', default: '48' },
    backend: { type: 'string', default: 'zcache' },
  },
});
const MiB = 2 ** 20;
const dataBytes = Number(opt['data-mib']) * MiB;

// The memory cgroup this process is in (cgroup v1), or null.
function cgroupDir() {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const path = line?.split(':')[2];
  return path && path !== '/' ? `/sys/fs/cgroup/memory${path}` : null;
}
const cgroup = cgroupDir();
const anonCharge = () => Number(/^total_rss (\d+)$/m.exec(readFileSync(`${cgroup}/memory.stat`, 'utf8'))[1]);

// The data source: 16 MiB, half text-like (words, numbers, JSON punctuation), half random.
const source = Buffer.alloc(16 * MiB);
let seed = 0x2545f491;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const words = ['"id":', '"name":', '"session"', 'user', 'token', '"price":', 'order', 'true', 'false', 'null', '{', '}', ',', '[', ']'];
for (let at = 0; at < source.length; ) {
  if (rand() & 1) at += source.write(words[rand() % words.length] + String(rand() % 1000), at, 'latin1');
  else for (let n = 8 + (rand() % 24); n > 0 && at < source.length; n--) source[at++] = rand() >>> 24;
}
function value(i) {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const length = 1024 + (h % (4 * 1024 + 1));
  const start = (Math.imul(h ^ (h >>> 15), 40503) >>> 0) % (source.length - length);
  return source.subarray(start, start + length);
}

let store;
if (opt.store === 'map') {
  store = new Map();
  store.set = store.set.bind(store);
} else {
  await loadBackend(opt.backend, { maxPoolBytes: Number(opt['pool-mib']) * MiB });
  store = new SwapCache({ residentBytes: Number(opt['resident-mib']) * MiB, pages: Math.ceil((dataBytes * 1.5) / 4096) + 4096 });
}
const copy = opt.store === 'map' ? (v) => Buffer.from(v) : (v) => v; // a Map must keep its own copy
const tick = () => new Promise(setImmediate);
const baselineCharge = cgroup ? Number(readFileSync(`${cgroup}/memory.usage_in_bytes`, 'utf8')) : 0;
const baselineAnon = cgroup ? anonCharge() : 0;
let peakAnon = baselineAnon;
const sample = () => {
  if (cgroup) peakAnon = Math.max(peakAnon, anonCharge());
};

let n = 0;
for (let bytes = 0; bytes < dataBytes; n++) {
  const v = value(n);
  store.set(`value:${n}`, copy(v));
  bytes += v.length;
  if ((n & 1023) === 0) {
    sample();
    await tick();
  }
}
let mismatches = 0;
for (let i = 0; i < n; i++) {
  const got = store.get(`value:${i}`);
  if (!got || Buffer.compare(got, value(i)) !== 0) mismatches++;
  if ((i & 1023) === 0) {
    sample();
    await tick();
  }
}
sample();
const report = {
  store: opt.store,
  values: n,
  verified: n - mismatches,
  mismatches,
  dataBytes,
  cgroup: cgroup !== null,
  baselineChargeBytes: baselineCharge,
  baselineAnonBytes: baselineAnon,
  peakAnonBytes: peakAnon,
  indexBytes: store instanceof SwapCache ? store.indexBytes : 0,
  rssBytes: process.memoryUsage.rss(),
};
console.log(JSON.stringify(report));
process.exitCode = mismatches === 0 ? 0 : 1;
