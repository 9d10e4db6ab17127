// The outside check, run as a separate process against the built package (`tmem` resolves
// to dist/ through package.json "exports"): 50,000 real heap pages swapped through zcache and
// read back exactly, counters moving, unload draining to the file, swapoff.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('public API round trip from an outside script', () => {
  it.each(['zcache', 'zcache-js'])('50,000 real heap pages through %s', (backend) => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built by npm install (prepare)').toBe(true);
    const out = execFileSync(process.execPath, [join(root, 'examples', 'frontswap-roundtrip.mjs'), '50000', backend], {
      cwd: root,
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.pages).toBe(50000);
    expect(result.mismatches).toBe(0);
    expect(result.mismatchesAfterUnload).toBe(0);
    expect(result.succStores).toBeGreaterThan(40000);
    expect(result.storedPages).toBeGreaterThan(0);
  });

  it.each(['zcache', 'zcache-js'])('200,000 real heap pages through a 16 MiB %s pool: written back, bounded, exact', (backend) => {
    const out = execFileSync(process.execPath, [join(root, 'examples', 'frontswap-roundtrip.mjs'), '200000', backend, '16'], {
      cwd: root,
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.pages).toBe(200000);
    expect(result.mismatches).toBe(0);
    expect(result.mismatchesAfterUnload).toBe(0);
    expect(result.writtenBackPages).toBeGreaterThan(0);
    expect(result.maxPoolBytesSeen).toBeLessThanOrEqual(16 << 20);
    expect(result.fileReads).toBeGreaterThan(0);
  });
});
