// The issues' outside checks, run as a separate process against the built package (`tmem` resolves
// to dist/ through package.json "exports"), for every allocator of both backends: 50,000 real heap
// pages swapped through and read back exactly, counters moving, unload draining to the file,
// swapoff; the default zcache allocator holds them at >= 0.95 of their compressed size with <= 16
// bytes of native metadata per page (issue 11).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOCATORS } from '../lib/index';
import { backendsUnderTest } from './support/backends';

const root = join(__dirname, '..');

describe('public API round trip from an outside script', () => {
  it.each(backendsUnderTest)('50,000 real heap pages through $label', ({ backend, allocator, label }) => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built by npm install (prepare)').toBe(true);
    const out = execFileSync(process.execPath, [join(root, 'examples', 'frontswap-roundtrip.mjs'), '50000', label], {
      cwd: root,
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.pages).toBe(50000);
    expect(result.mismatches).toBe(0);
    expect(result.mismatchesAfterUnload).toBe(0);
    expect(result.succStores).toBeGreaterThan(40000);
    expect(result.storedPages).toBeGreaterThan(0);
    expect(result.allocator).toBe(allocator);
    if (backend === 'zcache' && allocator === ALLOCATORS.zcache[0]) {
      expect(result.poolDensity).toBeGreaterThanOrEqual(0.95);
      expect(result.metadataBytesPerPage).toBeLessThanOrEqual(16);
    }
  }, 600_000); // a separate process: a minute or more on a busy machine

  it.each(backendsUnderTest)('200,000 real heap pages through a 16 MiB $label pool: written back, bounded, exact', ({ label }) => {
    const out = execFileSync(process.execPath, [join(root, 'examples', 'frontswap-roundtrip.mjs'), '200000', label, '16'], {
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
  }, 600_000); // a separate process pushing 200,000 pages through writeback: minutes on a busy machine
});
