// A profiling target: one subject, one op, one corpus, in a loop for a while and nothing else, so
// a profiler sees only that. Corpus pages are made as in run.mjs.
//
//   perf record -e cpu-clock -g -D 4000 -o /tmp/perf.data -- \
//     node --perf-basic-prof bench/profile.mjs zcache/zsmalloc store heap 5
//   perf report -i /tmp/perf.data --no-children --sort dso,sym -g none
// (-D skips the set-up: corpus, store of every page; perf's cpu-clock works in VMs without PMU.)
//
//   node bench/profile.mjs SUBJECT store|overwrite|load|storeBatch|loadBatch CORPUS SECONDS [PAGES]
// SUBJECT: a name of bench/lib/subjects.mjs ("zcache/zsmalloc", "zcache (Pool)", "Map", ...).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeCorpora, PAGE } from './lib/corpora.mjs';
import { DEFAULT_SUBJECT, SUBJECTS } from './lib/subjects.mjs';
import { readFileSync } from 'node:fs';

const [subject = DEFAULT_SUBJECT.zcache, op = 'store', corpus = 'heap', seconds = '5', pagesArg = '8192'] = process.argv.slice(2);
const s = SUBJECTS[subject];
if (!s) throw new Error(`unknown subject ${subject} (known: ${Object.keys(SUBJECTS).join(', ')})`);
const tmp = mkdtempSync(join(os.tmpdir(), 'tmem-profile-'));
try {
  const corpora = await makeCorpora(tmp, { heap: Number(pagesArg), synthetic: Number(pagesArg), only: [corpus] });
  const buf = readFileSync(corpora[corpus].file);
  const n = corpora[corpus].pages;
  const page = Array.from({ length: n }, (_, i) => buf.subarray(i * PAGE, (i + 1) * PAGE));
  const B = 128;
  const batches = [];
  for (let start = 0; start < n; start += B) {
    const count = Math.min(B, n - start);
    batches.push({ offsets: Uint32Array.from({ length: count }, (_, k) => start + k), pages: buf.subarray(start * PAGE, (start + count) * PAGE),
      results: new Uint8Array(count), hits: new Uint8Array(count) });
  }
  const into = Buffer.alloc(B * PAGE);
  const inst = await s.open({ n, tmp });
  for (let i = 0; i < n; i++) inst.store(i, page[i]);
  const end = Date.now() + Number(seconds) * 1000;
  let passes = 0;
  const t0 = process.hrtime.bigint();
  while (Date.now() < end) {
    if (op === 'store') { inst.clear(); for (let i = 0; i < n; i++) inst.store(i, page[i]); }
    else if (op === 'overwrite') for (let i = 0; i < n; i++) inst.store(i, page[i]); // replaces held pages: no fresh frames
    else if (op === 'load') for (let i = 0; i < n; i++) inst.load(i, into.subarray(0, PAGE));
    else if (op === 'storeBatch') { inst.clear(); for (const b of batches) inst.storeBatch(b); }
    else if (op === 'loadBatch') for (const b of batches) inst.loadBatch(b, into.subarray(0, b.offsets.length * PAGE));
    else throw new Error(`unknown op ${op}`);
    passes++;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${subject} ${op} ${corpus}: ${passes} passes of ${n} pages, ${Math.round((passes * n) / secs)} pages/s (clear included for stores)`);
  inst.clear();
  await inst.close();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
