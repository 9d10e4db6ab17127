// Constants of the LZ4 block format (lz4_Block_format.md in the lz4 project) shared by the
// compressor and the decompressor.
//
// A block is a run of sequences: a token (high nibble literal length, low nibble match length
// minus MIN_MATCH, 15 meaning "more length bytes follow, each added, until one is not 255"), the
// literals, a little-endian 16-bit offset back into the output, the match length bytes. The last
// sequence has literals only. Parsing restrictions that let decoders copy in wide strides: the last
// LAST_LITERALS bytes are literals, and no match starts in the last MF_LIMIT bytes of the block.

export const MIN_MATCH = 4;
export const LAST_LITERALS = 5;
export const MF_LIMIT = 12;
export const MAX_OFFSET = 65535;
/** Largest input liblz4 accepts (LZ4_MAX_INPUT_SIZE); the JS compressor keeps the same limit. */
export const MAX_INPUT_SIZE = 0x7e000000;

/** Worst-case block size for `n` input bytes (all literals), as LZ4_compressBound. */
export function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/** Throws RangeError unless [start, start + length) is an integer range inside `array`. */
export function checkRange(array: Uint8Array, start: number, length: number, what: string): void {
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > array.length) {
    throw new RangeError(`${what}: range ${start}+${length} is not inside an array of ${array.length} bytes`);
  }
}
