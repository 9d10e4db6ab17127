// Measures the two pure-JS LZ4 block codecs installed with tmem on 4 KiB pages, as zcache-js uses
// them: one page at a time, a reused hash table that is cleared before every compression (required
// for correctness: a stale entry can point at the current position and yield an offset-0 match), a
// reused scratch buffer. Every compressed block is round-tripped and compared before timing, and
// checked against the LZ4 block-format rules (invalid-LZ4 column). "no-match" pages are those the
// codec reports as incompressible (return 0); zcache-js refuses them or stores them raw.
//
//   node bench/codec-js.mjs [seconds-per-case]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const lz4js = require('lz4js');
const lz4bin = require('lz4/lib/binding.js');

const PAGE = 4096;
const NPAGES = 256;
const seconds = Number(process.argv[2] ?? 0.5);

// ---- synthetic pages (deterministic PRNG) ---------------------------------------------------
let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
function makePages(kind) {
  const buf = new Uint8Array(NPAGES * PAGE);
  const enc = new TextEncoder();
  for (let p = 0; p < NPAGES; p++) {
    const page = buf.subarray(p * PAGE, (p + 1) * PAGE);
    if (kind === 'zero-ish') {
      for (let k = 0; k < 8; k++) page[Math.floor(rnd() * PAGE)] = 1 + Math.floor(rnd() * 255);
    } else if (kind === 'json') {
      let s = '';
      while (s.length < PAGE) {
        s += JSON.stringify({ id: Math.floor(rnd() * 1e6), user: 'user' + Math.floor(rnd() * 500),
          email: `u${Math.floor(rnd() * 999)}@example.com`, active: rnd() < 0.5,
          score: Math.round(rnd() * 10000) / 100, tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + Math.floor(rnd() * 3)) }) + '\n';
      }
      page.set(enc.encode(s).subarray(0, PAGE));
    } else if (kind === 'float64') {
      const f = new Float64Array(page.buffer, page.byteOffset, PAGE / 8);
      let v = 1000 * rnd();
      for (let i = 0; i < f.length; i++) { v += rnd() - 0.5; f[i] = Math.round(v * 100) / 100; }
    } else {
      for (let i = 0; i < PAGE; i++) page[i] = Math.floor(rnd() * 256);
    }
  }
  return buf;
}

// ---- codecs: compress(pages, index) -> length in `out`, decompress(out, len, into, index) -> bytes
const out = new Uint8Array(8192);
const codecs = {
  lz4js: (() => {
    const table = new Uint32Array(1 << 16);
    return {
      compress(pages, p) {
        table.fill(0);
        return lz4js.compressBlock(pages, out, p * PAGE, PAGE, table);
      },
      decompress(src, len, into, p) {
        return lz4js.decompressBlock(src, into, 0, len, p * PAGE) - p * PAGE;
      },
    };
  })(),
  'lz4 (binding.js)': (() => {
    const table = new Uint32Array(1 << 16);
    return {
      compress(pages, p) {
        table.fill(0);
        // compressDependent needs src to be exactly the page: one subarray view per page.
        return lz4bin.compressDependent(pages.subarray(p * PAGE, (p + 1) * PAGE), out, 0, table, 0, out.length);
      },
      decompress(src, len, into, p) {
        return lz4bin.uncompress(src, into.subarray(p * PAGE, (p + 1) * PAGE), 0, len);
      },
    };
  })(),
};

// LZ4 block-format rules liblz4's decoder enforces: offsets in range, every match starts at least
// 12 bytes (MFLIMIT) before the end of the block, the last 5 bytes are literals.
function conforms(b, len) {
  let i = 0, out = 0;
  while (i < len) {
    const token = b[i++];
    let lit = token >> 4;
    if (lit === 15) { let x; do { x = b[i++]; lit += x; } while (x === 255); }
    i += lit; out += lit;
    if (i === len) return out === PAGE;
    if (out > PAGE - 12) return false;
    const off = b[i] | (b[i + 1] << 8); i += 2;
    if (off === 0 || off > out) return false;
    let ml = token & 15;
    if (ml === 15) { let x; do { x = b[i++]; ml += x; } while (x === 255); }
    out += ml + 4;
    if (out > PAGE - 5) return false;
  }
  return false;
}

function bench(codec, pages) {
  const into = new Uint8Array(pages.length);
  // Correctness first: every page must round-trip (0 = "no match found", stored raw by zcache-js).
  let total = 0, incompressible = 0, invalid = 0;
  const lens = new Int32Array(NPAGES);
  const blocks = [];
  for (let p = 0; p < NPAGES; p++) {
    const n = codec.compress(pages, p);
    lens[p] = n;
    if (n === 0) { incompressible++; total += PAGE; blocks.push(null); continue; }
    total += n;
    blocks.push(out.slice(0, n));
    if (!conforms(out, n)) invalid++;
    const got = codec.decompress(blocks[p], n, into, p);
    if (got !== PAGE) throw new Error(`page ${p}: decompressed ${got} bytes`);
    for (let i = 0; i < PAGE; i++) {
      if (into[p * PAGE + i] !== pages[p * PAGE + i]) throw new Error(`page ${p}: round trip differs at ${i}`);
    }
  }
  let n = 0, t0 = process.hrtime.bigint(), limit = BigInt(Math.round(seconds * 1e9));
  do { for (let p = 0; p < NPAGES; p++) codec.compress(pages, p); n += NPAGES; }
  while (process.hrtime.bigint() - t0 < limit);
  const cps = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  let m = 0; t0 = process.hrtime.bigint();
  do { for (let p = 0; p < NPAGES; p++) if (blocks[p]) codec.decompress(blocks[p], lens[p], into, p); m += NPAGES; }
  while (process.hrtime.bigint() - t0 < limit);
  const dps = m / (Number(process.hrtime.bigint() - t0) / 1e9);
  return { cps, dps, ratio: (NPAGES * PAGE) / total, incompressible, invalid };
}

const t = new Uint32Array(1 << 16);
let c0 = process.hrtime.bigint(), k = 0;
for (; k < 20000; k++) t.fill(0);
console.log(`hash-table clear (64K u32): ${(Number(process.hrtime.bigint() - c0) / k / 1000).toFixed(2)} us per page (included below)`);
console.log('codec             pages          compress/s  decompress/s  ratio  no-match  invalid-LZ4');
for (const kind of ['zero-ish', 'json', 'float64', 'random']) {
  const pages = makePages(kind);
  for (const [name, codec] of Object.entries(codecs)) {
    const r = bench(codec, pages);
    console.log(`${name.padEnd(17)} ${kind.padEnd(10)} ${Math.round(r.cps).toString().padStart(14)} ${(r.incompressible === NPAGES ? 'n/a' : Math.round(r.dps).toString()).padStart(13)}  ${r.ratio.toFixed(2).padStart(5)}  ${(r.incompressible + '/' + NPAGES).padStart(8)}  ${(r.invalid + '/' + NPAGES).padStart(11)}`);
  }
}
