// Real heap pages, taken at run time from a live Node process whose heap looks like a service's:
// a session map of small objects, access-log strings, a numeric series, cached JSON documents.
// The child's writable anonymous mappings are read page by page from /proc/<pid>/mem (a parent
// may read its own child's memory). Zero pages are kept, as real swap sees them.
//
// As a library: `await heapPages({ maxPages })` → Buffer of whole 4096-byte pages.
// As a script:  node bench/corpus/heap-pages.mjs OUT_FILE [MAX_PAGES]
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PAGE = 4096;

const WORKLOAD = `
const sessions = new Map();
for (let i = 0; i < 150000; i++) {
  sessions.set('session:' + i.toString(36), {
    uid: i, name: 'member-' + ((i * 2654435761) % 99991), mail: 'm' + i + '@mail.example.org',
    cart: Array.from({ length: i % 5 }, (_, k) => ({ sku: 'SKU' + ((i + k) % 4093), qty: 1 + k })),
    seen: Date.UTC(2024, 0, 1) + i * 7919, active: (i & 3) !== 0, locale: ['en-GB', 'de-DE', 'pt-BR', 'ko-KR'][i & 3],
  });
}
const access = [];
for (let i = 0; i < 80000; i++) {
  access.push('10.' + (i & 255) + '.' + ((i >> 8) & 255) + '.7 - - [' + new Date(1.7e12 + i * 911).toUTCString() +
    '] "GET /catalog/' + (i % 1201) + '?page=' + (i % 9) + ' HTTP/1.1" ' + (i % 17 ? 200 : 404) + ' ' + ((i * 37) % 9000));
}
const series = new Float64Array(1 << 20);
for (let i = 0; i < series.length; i++) series[i] = Math.round(Math.cos(i / 64) * 5000) / 10;
const counters = new Int32Array(1 << 19).map((_, i) => (i * 31) % 1000);
const docs = [];
const all = [...sessions.values()];
for (let i = 0; i < 3000; i++) docs.push(Buffer.from(JSON.stringify({ page: i, items: all.slice(i * 10, i * 10 + 12) })));
process.stdout.write('ready\\n');
setInterval(() => sessions.size + access.length + series[1] + counters[2] + docs.length, 1000);
`;

/** Up to `maxPages` real heap pages from a fresh child process, as one Buffer. */
export async function heapPages({ maxPages = 65536 } = {}) {
  // A plain node: a preloaded runtime (the ASan one of the sanitizer run) would put its own
  // mappings, mostly zero shadow memory, first in the child's address space.
  const { LD_PRELOAD, ...env } = process.env;
  const child = spawn(process.execPath, ['--max-old-space-size=1024', '-e', WORKLOAD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`heap workload exited early (code ${code})`)));
      child.on('error', reject);
    });
    return readAnonymousPages(child.pid, maxPages);
  } finally {
    child.kill('SIGKILL');
  }
}

function readAnonymousPages(pid, maxPages) {
  const out = Buffer.allocUnsafe(maxPages * PAGE);
  const mem = openSync(`/proc/${pid}/mem`, 'r');
  let pages = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const [range, perms, , , , name = ''] = line.trim().split(/\s+/);
      if (!range || !perms.startsWith('rw') || (name && name !== '[heap]')) continue;
      const [lo, hi] = range.split('-').map((h) => parseInt(h, 16));
      for (let addr = lo; addr < hi && pages < maxPages; addr += PAGE) {
        let n = 0;
        try {
          n = readSync(mem, out, pages * PAGE, PAGE, addr);
        } catch {
          continue; // guard pages and the like
        }
        if (n === PAGE) pages++;
      }
      if (pages >= maxPages) break;
    }
  } finally {
    closeSync(mem);
  }
  return out.subarray(0, pages * PAGE);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, max = '65536'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: heap-pages.mjs OUT_FILE [MAX_PAGES]');
    process.exit(2);
  }
  const buf = await heapPages({ maxPages: Number(max) });
  writeFileSync(file, buf);
  console.log(`${file}: ${buf.length / PAGE} pages`);
}
