// Mutation run of zcache-js's LZ4 block decoder (PageCodec.decompress, lib/backends/zcache-js/
// codec.ts, from dist/). Valid blocks of real page kinds are mutated (bit flips, byte changes,
// insertions, deletions, truncation, extension, splices, long length runs) and decoded:
//  - twice, embedded in buffers whose bytes around the block differ: the result must not depend
//    on bytes outside [start, start + len);
//  - against liblz4's LZ4_decompress_safe (the system liblz4 the addon links, through a small C
//    helper, lz4-oracle.c, built here): a block is a page exactly when liblz4 decodes it to 4096
//    bytes and it has no match offset of 0 (which the block format forbids; liblz4 does not check
//    it and fills the match with zeros), and then the bytes agree.
// A decode that takes over a second counts as a finding too. Findings are written to --out and the
// run exits 1.
//
//   node test/fuzz/js-lz4.mjs [--seconds 30] [--seed n] [--out dir]
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PageSource } from '../soak/pages.mjs';
import { rng } from '../support/rng.mjs';

const require = createRequire(import.meta.url);
const { PageCodec, COMPRESS_BOUND } = require('../../dist/backends/zcache-js/codec.js');

// The oracle, built for this run.
const oracleDir = mkdtempSync(join(tmpdir(), 'tmem-lz4-oracle-'));
const oracle = join(oracleDir, 'lz4-oracle');
execFileSync(process.env.CC || 'cc', ['-O2', '-o', oracle, new URL('./lz4-oracle.c', import.meta.url).pathname, '-llz4'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    out: { type: 'string', default: 'build-fuzz/artifacts/js-lz4' },
  },
});
const PAGE = 4096;
const seed = Number(args.seed);
const rand = rng(seed);
const int = (n) => Math.floor(rand() * n);
const codec = new PageCodec();

// Seed blocks, compressed by the codec itself: every page kind of the soak's page source, text of
// random words (so that sequences end everywhere), and pages whose first n bytes are random.
const src = new PageSource(seed);
const page = new Uint8Array(PAGE);
const seeds = [];
const addSeed = () => {
  const n = codec.compress(page);
  if (n <= PAGE) seeds.push(codec.out.slice(0, n));
};
for (let id = 0; id < 256; id++) {
  src.fill(id, page);
  addSeed();
}
const words = ['alpha', 'beta', 'gamma', '{"id":', '"name":', 'true', 'null', '\n'];
for (let k = 0; k < 256; k++) {
  for (let i = 0; i < PAGE; ) for (const c of `${words[int(words.length)]}${int(1000)} `) if (i < PAGE) page[i++] = c.charCodeAt(0);
  addSeed();
}
for (let n = 1; n < PAGE; n += 1 + int(64)) {
  page.fill(0);
  for (let i = 0; i < n; i++) page[i] = int(256);
  addSeed();
}

const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const randomBytes = (n) => Uint8Array.from({ length: n }, () => int(256));

function mutate(block) {
  let b = block.slice();
  for (let k = 1 + int(4); k > 0; k--) {
    const at = int(b.length + 1);
    switch (int(9)) {
      case 0: if (b.length) b[at % b.length] ^= 1 << int(8); break;
      case 1: if (b.length) b[at % b.length] = int(256); break;
      case 2: b = cat(b.subarray(0, at), randomBytes(1), b.subarray(at)); break;
      case 3: b = cat(b.subarray(0, at), b.subarray(at + 1 + int(4))); break;
      case 4: b = b.slice(0, Math.max(0, b.length - 1 - int(16))); break;
      case 5: b = cat(b, randomBytes(1 + int(16))); break;
      case 6: { const o = seeds[int(seeds.length)]; b = cat(b.subarray(0, at), o.subarray(int(o.length))); break; }
      case 7: b = cat(b.subarray(0, at), new Uint8Array(1 + int(8)).fill(255), b.subarray(at)); break;
      default: if (b.length > 2) { const i = at % (b.length - 1); b[i] = int(2) ? 0 : 255; b[i + 1] = int(256); } break;
    }
  }
  return b;
}

const pad = 32;
// Two buffers that differ in every byte; a block is copied into both at the same place and the
// bytes it covered are restored afterwards.
const baseA = Uint8Array.from({ length: COMPRESS_BOUND + 2 * pad + 4096 }, () => int(256));
const baseB = baseA.map((v) => 255 - v);
const bufA = baseA.slice();
const bufB = baseB.slice();
const outA = new Uint8Array(PAGE);
const outB = new Uint8Array(PAGE);
// Walks the block's sequences as the format defines them: true when a match has offset 0.
function hasOffsetZero(b) {
  for (let i = 0; i < b.length; ) {
    const token = b[i++];
    let lit = token >> 4;
    if (lit === 15) for (let l = 255; l === 255 && i < b.length; lit += l) l = b[i++];
    i += lit;
    if (i >= b.length - 1) return false; // the last sequence has no match
    if ((b[i] | (b[i + 1] << 8)) === 0) return true;
    i += 2;
    if ((token & 15) === 15) while (i < b.length && b[i++] === 255);
  }
  return false;
}

// liblz4 in one child process for the whole run: blocks go down its stdin, verdicts come back.
const child = spawn(oracle, [], { stdio: ['pipe', 'pipe', 'inherit'] });
let received = Buffer.alloc(0);
let wake = () => {};
child.stdout.on('data', (d) => {
  received = Buffer.concat([received, d]);
  wake();
});

/** liblz4's verdict on each block: its page when it decodes to one (and has no offset 0), else null. */
async function oraclePages(blocks) {
  child.stdin.write(Buffer.concat(blocks.flatMap((b) => [Buffer.from(Uint32Array.of(b.length).buffer), Buffer.from(b)])));
  const pages = [];
  while (pages.length < blocks.length) {
    const r = received.length >= 4 ? received.readInt32LE(0) : null;
    const size = r === PAGE ? 4 + PAGE : 4;
    if (r === null || received.length < size) {
      await new Promise((resolve) => (wake = resolve));
      continue;
    }
    const ok = r === PAGE && !hasOffsetZero(blocks[pages.length]);
    pages.push(ok ? received.subarray(4, 4 + PAGE) : null);
    received = received.subarray(size);
  }
  return pages;
}

const findings = [];
let pages = 0;

// Decodes each block twice, in buffers that differ around it, then asks liblz4 about all of them.
async function checkBatch(blocks) {
  const seen = [];
  for (const block of blocks) {
    const start = int(pad);
    bufA.set(block, start);
    bufB.set(block, start);
    const t0 = performance.now();
    const a = codec.decompress(bufA, start, block.length, outA);
    const ms = performance.now() - t0;
    const b = codec.decompress(bufB, start, block.length, outB);
    bufA.set(baseA.subarray(start, start + block.length), start);
    bufB.set(baseB.subarray(start, start + block.length), start);
    let what = null;
    if (a !== b || (a && Buffer.compare(outA, outB) !== 0)) what = 'depends on bytes outside the block';
    else if (ms > 1000) what = `took ${ms.toFixed(0)} ms`;
    seen.push({ a, page: a ? outA.slice() : null, what });
  }
  const ref = await oraclePages(blocks);
  blocks.forEach((block, i) => {
    const { a, page } = seen[i];
    if (a && ref[i]) pages++;
    const what =
      seen[i].what ??
      (a && !ref[i]
        ? 'accepts a block liblz4 rejects'
        : !a && ref[i]
          ? 'rejects a block liblz4 decodes to a page'
          : a && Buffer.compare(page, ref[i]) !== 0
            ? 'decodes differently from liblz4'
            : null);
    if (what) findings.push({ what, block });
  });
}

// The unmutated seeds must all decode.
await checkBatch(seeds);
const deadline = performance.now() + Number(args.seconds) * 1000;
let execs = seeds.length;
while (performance.now() < deadline && findings.length < 50) {
  const batch = Array.from({ length: 512 }, () => mutate(seeds[int(seeds.length)])).filter((b) => b.length + 2 * pad <= bufA.length);
  await checkBatch(batch);
  execs += batch.length;
}
child.stdin.end();
rmSync(oracleDir, { recursive: true, force: true });

const kinds = {};
for (const f of findings) kinds[f.what] = (kinds[f.what] ?? 0) + 1;
console.log(
  `js-lz4: ${execs} executions (${seeds.length} seed blocks, seed ${seed}; ${pages} decoded to a page), ` +
    `${findings.length} finding(s) ${JSON.stringify(kinds)}`,
);
if (findings.length > 0) {
  mkdirSync(args.out, { recursive: true });
  findings.forEach((f, i) => writeFileSync(join(args.out, `finding-${i}.lz4`), f.block));
  console.log(`js-lz4: blocks written to ${args.out}/`);
  process.exit(1);
}
