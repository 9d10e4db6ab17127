// The TypeScript LZ4 codec (lib/lz4) against liblz4, the addon's own (binding.lz4: the raw
// LZ4_compress_default / LZ4_decompress_safe): blocks of each decode with the other, byte for byte,
// on every corpus: the synthetic page kinds of test/support/pages.ts, real heap pages of a live
// Node process, text, random bytes, and inputs of every small length and some large ones.
import { randomFillSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Lz4Compressor } from '../lib/lz4/compress';
import { decompressBlock } from '../lib/lz4/decompress';
import { compressBound } from '../lib/lz4/format';
import { loadNative, type NativeLz4 } from '../lib/native/binding';
import { filledPage, PAGE, randomPage, textPage, zeroPage } from './support/pages';
import { rng } from './support/rng';
// @ts-expect-error plain JavaScript, shared with the mutation run
import { corpusInputs, sequences } from './support/lz4-mutations.mjs';
// @ts-expect-error plain JavaScript, shared with the benchmark
import { heapPages } from '../bench/corpus/heap-pages.mjs';

const native: NativeLz4 = loadNative().lz4;

function pagesOf(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + PAGE <= buf.length; at += PAGE) out.push(buf.subarray(at, at + PAGE));
  return out;
}

/** Real text: this repository's README and TypeScript sources. */
function repoText(): Uint8Array {
  const root = join(__dirname, '..');
  const files = ['README.md', ...readdirSync(join(root, 'lib'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join('lib', f))];
  return Buffer.concat(files.map((f) => readFileSync(join(root, f))));
}

const corpora: Record<string, Uint8Array[]> = {};

beforeAll(async () => {
  const r = rng(11);
  const text = repoText();
  corpora['page kinds'] = [zeroPage(), filledPage(0x01020304), filledPage(0xffffffff)]
    .concat(Array.from({ length: 64 }, (_, i) => textPage(i)), Array.from({ length: 16 }, () => randomPage()));
  corpora.heap = pagesOf(await heapPages({ maxPages: 1024 }));
  corpora['text pages'] = pagesOf(text);
  corpora['large text'] = [text, Buffer.concat([text, text, text])];
  corpora.random = Array.from({ length: 32 }, () => {
    const n = Math.floor(r() * 20000);
    return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  });
  corpora['every small length and mixed shapes'] = corpusInputs(5) as Uint8Array[];
});

const CORPORA = ['page kinds', 'heap', 'text pages', 'large text', 'random', 'every small length and mixed shapes'];

describe.each(CORPORA)('lz4 interop: %s', (name) => {
  it('JS blocks decode with liblz4, liblz4 blocks with JS, byte for byte', () => {
    const inputs = corpora[name];
    expect(inputs.length).toBeGreaterThan(0);
    const js = new Lz4Compressor();
    let jsBytes = 0;
    let libBytes = 0;
    for (const input of inputs) {
      const n = input.length;
      const bound = compressBound(n);
      expect(native.compressBound(n)).toBe(bound);

      const a = new Uint8Array(bound);
      const na = js.compress(input, 0, n, a, 0, bound);
      expect(na).toBeGreaterThan(0);
      const viaLib = new Uint8Array(n);
      expect(native.decompress(a.subarray(0, na), viaLib)).toBe(n);
      expect(Buffer.compare(viaLib, input)).toBe(0);

      const b = new Uint8Array(bound);
      const nb = native.compress(input, b);
      expect(nb).toBeGreaterThan(0);
      const viaJs = new Uint8Array(n + 100);
      expect(decompressBlock(b, 0, nb, viaJs, 0, n)).toBe(n);
      expect(Buffer.compare(viaJs.subarray(0, n), input)).toBe(0);
      // More room changes nothing; the JS block decodes with JS too.
      expect(decompressBlock(a, 0, na, viaJs, 0, n + 100)).toBe(n);
      expect(Buffer.compare(viaJs.subarray(0, n), input)).toBe(0);

      jsBytes += na;
      libBytes += nb;
    }
    // Same algorithm family, so the same ratio within a percent: a regression in match finding shows here.
    expect(jsBytes).toBeLessThanOrEqual(libBytes * 1.01 + 16);
  });

  it('JS blocks keep the format rules: matches of 4+ bytes, none in the last 12, last 5 bytes literals', () => {
    const js = new Lz4Compressor();
    const violations: string[] = [];
    let matches = 0;
    corpora[name].forEach((input, i) => {
      const n = input.length;
      const block = new Uint8Array(compressBound(n));
      const len = js.compress(input, 0, n, block, 0, block.length);
      const seqs = sequences(block, len) as { litLen: number; offset: number; matchLen: number; outAt: number; offsetAt: number }[] | null;
      if (seqs === null) return void violations.push(`input ${i}: the block does not parse`);
      const last = seqs[seqs.length - 1];
      if (last.offsetAt !== -1 || last.litLen < Math.min(n, 5)) violations.push(`input ${i}: does not end in 5 literals`);
      for (const s of seqs.slice(0, -1)) {
        matches++;
        if (s.matchLen < 4 || s.outAt >= n - 12 || s.outAt + s.matchLen > n - 5 || s.offset < 1 || s.offset > Math.min(s.outAt, 65535)) {
          violations.push(`input ${i}: match of ${s.matchLen} at ${s.outAt}, offset ${s.offset}, input of ${n}`);
        }
      }
    });
    expect(violations.slice(0, 10)).toEqual([]);
    if (name !== 'random') expect(matches).toBeGreaterThan(0);
  });
});

describe('lz4 JS compressor', () => {
  it('gives every input the same block whatever it compressed before (stale table entries are ignored)', () => {
    const shared = new Lz4Compressor();
    const inputs = [...corpora.heap.slice(0, 64), ...corpora['page kinds'], ...corpora.random.slice(0, 4)];
    for (const input of [...inputs, ...inputs.reverse()]) {
      const bound = compressBound(input.length);
      const a = new Uint8Array(bound);
      const b = new Uint8Array(bound);
      const na = shared.compress(input, 0, input.length, a, 0, bound);
      const nb = new Lz4Compressor().compress(input, 0, input.length, b, 0, bound);
      expect(na).toBe(nb);
      expect(Buffer.compare(a.subarray(0, na), b.subarray(0, nb))).toBe(0);
    }
  });

  it('returns 0 when the block does not fit, and the same block when it just fits', () => {
    const js = new Lz4Compressor();
    for (const input of [textPage(3), corpora.heap[100], randomPage(), new Uint8Array(0)]) {
      const full = new Uint8Array(compressBound(input.length));
      const n = js.compress(input, 0, input.length, full, 0, full.length);
      const tight = new Uint8Array(n);
      expect(js.compress(input, 0, input.length, tight, 0, n - 1)).toBe(0);
      expect(js.compress(input, 0, input.length, tight, 0, n)).toBe(n);
      expect(Buffer.compare(tight, full.subarray(0, n))).toBe(0);
    }
  });

  it('compresses from and into views at any offset', () => {
    const js = new Lz4Compressor();
    const page = corpora.heap[7];
    const src = new Uint8Array(PAGE + 13);
    src.set(page, 13);
    const dst = new Uint8Array(compressBound(PAGE) + 7);
    const n = js.compress(src, 13, PAGE, dst, 7, dst.length - 7);
    const out = new Uint8Array(PAGE + 3);
    expect(decompressBlock(dst, 7, n, out, 3, PAGE)).toBe(PAGE);
    expect(Buffer.compare(out.subarray(3), page)).toBe(0);
    expect(native.decompress(dst.subarray(7, 7 + n), new Uint8Array(PAGE))).toBe(PAGE);
  });

  it('keeps working after its position stamps pass 2^31 and the table is cleared', () => {
    // 33 inputs of 64 MiB take the stamps past 2^31. Random bytes with no room for the block: the
    // search skips through them and gives up at the end, so each call is quick.
    const js = new Lz4Compressor();
    const big = randomFillSync(new Uint8Array(64 << 20));
    for (let i = 0; i < 33; i++) expect(js.compress(big, 0, big.length, new Uint8Array(0), 0, 0)).toBe(0);
    for (const page of corpora.heap.slice(0, 32)) {
      const a = new Uint8Array(compressBound(PAGE));
      const b = new Uint8Array(compressBound(PAGE));
      const na = js.compress(page, 0, PAGE, a, 0, a.length);
      expect(na).toBe(new Lz4Compressor().compress(page, 0, PAGE, b, 0, b.length));
      expect(Buffer.compare(a.subarray(0, na), b.subarray(0, na))).toBe(0);
    }
  });

  it('rejects ranges outside the arrays with a RangeError', () => {
    const js = new Lz4Compressor();
    const buf = new Uint8Array(16);
    expect(() => js.compress(buf, 8, 9, buf, 0, 16)).toThrow(RangeError);
    expect(() => js.compress(buf, -1, 4, buf, 0, 16)).toThrow(RangeError);
    expect(() => js.compress(buf, 0, 4, buf, 10, 7)).toThrow(RangeError);
    expect(() => decompressBlock(buf, 0, 17, buf, 0, 1)).toThrow(RangeError);
    expect(() => decompressBlock(buf, 0, 1, buf, 1.5, 1)).toThrow(RangeError);
  });
});
