// The page sets every subject stores and reads back. Made at run time, never committed:
//   heap   real heap pages of a live Node process with a service-like heap (corpus/heap-pages.mjs)
//   zero   zero-filled pages (what a freshly touched or cleared heap page looks like)
//   random incompressible pages (deterministic xorshift, so runs are comparable)
//   text   log lines and JSON records in English-ish words (compresses ~2-4x with LZ4)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heapPages } from '../corpus/heap-pages.mjs';

export const PAGE = 4096;
export const CORPORA = ['heap', 'zero', 'random', 'text'];

export function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/**
 * The integers [0, n) with the first `count` of them a random sample in random order (a partial
 * Fisher-Yates shuffle driven by `rand`, a xorshift() generator); count = n shuffles them all.
 */
export function shuffled(n, rand, count = n) {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let k = 0; k < count && k < n - 1; k++) {
    const j = k + (rand() % (n - k));
    const x = out[k];
    out[k] = out[j];
    out[j] = x;
  }
  return out;
}

export function zeroPages(n) {
  return Buffer.alloc(n * PAGE);
}

export function randomPages(n, seed = 0x2545f491) {
  const buf = Buffer.allocUnsafe(n * PAGE);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const next = xorshift(seed);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return buf;
}

const WORDS = (
  'the of and to in is was for on that with as by at from it an be this are or have not which ' +
  'request response session user account order invoice payment cache shard replica region ' +
  'timeout retry latency error warning info debug upstream downstream gateway service worker ' +
  'queue topic partition offset commit rollback transaction index query table column value ' +
  'customer product catalog price currency shipping address country city street postal code'
).split(' ');
const LEVELS = ['INFO', 'WARN', 'DEBUG', 'ERROR'];

export function textPages(n, seed = 0x9e3779b9) {
  const buf = Buffer.allocUnsafe(n * PAGE);
  const next = xorshift(seed);
  const word = () => WORDS[next() % WORDS.length];
  let line = '';
  let at = 0;
  let t = 1.7e12;
  while (at < buf.length) {
    t += next() % 5000;
    if (next() % 3 === 0) {
      line = JSON.stringify({ id: next() % 1e6, user: `${word()}-${next() % 997}`, amount: (next() % 100000) / 100,
        tags: [word(), word()], note: `${word()} ${word()} ${word()}` }) + '\n';
    } else {
      const k = 4 + (next() % 12);
      let msg = '';
      for (let i = 0; i < k; i++) msg += (i ? ' ' : '') + word();
      line = `${new Date(t).toISOString()} ${LEVELS[next() & 3]} [${word()}-${next() % 64}] ${msg} (${next() % 900}ms)\n`;
    }
    at += buf.write(line, at, 'latin1');
  }
  return buf;
}

/**
 * Writes the corpora to `dir` as `<name>.pages` files of whole pages and returns
 * { name: { file, pages } }. Heap pages come from a fresh child process each run.
 */
export async function makeCorpora(dir, { heap, synthetic, only = CORPORA }) {
  const out = {};
  const put = (name, buf) => {
    if (!only.includes(name)) return;
    const file = join(dir, `${name}.pages`);
    writeFileSync(file, buf);
    out[name] = { file, pages: buf.length / PAGE };
  };
  if (only.includes('heap')) put('heap', await heapPages({ maxPages: heap }));
  if (only.includes('zero')) put('zero', zeroPages(synthetic));
  if (only.includes('random')) put('random', randomPages(synthetic));
  if (only.includes('text')) put('text', textPages(synthetic));
  return out;
}
