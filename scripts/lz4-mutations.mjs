#!/usr/bin/env node
// The CI stage of the JS LZ4 decompressor's mutation run: >= 1M mutated and synthetic blocks,
// each decoded by the compiled codec (dist/lz4) and by liblz4 (the addon's LZ4_decompress_safe),
// which must agree (test/support/lz4-mutations.mjs has the rules). Seeds are blocks of real heap
// pages (bench/corpus/heap-pages.mjs), this repository's text and the synthetic shapes, each
// compressed by liblz4 and by the JS compressor. Prints the counts; exits 1 on any failure, with
// the failing blocks in hex.
//
//   node scripts/lz4-mutations.mjs [--inputs N] [--seed S]      (npm run build first)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { heapPages } from '../bench/corpus/heap-pages.mjs';
import { corpusInputs, PAGE, runMutations, seedBlocks } from '../test/support/lz4-mutations.mjs';

const require = createRequire(import.meta.url);
const { Lz4Compressor } = require('../dist/lz4/compress.js');
const { decompressBlock } = require('../dist/lz4/decompress.js');
const { loadNative } = require('../dist/native/binding.js');

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
const count = Number(values.inputs);
const seed = Number(values.seed);
const native = loadNative().lz4;

const heap = await heapPages({ maxPages: 4096 });
const extra = [];
for (let at = 0; at + PAGE <= heap.length; at += 8 * PAGE) extra.push(heap.subarray(at, at + PAGE));
const text = readFileSync(new URL('../README.md', import.meta.url));
for (let at = 0; at + PAGE <= text.length; at += PAGE) extra.push(text.subarray(at, at + PAGE));
const seeds = seedBlocks(corpusInputs(seed, extra), native, new Lz4Compressor());

const started = process.hrtime.bigint();
const stats = runMutations({
  seeds,
  count,
  seed,
  decompress: decompressBlock,
  native,
  progress: (done) => process.stderr.write(`\r${done} / ${count}`),
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stderr.write('\n');

console.log(`seeds: ${seeds.length} blocks (liblz4 and JS) of ${seeds.length / 2} inputs, ${extra.length} of them real heap and text pages`);
console.log(`inputs: ${stats.inputs} (${Object.entries(stats.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
console.log(`outcomes: ${stats.errors} rejected as malformed, ${stats.decoded} decoded, by liblz4 and the JS decoder alike`);
console.log(`${seconds.toFixed(1)} s, ${Math.round(stats.inputs / seconds)} inputs/s (each decoded twice by JS, once by liblz4)`);
if (stats.failures.length > 0) {
  console.log(JSON.stringify(stats.failures, null, 2));
  console.log(`lz4-mutations: ${stats.inputs - stats.failures.length} passed, ${stats.failures.length} failed`);
  process.exit(1);
}
console.log(`lz4-mutations: ${stats.inputs} passed, 0 failed`);
