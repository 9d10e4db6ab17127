// The YCSB bench's building blocks: the op streams it times and the value check it trusts.
// A zipfian stream must have the skew it claims, a scrambled rank must still be a permutation,
// and the check must catch a value of another key, an older version or one wrong byte.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types, like the rest of bench/
import { keyStream, makeOps, makeSetOps, scramble, zeta } from '../bench/ycsb/workload.mjs';
// @ts-expect-error plain ESM without types
import { xorshift } from '../bench/lib/corpora.mjs';
// @ts-expect-error plain ESM without types
import { initialSeed, jsonCorpus, sizeRule, Values } from '../bench/ycsb/values.mjs';

describe('bench/ycsb op streams', () => {
  it('the steady-state set pass sets every key exactly once after its warm-up, in a shuffled order', () => {
    const n = 10_007;
    const ops = makeSetOps({ n, seed: 3 });
    expect(ops.warm).toBe(n >> 2);
    expect(ops.count).toBe(ops.warm + n);
    expect(ops.writes.every((w: number) => w === 1)).toBe(true);
    const timed: Uint32Array = ops.keys.subarray(ops.warm);
    expect([...timed].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    let inOrder = 0;
    for (let i = 1; i < n; i++) if (timed[i] === timed[i - 1] + 1) inOrder++;
    expect(inOrder).toBeLessThan(n / 100);
    expect(new Set(ops.keys.subarray(0, ops.warm)).size).toBe(ops.warm);
  });

  it('zipfian keys follow 1/rank^θ: the hottest keys get the share the distribution gives them', () => {
    const n = 1000;
    const count = 400_000;
    for (const theta of [0.99, 0.7]) {
      const keys: Uint32Array = keyStream(n, `zipf-${theta}`, count, xorshift(7));
      const hits = new Map<number, number>();
      for (const k of keys) hits.set(k, (hits.get(k) ?? 0) + 1);
      const top = [...hits.values()].sort((a, b) => b - a);
      const z = zeta(n, theta);
      // Rank 0 and the top 10 combined, against the exact probabilities (within 5 %).
      expect(top[0] / count).toBeCloseTo(1 / z, 2);
      let want10 = 0;
      for (let r = 1; r <= 10; r++) want10 += 1 / r ** theta / z;
      const got10 = top.slice(0, 10).reduce((a, b) => a + b, 0) / count;
      expect(Math.abs(got10 / want10 - 1)).toBeLessThan(0.05);
    }
  });

  it('uniform keys cover the key space evenly', () => {
    const n = 100;
    const keys: Uint32Array = keyStream(n, 'uniform', 200_000, xorshift(3));
    const hits = new Array(n).fill(0);
    for (const k of keys) hits[k]++;
    expect(Math.min(...hits)).toBeGreaterThan(1700);
    expect(Math.max(...hits)).toBeLessThan(2300);
  });

  it('scrambling ranks is a permutation of the key space (no key lost, none doubled)', () => {
    for (const n of [1, 2, 97, 1000, 65536, 1_000_003]) {
      const seen = new Uint8Array(n);
      for (let r = 0; r < n; r++) seen[scramble(r, n)]++;
      expect(seen.every((x) => x === 1), `n=${n}`).toBe(true);
    }
  });

  it('mixes have their update share, and a stream is the same for the same seed', () => {
    for (const [mix, share] of [['C', 0], ['B', 0.05], ['A', 0.5]] as const) {
      const ops = makeOps({ n: 5000, count: 100_000, distribution: 'zipf-0.99', mix, seed: 11 });
      const updates = ops.writes.reduce((a: number, b: number) => a + b, 0) / ops.count;
      expect(updates).toBeCloseTo(share, 2);
      const again = makeOps({ n: 5000, count: 100_000, distribution: 'zipf-0.99', mix, seed: 11 });
      expect(Buffer.compare(Buffer.from(again.keys.buffer), Buffer.from(ops.keys.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(again.seeds.buffer), Buffer.from(ops.seeds.buffer))).toBe(0);
    }
    expect(() => makeOps({ n: 10, count: 10, distribution: 'zipf-1.5', mix: 'C', seed: 1 })).toThrow(RangeError);
    expect(() => makeOps({ n: 10, count: 10, distribution: 'uniform', mix: 'D', seed: 1 })).toThrow(RangeError);
  });
});

describe('bench/ycsb values', () => {
  const corpus: Buffer = jsonCorpus(1 << 20);

  it('the JSON corpus is JSON records, one per line', () => {
    const lines = corpus.toString('utf8').split('\n').slice(0, -1); // the last one is cut at the end
    expect(lines.length).toBeGreaterThan(1000);
    for (const l of lines.slice(0, 200)) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('a value read back passes; another key, an older version or one changed byte does not', () => {
    const values = new Values(corpus, { min: 1024, max: 5120 });
    for (let k = 0; k < 200; k++) {
      const seed = initialSeed(k);
      const copy = Buffer.from(values.write(k, 3, seed));
      expect(copy.length).toBe(sizeRule({ min: 1024, max: 5120 }).of(k));
      expect(values.exact(copy, k, 3, seed)).toBe(true);
      expect(values.stampOk(copy, k, 3)).toBe(true);
      expect(values.exact(copy, k + 1, 3, seed)).toBe(false);
      expect(values.stampOk(copy, k, 2)).toBe(false);
      expect(values.exact(copy.subarray(0, copy.length - 1), k, 3, seed)).toBe(false);
      const flipped = Buffer.from(copy);
      flipped[8 + (k * 37) % (copy.length - 8)] ^= 1;
      expect(values.exact(flipped, k, 3, seed)).toBe(false);
    }
  });

  it('writes into one reused buffer: a view per size, made up front', () => {
    const values = new Values(corpus, 100);
    const a = values.write(1, 1, 5);
    const b = values.write(2, 1, 9);
    expect(a.buffer).toBe(b.buffer);
    expect(a.length).toBe(100);
    expect(() => new Values(corpus, 4)).toThrow(RangeError);
  });
});
