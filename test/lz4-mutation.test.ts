// The TypeScript LZ4 decompressor on mutated and synthetic blocks, with liblz4's
// LZ4_decompress_safe as the oracle (test/support/lz4-mutations.mjs says how): same result, same
// bytes, no exception, no write outside the output, no read outside the input that matters. CI
// runs the same with >= 1M inputs (scripts/lz4-mutations.mjs); this is the short run.
import { describe, expect, it } from 'vitest';
import { Lz4Compressor } from '../lib/lz4/compress';
import { decompressBlock } from '../lib/lz4/decompress';
import { loadNative } from '../lib/native/binding';
import { textPage } from './support/pages';
// @ts-expect-error plain JavaScript, shared with scripts/lz4-mutations.mjs
import { corpusInputs, runMutations, seedBlocks } from './support/lz4-mutations.mjs';

const native = loadNative().lz4;

describe('lz4 JS decompressor under mutation', () => {
  it('agrees with liblz4 on 100,000 mutated and synthetic blocks', () => {
    const extra = Array.from({ length: 16 }, (_, i) => textPage(i));
    const seeds = seedBlocks(corpusInputs(21, extra), native, new Lz4Compressor());
    const stats = runMutations({ seeds, count: 100_000, seed: 0x5eed, decompress: decompressBlock, native });
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(100_000);
    // Both outcomes are exercised in bulk, and every kind of mutation ran.
    expect(stats.errors).toBeGreaterThan(20_000);
    expect(stats.decoded).toBeGreaterThan(10_000);
    for (const n of Object.values(stats.byKind) as number[]) expect(n).toBeGreaterThan(5_000);
  });

  it('reports a malformed block as liblz4 does, with a negative result, and never throws', () => {
    const out = new Uint8Array(4096);
    const cases: [number[], number][] = [
      [[], 16], // empty input
      [[0x10], 16], // literal promised, input ends
      [[0x00, 0x01, 0x00], 64], // a match before any output
      [[0xf0], 64], // literal length bytes missing
      [[0x40, 1, 2, 3, 4, 0x00, 0x00, 0x00], 64], // ends without a last literal-only sequence
    ];
    for (const [bytes, cap] of cases) {
      const src = Uint8Array.from(bytes);
      const expected = native.decompress(src, out.subarray(0, cap));
      expect(expected).toBeLessThan(0);
      expect(decompressBlock(src, 0, src.length, out, 0, cap)).toBe(expected);
    }
    // A lone zero token is an empty block, at any capacity.
    expect(decompressBlock(Uint8Array.of(0), 0, 1, out, 0, 0)).toBe(0);
    expect(native.decompress(Uint8Array.of(0), new Uint8Array(0))).toBe(0);
  });
});
