// The LZ4 decompressor's mutation run, shared by test/lz4-mutation.test.ts (a short run) and
// scripts/lz4-mutations.mjs (the CI stage, >= 1M inputs). Plain JavaScript so that the script runs
// on the compiled codec (dist/) and the test on the TypeScript one (lib/), each passing its own.
//
// Seeds are LZ4 blocks of a corpus, made by liblz4 and by the JS compressor. Each input is a seed
// block, mutated (truncated, extended, bits flipped, bytes set, an offset or a length rewritten,
// two blocks spliced, or left intact) and decoded at an output capacity that is usually the
// original length, sometimes a little less or more, sometimes tiny. The oracle is liblz4 itself
// (the addon's LZ4_decompress_safe, same bytes, same capacity): the JS decoder must return the
// same value (the decoded length, or the same negative error) and, on success, the same bytes.
// Besides:
//   - any exception is a failure (malformed input must come back as a negative result);
//   - guard bytes around both outputs (the JS one in the same array, where a stray write would
//     land) must be untouched;
//   - the JS decoder runs twice with different bytes around its input in the same array: a read
//     outside the block that changed anything would make the two runs disagree.

export const PAGE = 4096;
const GUARD = 64;
const GUARD_BYTE = 0xa5;
/** What both outputs hold before each decode, so that they start out equal. */
const FILL_BYTE = 0x3c;
const MAX_INPUT = 1 << 17;
const MAX_CAPACITY = 1 << 17;

/** Deterministic PRNG (mulberry32) returning integers in [0, n). */
export function randomInts(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return (n) => Math.floor(next() * n);
}

/**
 * The sequences of a well-formed block, as { token, litLen, offsetAt, offset, matchLen, outAt }
 * (offsetAt: input position of the offset field; outAt: output position where the match starts;
 * the last sequence has offsetAt -1). Returns null for a block that does not parse.
 */
export function sequences(block, len = block.length) {
  const out = [];
  let ip = 0;
  let op = 0;
  // Adds the length bytes that follow a nibble of 15 to n; -1 when the block ends first.
  const withLengthBytes = (n) => {
    let s;
    do {
      if (ip >= len) return -1;
      s = block[ip++];
      n += s;
    } while (s === 255);
    return n;
  };
  while (ip < len) {
    const token = ip;
    let litLen = block[ip++] >>> 4;
    if (litLen === 15 && (litLen = withLengthBytes(litLen)) < 0) return null;
    ip += litLen;
    op += litLen;
    if (ip === len) {
      out.push({ token, litLen, offsetAt: -1, offset: 0, matchLen: 0, outAt: op });
      return out;
    }
    if (ip + 2 > len) return null;
    const offsetAt = ip;
    const offset = block[ip] | (block[ip + 1] << 8);
    ip += 2;
    let matchLen = (block[token] & 15) + 4;
    if (matchLen === 19 && (matchLen = withLengthBytes(matchLen)) < 0) return null;
    out.push({ token, litLen, offsetAt, offset, matchLen, outAt: op });
    op += matchLen;
  }
  return null;
}

/** Synthetic inputs of many shapes; `extra` (e.g. real heap pages) is appended as it is. */
export function corpusInputs(seed, extra = []) {
  const rand = randomInts(seed);
  const inputs = [];
  const enc = new TextEncoder();
  const page = () => new Uint8Array(PAGE);
  inputs.push(page());
  const word = page();
  new DataView(word.buffer).setUint32(0, 0xdeadbeef, true);
  for (let n = 4; n < PAGE; n <<= 1) word.copyWithin(n, 0, n);
  inputs.push(word);
  for (let k = 0; k < 8; k++) {
    const sparse = page();
    for (let i = 0; i < 16; i++) sparse[rand(PAGE)] = 1 + rand(255);
    inputs.push(sparse);
    let s = '';
    while (s.length < PAGE) s += JSON.stringify({ id: rand(1e6), user: `user${rand(500)}`, ok: rand(2) === 1, score: rand(10000) / 100 });
    inputs.push(enc.encode(s).subarray(0, PAGE));
    const floats = page();
    const f = new Float64Array(floats.buffer);
    let v = rand(1000);
    for (let i = 0; i < f.length; i++) f[i] = Math.round((v += rand(100) / 100 - 0.5) * 100) / 100;
    inputs.push(floats);
    const random = page();
    for (let i = 0; i < PAGE; i++) random[i] = rand(256);
    inputs.push(random);
    const mixed = page();
    for (let i = 0; i < PAGE; i++) mixed[i] = i % 512 < 256 ? rand(256) : (i >> 3) & 0xff;
    inputs.push(mixed);
  }
  for (let n = 0; n <= 80; n++) {
    const small = new Uint8Array(n);
    for (let i = 0; i < n; i++) small[i] = rand(3) === 0 ? rand(256) : 97 + (i % 5);
    inputs.push(small);
  }
  for (const n of [100, 1000, 10000, 70000]) {
    let s = '';
    while (s.length < n) s += `GET /item/${rand(300)} 200 ${rand(5000)}\n`;
    inputs.push(enc.encode(s).subarray(0, n));
  }
  return inputs.concat(extra);
}

/** One block per input from each compressor: { block, size } with size the input length. */
export function seedBlocks(inputs, native, compressor) {
  const seeds = [];
  for (const input of inputs) {
    const bound = native.compressBound(input.length);
    const a = new Uint8Array(bound);
    const na = native.compress(input, a);
    const b = new Uint8Array(bound);
    const nb = compressor.compress(input, 0, input.length, b, 0, bound);
    if (na <= 0 || nb <= 0) throw new Error(`seed compression failed for an input of ${input.length} bytes`);
    seeds.push({ block: a.subarray(0, na), size: input.length }, { block: b.subarray(0, nb), size: input.length });
  }
  return seeds;
}

const KINDS = ['intact', 'truncate', 'extend', 'bitflip', 'byteset', 'offset', 'length', 'nibble', 'splice', 'garbage', 'synthetic'];

/** A literal or match length, often at the nibble's edges (0, 14, 15) or just past them. */
function edgyLength(rand) {
  const r = rand(8);
  if (r < 3) return rand(15);
  if (r < 6) return [0, 1, 13, 14, 15, 16, 17, 18, 19][rand(9)];
  return rand(300);
}

function writeLength(buf, p, n) {
  for (n -= 15; n >= 255; n -= 255) buf[p++] = 255;
  buf[p++] = n;
  return p;
}

/**
 * A block built from random sequences rather than from a compressor: short outputs, lengths and
 * offsets at the edges of the rules (offset 0, 7, 8, one past the output written so far). Returns
 * [length, capacity]: the capacity is the decoded size, or puts the output end within a few dozen
 * bytes after one of the last tokens, so that every end-of-block check meets every combination.
 */
function synthetic(rand, buf, at) {
  let p = at;
  let out = 0;
  const tokensAt = [0];
  for (let n = rand(10); n > 0; n--) {
    tokensAt.push(out);
    const lit = edgyLength(rand);
    const match = edgyLength(rand);
    const token = p++;
    if (lit >= 15) p = writeLength(buf, p, lit);
    for (let i = 0; i < lit; i++) buf[p++] = rand(256);
    out += lit;
    const offsets = [1 + rand(Math.max(1, out)), 0, 7, 8, 16, out, out + 1, 1 + rand(65535)];
    const offset = offsets[rand(offsets.length)] & 0xffff;
    buf[p++] = offset & 0xff;
    buf[p++] = offset >>> 8;
    if (match >= 15) p = writeLength(buf, p, match);
    buf[token] = (Math.min(lit, 15) << 4) | Math.min(match, 15);
    out += match + 4;
  }
  const last = edgyLength(rand);
  const token = p++;
  if (last >= 15) p = writeLength(buf, p, last);
  for (let i = 0; i < last; i++) buf[p++] = rand(256);
  buf[token] = Math.min(last, 15) << 4;
  if (rand(4) === 0) return [p - at, out + last];
  const near = tokensAt[Math.max(0, tokensAt.length - 1 - rand(3))];
  return [p - at, Math.max(0, near + rand(72) - 4)];
}

/** Writes the mutated block into buf at `at`; returns its length. */
function mutate(kind, seed, seeds, rand, buf, at) {
  const block = seed.block;
  let len = block.length;
  buf.set(block, at);
  const seqs = kind === 'offset' || kind === 'length' || kind === 'nibble' ? parsed(seed) : null;
  switch (kind) {
    case 'truncate':
      len = rand(len);
      break;
    case 'extend': {
      const n = 1 + rand(32);
      for (let i = 0; i < n; i++) buf[at + len + i] = rand(256);
      len += n;
      break;
    }
    case 'bitflip':
      for (let n = 1 + rand(8); n > 0; n--) buf[at + rand(len)] ^= 1 << rand(8);
      break;
    case 'byteset': {
      const values = [0, 0xff, 0x0f, 0xf0, 0x10, 0x01];
      for (let n = 1 + rand(4); n > 0; n--) buf[at + rand(len)] = rand(2) ? values[rand(values.length)] : rand(256);
      break;
    }
    case 'offset': {
      const withMatch = seqs.filter((s) => s.offsetAt >= 0);
      if (withMatch.length === 0) break;
      const s = withMatch[rand(withMatch.length)];
      const choices = [0, 1, s.outAt, s.outAt + 1, s.outAt + 1 + rand(64), rand(65536), 65535, s.offset + 1, s.offset - 1];
      const v = choices[rand(choices.length)] & 0xffff;
      buf[at + s.offsetAt] = v & 0xff;
      buf[at + s.offsetAt + 1] = v >>> 8;
      break;
    }
    case 'length': {
      // A length that reaches past the end of the input or the output: the nibble set to 15 and
      // extension bytes of 255 written where the sequence's next bytes were.
      const s = seqs[rand(seqs.length)];
      const literal = s.offsetAt < 0 || rand(2) === 0;
      buf[at + s.token] |= literal ? 0xf0 : 0x0f;
      let p = literal ? s.token + 1 : s.offsetAt + 2;
      for (let n = rand(6); n > 0 && p < len; n--) buf[at + p++] = 255;
      if (p < len) buf[at + p] = rand(256);
      break;
    }
    case 'nibble': {
      const s = seqs[rand(seqs.length)];
      const shift = rand(2) ? 4 : 0;
      const nibble = (((buf[at + s.token] >>> shift) & 15) + 1 + rand(3)) & 15;
      buf[at + s.token] = (buf[at + s.token] & ~(15 << shift)) | (nibble << shift);
      break;
    }
    case 'splice': {
      const other = seeds[rand(seeds.length)].block;
      const cut = rand(len + 1);
      const from = rand(other.length + 1);
      const n = Math.min(other.length - from, MAX_INPUT - cut);
      buf.set(other.subarray(from, from + n), at + cut);
      len = cut + n;
      break;
    }
    case 'garbage':
      len = rand(300);
      for (let i = 0; i < len; i++) buf[at + i] = rand(4) === 0 ? 255 : rand(256);
      break;
    default:
      break;
  }
  return len;
}

/** The seed's sequences, parsed once. */
function parsed(seed) {
  seed.sequences ??= sequences(seed.block);
  return seed.sequences;
}

/**
 * Output capacity for a block that decodes to `size` bytes: mostly that, else a little less or
 * more, a tiny one, or one that puts the output end just after where one of its sequences starts
 * (so that the decoder's end checks fire at every sequence, not only the last).
 */
function capacityFor(seed, size, rand) {
  const r = rand(100);
  if (r < 50) return size;
  if (r < 60) return Math.max(0, size - 1 - rand(16));
  if (r < 70) return size + 1 + rand(64);
  if (r < 80) return rand(100);
  const seqs = parsed(seed);
  const s = seqs[rand(seqs.length)];
  return Math.max(0, s.outAt - s.litLen + rand(80) - 8);
}

function hex(a) {
  return Buffer.from(a.buffer, a.byteOffset, a.length).toString('hex');
}

/**
 * Runs `count` mutated inputs. options: { seeds, count, seed, decompress (the JS
 * decompressBlock), native (binding.lz4), progress(done) every 2^16 inputs }. Returns counts and
 * up to 10 failures; `failures.length === 0` is the pass condition.
 */
export function runMutations({ seeds, count, seed, decompress, native, progress }) {
  const rand = randomInts(seed);
  const srcJs = new Uint8Array(GUARD + MAX_INPUT + 64 + GUARD);
  const srcNative = new Uint8Array(MAX_INPUT + 64);
  const dstJs = new Uint8Array(GUARD + MAX_CAPACITY + 64 + GUARD);
  const dstNative = new Uint8Array(GUARD + MAX_CAPACITY + 64 + GUARD);
  // Only the bytes that matter are reset each time: the guards and the output region.
  const prepareOutput = (dst, cap) => {
    dst.fill(GUARD_BYTE, 0, GUARD);
    dst.fill(FILL_BYTE, GUARD, GUARD + cap);
    dst.fill(GUARD_BYTE, GUARD + cap, GUARD + cap + GUARD);
  };
  const stats = { inputs: 0, errors: 0, decoded: 0, byKind: Object.fromEntries(KINDS.map((k) => [k, 0])), failures: [] };
  const fail = (what, detail) => {
    if (stats.failures.length < 10) stats.failures.push({ what, ...detail });
  };

  for (let i = 0; i < count; i++) {
    const s = seeds[rand(seeds.length)];
    const kind = KINDS[rand(KINDS.length)];
    let len;
    let cap;
    if (kind === 'synthetic') {
      [len, cap] = synthetic(rand, srcNative, 0);
    } else {
      len = mutate(kind, s, seeds, rand, srcNative, 0);
      cap = capacityFor(s, s.size, rand);
    }
    cap = Math.min(cap, MAX_CAPACITY);
    const input = srcNative.subarray(0, len);
    stats.inputs++;
    stats.byKind[kind]++;

    prepareOutput(dstNative, cap);
    const expected = native.decompress(input, dstNative.subarray(GUARD, GUARD + cap));

    const results = [];
    for (const around of [0x00, 0xff]) {
      srcJs.fill(around, 0, GUARD);
      srcJs.set(input, GUARD);
      srcJs.fill(around, GUARD + len, GUARD + len + GUARD);
      prepareOutput(dstJs, cap);
      let got;
      try {
        got = decompress(srcJs, GUARD, len, dstJs, GUARD, cap);
      } catch (err) {
        fail('exception', { kind, block: hex(input), capacity: cap, error: String(err) });
        break;
      }
      results.push(got);
      for (let g = 0; g < GUARD; g++) {
        if (dstJs[g] !== GUARD_BYTE || dstJs[GUARD + cap + g] !== GUARD_BYTE) {
          fail('write outside the output', { kind, block: hex(input), capacity: cap });
          break;
        }
      }
      if (got !== expected) {
        fail('result differs from liblz4', { kind, block: hex(input), capacity: cap, js: got, liblz4: expected });
        break;
      }
      if (got > 0 && Buffer.compare(dstJs.subarray(GUARD, GUARD + got), dstNative.subarray(GUARD, GUARD + got)) !== 0) {
        fail('bytes differ from liblz4', { kind, block: hex(input), capacity: cap });
        break;
      }
    }
    if (results.length === 2 && results[0] !== results[1]) {
      fail('result depends on bytes outside the input', { kind, block: hex(input), capacity: cap });
    }
    for (let g = 0; g < GUARD; g++) {
      if (dstNative[g] !== GUARD_BYTE || dstNative[GUARD + cap + g] !== GUARD_BYTE) {
        fail('liblz4 wrote outside its output', { kind, block: hex(input), capacity: cap });
        break;
      }
    }
    if (expected < 0) stats.errors++;
    else stats.decoded++;
    if (progress && (i & 0xffff) === 0xffff) progress(i + 1);
  }
  return stats;
}
