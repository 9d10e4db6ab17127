// Memory a SwapCache gives back reaches the OS: after set/delete cycles, close() and
// unloadBackend() a process is back near the RSS it started with. Run with V8's young generation
// at the size Node gives it in a container (1 MiB semi-spaces): on a large host V8 keeps up to
// 32 MiB of young generation once a busy process has grown it, whoever allocated, and never
// returns it while the process runs, which would hide what this test looks at.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('SwapCache gives its memory back', () => {
  it.each(['zcache', 'zcache-js'])('after 400,000 set/delete cycles, close and unload (%s)', (backend) => {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=1', join(root, 'test/fixtures/swapcache-release.mjs'), join(root, 'dist/index.js'), backend, '400000'],
      { cwd: root, encoding: 'utf8', timeout: 240_000 },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.loadedMiB - r.startMiB).toBeGreaterThan(16); // it did hold memory
    expect(r.endMiB - r.startMiB).toBeLessThan(10);
  });
});
