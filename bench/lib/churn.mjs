// The churn measurement, for one native allocator (run by worker.mjs in its own process).
import { readFileSync } from 'node:fs';
import { shuffled, xorshift } from './corpora.mjs';
import { nativePool, PAGE, poolCounters, SUBJECTS } from './subjects.mjs';

const now = () => process.hrtime.bigint();

// Churn: `churnPages` pages stored (the heap corpus cycled, offsets 0..N-1), a random half freed
// with automatic compaction off, then compact() timed. Frames are compared with the ideal: the
// live objects' bytes in their size classes (zsmalloc: obj_used x class size; zbud and z3fold:
// their chunk bytes), divided by 4096. Every live page is read back afterwards.
export function churnRun(spec, progress) {
  const { allocator } = SUBJECTS[spec.subject];
  const corpus = spec.corpora[spec.memCorpus];
  const buf = readFileSync(corpus.file);
  const m = corpus.pages;
  const n = spec.churnPages;
  progress(`${spec.subject} · churn: storing ${n} pages`);
  const pool = nativePool(n, { allocator, autoCompact: false });
  try {
    pool.initArea(0, n, -1, { crcs: new Uint32Array(n), tags: null, counters: null, key: null });
    for (let i = 0; i < n; i++) pool.store(0, i, buf.subarray((i % m) * PAGE, (i % m + 1) * PAGE));
    const stored = poolCounters(pool);
    progress(`${spec.subject} · churn: freeing half`);
    // A random half (seeded: every run frees the same).
    const half = n >>> 1;
    const offsets = shuffled(n, xorshift(0x9e3779b9), half);
    const live = new Uint8Array(n).fill(1);
    for (let k = 0; k < half; k++) live[offsets[k]] = 0;
    pool.invalidateBatch(0, offsets.subarray(0, half));
    const before = poolCounters(pool);
    progress(`${spec.subject} · churn: compact`);
    const t0 = now();
    const released = pool.compact();
    const seconds = Number(now() - t0) / 1e9;
    const after = poolCounters(pool);
    // Ideal frames: live objects rounded to their allocator's unit of placement.
    let idealBytes = 0;
    if (allocator === 'zsmalloc') {
      for (const [k, v] of Object.entries(after)) {
        const m2 = /^zsmalloc\/class\/(\d+)\/obj_used$/.exec(k);
        if (m2) idealBytes += v * Number(m2[1]);
      }
    } else {
      idealBytes = after[`${allocator}/zbytes`];
    }
    // Raw pages in the huge class take a frame each: already counted as 4096 by the class table.
    const into = Buffer.alloc(PAGE);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      if (!live[i]) continue;
      if (!pool.load(0, i, into, false) || !into.equals(buf.subarray((i % m) * PAGE, (i % m + 1) * PAGE))) mismatches++;
    }
    return [{
      subject: spec.subject,
      allocator,
      pages: n,
      framesStored: stored['zcache/pool_pages'],
      framesAfterFree: before['zcache/pool_pages'],
      framesAfterCompact: after['zcache/pool_pages'],
      released,
      compactSeconds: seconds,
      idealFrames: idealBytes / PAGE,
      ratioToIdeal: after['zcache/pool_pages'] / (idealBytes / PAGE),
      livePages: after['zcache/stored_pages'],
      mismatches,
    }];
  } finally {
    pool.close();
  }
}

