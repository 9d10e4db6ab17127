// LZ4 block codecs on 4 KiB pages, one page per call as zcache-js uses them: tmem's own
// TypeScript codec (lib/lz4, compiled in dist/), lz4js (a pure-JS LZ4 package; the `lz4` package's
// JS block functions, zcache-js's codec before, were dropped with that package's install step), and
// liblz4 itself through the addon
// (binding.lz4: LZ4_compress_default / LZ4_decompress_safe plus one N-API call each). Every block is
// decoded by liblz4 and compared before anything is timed: "invalid" counts blocks liblz4
// rejects or decodes wrongly. Codecs are timed in turns, several rounds, best round reported, so
// that a busy machine slows them alike. Corpora: real heap pages of a live Node process, JSON,
// float64 series, nearly-zero pages, this repository's text, random bytes.
//
//   npm run build && node bench/codec-js.mjs [--seconds 0.3] [--rounds 5] [--json]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { heapPages } from './corpus/heap-pages.mjs';

const require = createRequire(import.meta.url);
const { Lz4Compressor } = require('../dist/lz4/compress.js');
const { decompressBlock } = require('../dist/lz4/decompress.js');
const native = require('../dist/native/binding.js').loadNative().lz4;
const lz4js = require('lz4js');

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '0.3' }, rounds: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const PAGE = 4096;
const NPAGES = 512;
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

// ---- corpora: NPAGES pages each ----------------------------------------------------------------
let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
function synthetic(kind) {
  const buf = new Uint8Array(NPAGES * PAGE);
  const enc = new TextEncoder();
  for (let p = 0; p < NPAGES; p++) {
    const page = buf.subarray(p * PAGE, (p + 1) * PAGE);
    if (kind === 'zero-ish') {
      for (let k = 0; k < 8; k++) page[Math.floor(rnd() * PAGE)] = 1 + Math.floor(rnd() * 255);
    } else if (kind === 'json') {
      let s = '';
      while (s.length < PAGE) {
        s += JSON.stringify({ id: Math.floor(rnd() * 1e6), user: `user${Math.floor(rnd() * 500)}`, active: rnd() < 0.5,
          score: Math.round(rnd() * 10000) / 100, tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + Math.floor(rnd() * 3)) }) + '\n';
      }
      page.set(enc.encode(s).subarray(0, PAGE));
    } else if (kind === 'float64') {
      const f = new Float64Array(page.buffer, page.byteOffset, PAGE / 8);
      let v = 1000 * rnd();
      for (let i = 0; i < f.length; i++) f[i] = Math.round((v += rnd() - 0.5) * 100) / 100;
    } else {
      for (let i = 0; i < PAGE; i++) page[i] = Math.floor(rnd() * 256);
    }
  }
  return buf;
}
function repeatToPages(bytes) {
  const buf = new Uint8Array(NPAGES * PAGE);
  for (let at = 0; at < buf.length; at += bytes.length) buf.set(bytes.subarray(0, Math.min(bytes.length, buf.length - at)), at);
  return buf;
}
const heap = await heapPages({ maxPages: NPAGES * 8 });
const heapSample = new Uint8Array(NPAGES * PAGE);
for (let p = 0; p < NPAGES; p++) heapSample.set(heap.subarray(p * 8 * PAGE, p * 8 * PAGE + PAGE), p * PAGE);
const corpora = {
  heap: heapSample,
  json: synthetic('json'),
  float64: synthetic('float64'),
  'zero-ish': synthetic('zero-ish'),
  text: repeatToPages(readFileSync(new URL('../README.md', import.meta.url))),
  random: synthetic('random'),
};

// ---- codecs: compress(pages, p) → block length in `out` (0: not compressed); decompress(block, len, into) → bytes
const out = new Uint8Array(8192);
// As zcache-js asks: a block that is not smaller than the page is not wanted (0, stored raw).
const outPage = out.subarray(0, PAGE - 1);
const pageView = (pages, p) => pages.subarray(p * PAGE, (p + 1) * PAGE);
const codecs = {
  'tmem lz4 (JS)': (() => {
    const c = new Lz4Compressor();
    return {
      compress: (pages, p) => c.compress(pages, p * PAGE, PAGE, out, 0, PAGE - 1),
      decompress: (block, len, into) => decompressBlock(block, 0, len, into, 0, PAGE),
    };
  })(),
  lz4js: (() => {
    const table = new Uint32Array(1 << 16);
    return {
      compress(pages, p) {
        table.fill(0);
        return lz4js.compressBlock(pages, out, p * PAGE, PAGE, table);
      },
      decompress: (block, len, into) => lz4js.decompressBlock(block, into, 0, len, 0),
    };
  })(),
  'liblz4 (N-API call)': {
    compress: (pages, p) => native.compress(pageView(pages, p), outPage),
    decompress: (block, len, into) => native.decompress(block, into),
  },
};

function prepare(codec, pages) {
  const blocks = [];
  let bytes = 0;
  let invalid = 0;
  let stored = 0;
  const check = new Uint8Array(PAGE);
  for (let p = 0; p < NPAGES; p++) {
    const n = codec.compress(pages, p);
    if (n === 0) {
      bytes += PAGE;
      continue;
    }
    const block = out.slice(0, n);
    const page = pageView(pages, p);
    if (native.decompress(block, check) !== PAGE || Buffer.compare(check, page) !== 0) invalid++;
    const into = new Uint8Array(PAGE);
    if (codec.decompress(block, n, into) !== PAGE || Buffer.compare(into, page) !== 0) throw new Error(`page ${p} does not round-trip`);
    blocks.push(block);
    bytes += n;
    stored++;
  }
  return { blocks, ratio: (NPAGES * PAGE) / bytes, invalid, stored };
}

function timeRound(fn) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  do n += fn();
  while (process.hrtime.bigint() - t0 < limit);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const results = [];
for (const [corpus, pages] of Object.entries(corpora)) {
  const prepared = Object.fromEntries(Object.entries(codecs).map(([name, c]) => [name, prepare(c, pages)]));
  const best = Object.fromEntries(Object.keys(codecs).map((name) => [name, { compress: 0, decompress: 0 }]));
  const into = new Uint8Array(PAGE);
  for (let r = 0; r < rounds; r++) {
    for (const [name, codec] of Object.entries(codecs)) {
      const { blocks } = prepared[name];
      best[name].compress = Math.max(best[name].compress, timeRound(() => {
        for (let p = 0; p < NPAGES; p++) codec.compress(pages, p);
        return NPAGES;
      }));
      if (blocks.length > 0) {
        best[name].decompress = Math.max(best[name].decompress, timeRound(() => {
          for (const b of blocks) codec.decompress(b, b.length, into);
          return blocks.length;
        }));
      }
    }
  }
  for (const name of Object.keys(codecs)) {
    const { ratio, invalid, stored } = prepared[name];
    results.push({ corpus, codec: name, compressPagesPerSec: Math.round(best[name].compress),
      decompressPagesPerSec: stored ? Math.round(best[name].decompress) : null, ratio: Number(ratio.toFixed(3)), stored, invalid });
  }
}

if (values.json) {
  console.log(JSON.stringify({ node: process.version, lz4: require('../dist/index.js').versions().lz4, pages: NPAGES, results }, null, 2));
} else {
  console.log(`${NPAGES} pages per corpus, best of ${rounds} rounds of ${seconds} s; pages/s`);
  console.log('corpus    codec                 compress/s  decompress/s   ratio  compressed  invalid');
  for (const r of results) {
    console.log(`${r.corpus.padEnd(9)} ${r.codec.padEnd(20)} ${String(r.compressPagesPerSec).padStart(11)} ${String(r.decompressPagesPerSec ?? 'n/a').padStart(13)} ${r.ratio.toFixed(2).padStart(7)} ${`${r.stored}/${NPAGES}`.padStart(11)} ${String(r.invalid).padStart(8)}`);
  }
}
