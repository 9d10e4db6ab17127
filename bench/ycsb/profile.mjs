// One subject, one SwapCache tier (or a peer all resident), one value size, in a loop and nothing
// else: what perf or callgrind look at when a YCSB target is missed.
//
//   node bench/ycsb/profile.mjs SUBJECT TIER VALUE_BYTES [SECONDS] [sets]
//     TIER: resident | pool | file (SwapCache, as in the bench's tiers part), resident for peers
//     sets: time sets of fresh keys (with eviction for pool and file) instead of uniform gets
//
//   perf record -e cpu-clock -g -o /tmp/perf.data -- \
//     node --perf-basic-prof bench/ycsb/profile.mjs 'SwapCache (zcache)' pool 1024 10
//   perf report -i /tmp/perf.data --no-children --sort dso,sym -g none
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jsonCorpus, initialSeed, Values } from './values.mjs';
import { SUBJECTS } from './subjects.mjs';
import { keyStream } from './workload.mjs';
import { xorshift } from '../lib/corpora.mjs';

const [subject, tier = 'resident', size = '1024', seconds = '5', what = 'gets'] = process.argv.slice(2);
if (!SUBJECTS[subject]) throw new Error(`usage: profile.mjs SUBJECT TIER VALUE_BYTES [SECONDS] [sets]; subjects: ${Object.keys(SUBJECTS).join(', ')}`);
const valueSize = Number(size);
const dataBytes = 32 * 2 ** 20;
const n = Math.floor(dataBytes / valueSize);
const configs = {
  resident: { residentBytes: 4 * dataBytes, poolBytes: 16 * 2 ** 20, maxSize: 2 * dataBytes },
  pool: { residentBytes: 256 * 1024, poolBytes: 2 * dataBytes },
  file: { residentBytes: 256 * 1024, poolBytes: 0, backend: 'none' },
};
const tmp = mkdtempSync(join(os.tmpdir(), 'tmem-ycsb-profile-'));
const values = new Values(jsonCorpus(16 * 2 ** 20), valueSize);
const keys = Array.from({ length: n }, (_, k) => `item:${k}`);
// Swap space for sets of fresh keys past the data set too.
const inst = await SUBJECTS[subject].open({ ...configs[tier], dataBytes: dataBytes * 8, tmp });
try {
  for (let k = 0; k < n; k++) inst.set(keys[k], values.write(k, 1, initialSeed(k)));
  const stream = keyStream(n, 'uniform', 1 << 20, xorshift(5));
  const end = performance.now() + Number(seconds) * 1000;
  let ops = 0;
  let next = n;
  while (performance.now() < end) {
    if (what === 'sets') {
      for (let i = 0; i < 4096; i++, next++) inst.set(`item:${next}`, values.write(next % n, 1, initialSeed(next)));
    } else {
      for (let i = 0; i < stream.length; i++) if (inst.get(keys[stream[i]]) === undefined) throw new Error('miss');
    }
    ops += what === 'sets' ? 4096 : stream.length;
    await new Promise((r) => setImmediate(r));
  }
  console.log(`${subject} ${tier} ${valueSize} B ${what}: ${ops} ops, ${JSON.stringify(inst.tiers?.() ?? {})}`);
} finally {
  await inst.close();
  rmSync(tmp, { recursive: true, force: true });
}
