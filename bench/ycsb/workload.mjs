// YCSB-style operation streams, computed before any timing starts: the timed loops only index
// typed arrays, so neither a random number generator nor an allocation runs inside them.
//
//   distribution  'zipf-0.99' (YCSB's default skew), 'zipf-0.7', 'uniform'
//   mix           'C' (100 % reads), 'B' (95 % reads / 5 % updates), 'A' (50 / 50)
//
// Zipfian ranks follow Gray et al., "Quickly generating billion-record synthetic databases"
// (SIGMOD '94), the method YCSB uses: one uniform draw per op and the zeta constants of n. Rank r
// (0 = most popular) is then mapped to key (r · P) mod n with P a prime above n, a bijection, so
// the hot keys are spread over the key space instead of being the first (oldest) keys written.

import { shuffled, xorshift } from '../lib/corpora.mjs';

export const DISTRIBUTIONS = ['zipf-0.99', 'zipf-0.7', 'uniform'];
export const MIXES = { C: 0, B: 0.05, A: 0.5 };

const zetaCache = new Map();

/** ζ(n, θ) = Σ_{i=1..n} 1 / i^θ (O(n); cached per process). */
export function zeta(n, theta) {
  const id = `${n}:${theta}`;
  let z = zetaCache.get(id);
  if (z === undefined) {
    z = 0;
    for (let i = 1; i <= n; i++) z += 1 / i ** theta;
    zetaCache.set(id, z);
  }
  return z;
}

/** `count` zipfian ranks in [0, n), rank 0 the most popular. */
export function zipfianRanks(n, theta, count, rand) {
  if (!(theta > 0 && theta < 1)) throw new RangeError(`zipfian theta must be in (0, 1), got ${theta}`);
  const zetan = zeta(n, theta);
  const zeta2 = 1 + 0.5 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const u = rand() / 2 ** 32;
    const uz = u * zetan;
    let r;
    if (uz < 1) r = 0;
    else if (uz < zeta2) r = 1;
    else r = Math.floor(n * (eta * u - eta + 1) ** alpha);
    out[i] = r < n ? r : n - 1;
  }
  return out;
}

const SCRAMBLE_PRIME = 4294967291; // the largest prime below 2^32: coprime with every n < 2^32

/** (a · b) mod n without losing precision past 2^53. */
function mulmod(a, b, n) {
  const lo = b & 0xffff;
  const hi = (b - lo) / 0x10000;
  return (((a * hi) % n) * 0x10000 + a * lo) % n;
}

/** Rank → key: a permutation of [0, n). */
export function scramble(rank, n) {
  return mulmod(rank, SCRAMBLE_PRIME % n, n);
}

/** Keys in [0, n) drawn from `distribution`. */
export function keyStream(n, distribution, count, rand) {
  if (distribution === 'uniform') {
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = Math.floor((rand() / 2 ** 32) * n);
    return out;
  }
  const m = /^zipf-(0\.\d+)$/.exec(distribution);
  if (!m) throw new RangeError(`unknown distribution '${distribution}' (known: ${DISTRIBUTIONS.join(', ')})`);
  const ranks = zipfianRanks(n, Number(m[1]), count, rand);
  for (let i = 0; i < count; i++) ranks[i] = scramble(ranks[i], n);
  return ranks;
}

/**
 * One precomputed stream: keys[i] (key index), writes[i] (1 = update) and, for updates, seeds[i]
 * (which bytes of the value corpus the new value takes; see values.mjs).
 */
export function makeOps({ n, count, distribution, mix, seed }) {
  const updateFraction = MIXES[mix];
  if (updateFraction === undefined) throw new RangeError(`unknown mix '${mix}' (known: ${Object.keys(MIXES).join(', ')})`);
  const rand = xorshift(seed);
  const keys = keyStream(n, distribution, count, rand);
  const writes = new Uint8Array(count);
  const seeds = new Uint32Array(count);
  const threshold = updateFraction * 2 ** 32;
  for (let i = 0; i < count; i++) {
    if (rand() < threshold) {
      writes[i] = 1;
      seeds[i] = rand();
    }
  }
  return { keys, writes, seeds, count, distribution, mix };
}

/**
 * Sets only: every key of [0, n) once, in a shuffled order, after a warm-up of the first quarter
 * of another shuffle (`warm` ops). The same shape as makeOps, every op an update.
 */
export function makeSetOps({ n, seed }) {
  const rand = xorshift(seed);
  const warm = n >> 2;
  const count = warm + n;
  const keys = new Uint32Array(count);
  keys.set(shuffled(n, rand, warm).subarray(0, warm), 0);
  keys.set(shuffled(n, rand), warm);
  const writes = new Uint8Array(count).fill(1);
  const seeds = new Uint32Array(count);
  for (let i = 0; i < count; i++) seeds[i] = rand();
  return { keys, writes, seeds, count, warm, distribution: 'shuffled', mix: 'sets' };
}
