// The cost per page of checking and encrypting pages that leave RAM (issue 14): CRC32C in
// JavaScript (lib/util/crc32c.ts, what the swap layer checks every read with) and in the addon
// (SSE4.2/ARMv8 instructions, what the native writeback seals with), AES-256-GCM seal and open
// through node:crypto (what an encrypted area pays per page written and read in JS), and a whole
// swap-file round trip (writePage + readPage with no backend: pwrite, pread, check) with and
// without encryption. Pages are real heap pages and random ones; each figure is the best of
// several rounds of at least `minSeconds` of CPU time.
//
//   node bench/seals.mjs [--quick]        prints a markdown table
// bench/run.mjs calls measureSeals() and puts the table in its report.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { heapPages } from './corpus/heap-pages.mjs';
import { ROOT } from './lib/subjects.mjs';

const require = createRequire(import.meta.url);
const PAGE = 4096;

/**
 * Best ns per page of fn(pageIndex) over `pages` pages, rounds of at least minSeconds of CPU time.
 * CPU time (user + system, process.cpuUsage), not wall time: the figure is what a page costs the
 * process, and a machine shared with other work inflates it much less.
 */
function nsPerPage(pages, fn, { minSeconds, minRounds }) {
  for (let i = 0; i < pages; i++) fn(i); // warm-up: JIT, page faults of the buffers
  let best = Infinity;
  for (let round = 0; round < minRounds; round++) {
    let n = 0;
    const t0 = process.cpuUsage();
    let elapsed = 0;
    do {
      for (let i = 0; i < pages; i++) fn(i);
      n += pages;
      const t = process.cpuUsage(t0);
      elapsed = (t.user + t.system) / 1e6;
    } while (elapsed < minSeconds);
    best = Math.min(best, (elapsed * 1e9) / n);
  }
  return best;
}

/** heapFile: a heap corpus already made (bench/run.mjs's); otherwise `heap` pages are made here. */
export async function measureSeals({ minSeconds = 0.3, minRounds = 3, heap = 2048, heapFile = null } = {}) {
  const { crc32c } = require(join(ROOT, 'dist', 'util', 'crc32c.js'));
  const { PageSeals } = require(join(ROOT, 'dist', 'swap', 'page-seals.js'));
  const { swapon } = require(join(ROOT, 'dist', 'index.js'));
  const { loadNative } = require(join(ROOT, 'dist', 'native', 'binding.js'));
  let native = null;
  try {
    native = loadNative();
  } catch {
    // reported as n/a
  }
  const heapBuf = heapFile ? readFileSync(heapFile).subarray(0, heap * PAGE) : await heapPages({ maxPages: heap });
  heap = heapBuf.length / PAGE;
  const random = new Uint8Array(heap * PAGE);
  for (let i = 0; i < random.length; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
  const corpora = { heap: new Uint8Array(heapBuf.buffer, heapBuf.byteOffset, heapBuf.length), random };
  const opts = { minSeconds, minRounds };
  const rows = [];
  const tmp = mkdtempSync(join(os.tmpdir(), 'tmem-bench-seals-'));
  try {
    for (const [name, data] of Object.entries(corpora)) {
      const pages = data.length / PAGE;
      const page = (i) => data.subarray(i * PAGE, (i + 1) * PAGE);
      const row = { corpus: name, pages };
      row.crcJs = nsPerPage(pages, (i) => crc32c(data, 0, i * PAGE, (i + 1) * PAGE), opts);
      row.crcNative = native ? nsPerPage(pages, (i) => native.crc32c(page(i)), opts) : null;
      const seals = new PageSeals(0, pages, true);
      row.gcmSeal = nsPerPage(pages, (i) => seals.seal(i, data, i, 1), opts);
      // open() needs the page as sealed: keep one ciphertext per slot.
      const sealed = new Uint8Array(data.length);
      for (let i = 0; i < pages; i++) sealed.set(seals.seal(i, data, i, 1).bytes.subarray(0, PAGE), i * PAGE);
      const scratch = new Uint8Array(PAGE);
      row.gcmOpen = nsPerPage(pages, (i) => {
        scratch.set(sealed.subarray(i * PAGE, (i + 1) * PAGE));
        seals.open(i, scratch, 0);
      }, opts);
      for (const encrypt of [false, true]) {
        const area = swapon(join(tmp, `swap-${name}-${encrypt}`), { pages: pages + 1, encrypt });
        const into = new Uint8Array(PAGE);
        row[encrypt ? 'roundTripEncrypted' : 'roundTrip'] = nsPerPage(pages, (i) => {
          const slot = area.writePage(page(i));
          area.takePage(slot, into);
        }, opts);
        area.swapoff();
      }
      rows.push(row);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { crc32cImpl: native ? native.crc32cImpl : null, rows };
}

const f = (ns) => (ns === null ? 'n/a' : ns < 10_000 ? `${Math.round(ns)}` : `${(ns / 1000).toFixed(1)} µs`);

export function sealsMarkdown(r) {
  const md = [
    `#### Checksums and encryption of swap-file pages (ns per 4 KiB page; native CRC32C: ${r.crc32cImpl ?? 'n/a'})`,
    '',
    '| corpus | CRC32C JS | CRC32C native | AES-256-GCM seal (JS) | AES-256-GCM open (JS) | file write+read | file write+read, encrypted |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of r.rows) {
    md.push(`| ${row.corpus} (${row.pages} pages) | ${f(row.crcJs)} | ${f(row.crcNative)} | ${f(row.gcmSeal)} | ${f(row.gcmOpen)} | ${f(row.roundTrip)} | ${f(row.roundTripEncrypted)} |`);
  }
  md.push('');
  return md.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const r = await measureSeals(values.quick ? { minSeconds: 0.1, minRounds: 2, heap: 512 } : {});
  process.stdout.write(sealsMarkdown(r));
}
