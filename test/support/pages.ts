// Synthetic pages of the three kinds a swap sees: same-filled, compressible, incompressible.
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from './rng';

export const PAGE = 4096;

export function zeroPage(): Uint8Array {
  return new Uint8Array(PAGE);
}

export function filledPage(word: number): Uint8Array {
  const p = new Uint8Array(PAGE);
  new Uint32Array(p.buffer).fill(word);
  return p;
}

/** JSON-ish text, compresses to roughly a third; `seed` makes pages differ. */
export function textPage(seed: number): Uint8Array {
  const p = new Uint8Array(PAGE);
  let s = '';
  for (let i = 0; s.length < PAGE; i++) {
    s += `{"id":${seed * 1000 + i},"user":"user${(seed * 7 + i) % 97}","ok":${i % 3 === 0}},`;
  }
  p.set(Buffer.from(s.slice(0, PAGE), 'latin1'));
  return p;
}

export function randomPage(): Uint8Array {
  return randomFillSync(new Uint8Array(PAGE));
}

/** `n` random bytes (from `seed`) then zeros: compresses to a little over n bytes. */
export function prefixPage(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(PAGE);
  const r = rng(seed);
  for (let i = 0; i < n; i++) p[i] = (r() * 256) | 0;
  return p;
}

/** A temporary directory for swap files, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tmem-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function equalPages(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
