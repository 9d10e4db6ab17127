// zcache-js's LZ4 block decoder (lib/backends/zcache-js/lz4-block.ts): round trips, and the
// cases the mutation run against liblz4 (test/fuzz/js-lz4.mjs) found in the `lz4` package's
// decoder, which read past the end of a block and could turn the bytes after it (the next object
// in the frame) into a page.
import { describe, expect, it } from 'vitest';
import { PageCodec } from '../lib/backends/zcache-js/codec';
import { decodeBlock } from '../lib/backends/zcache-js/lz4-block';
import { PAGE, randomPage, textPage } from './support/pages';

const codec = new PageCodec();
const compressed = (page: Uint8Array): Uint8Array => codec.out.slice(0, codec.compress(page));

describe('zcache-js LZ4 block decoder', () => {
  it('decodes blocks of the codec from any position in a larger buffer', () => {
    const half = randomPage().fill(7, PAGE / 2);
    for (const page of [textPage(3), half, new Uint8Array(PAGE)]) {
      const block = compressed(page);
      const buf = new Uint8Array(block.length + 100).fill(0xee);
      buf.set(block, 37);
      const into = new Uint8Array(PAGE);
      expect(decodeBlock(buf, 37, 37 + block.length, into)).toBe(PAGE);
      expect(into).toEqual(page);
    }
  });

  it('reads nothing after the block: a match length cut short is refused, not completed from the next bytes', () => {
    // One literal, then a match at offset 1 whose length bytes (255 ...) run to the end of the
    // block; the byte after it would complete the length to exactly one page of zeros.
    const block = [0x1f, 0x00, 0x01, 0x00, ...new Array(15).fill(0xff)];
    const buf = Uint8Array.from([...block, 0xfb, 0x00]);
    expect(codec.decompress(buf, 0, block.length, new Uint8Array(PAGE))).toBe(false);
    // Every cut of a real block, followed by the rest of it or by other bytes, decodes the same
    // way, and never to a page.
    const real = compressed(textPage(5));
    const other = real.map((b) => b ^ 0xa5);
    for (let end = 1; end < real.length; end++) {
      const b = other.slice();
      b.set(real.subarray(0, end));
      const cut = decodeBlock(b, 0, end, new Uint8Array(PAGE));
      expect(decodeBlock(real, 0, end, new Uint8Array(PAGE)), `cut at ${end}`).toBe(cut);
      expect(cut).not.toBe(PAGE);
    }
  });

  it('refuses a match offset of 0, which the block format forbids', () => {
    const block = Uint8Array.from([0x40, 1, 2, 3, 4, 0x00, 0x00, 0x50, 9, 9, 9, 9, 9]);
    expect(decodeBlock(block, 0, block.length, new Uint8Array(20))).toBe(-1);
  });

  it('accepts a last literal run of exactly 15 bytes after its length byte, as liblz4 does', () => {
    // 4081 zeros as one literal-then-match sequence, then 15 literals: token 0xf0, length byte 0.
    const head = [0x1f, 0x00, 0x01, 0x00, ...new Array(15).fill(0xff), 0xec];
    const block = Uint8Array.from([...head, 0xf0, 0x00, ...new Array(15).fill(0x41)]);
    const into = new Uint8Array(PAGE);
    expect(decodeBlock(block, 0, block.length, into)).toBe(PAGE);
    expect(into.subarray(0, PAGE - 15).every((b) => b === 0)).toBe(true);
    expect(into.subarray(PAGE - 15).every((b) => b === 0x41)).toBe(true);
  });
});
