// A small deterministic PRNG (mulberry32), so a randomized test replays with the same seed. Plain
// JavaScript so that the soak (test/soak/, run by node without a TypeScript loader) shares it.
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
