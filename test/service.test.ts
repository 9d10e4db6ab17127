// The example HTTP service end to end, scaled down: a dataset several times the resident budget,
// served over loopback under autocannon load, every response body checked against its checksum.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('example SwapCache service under load', () => {
  it.each(['zcache', 'zcache-js'])('serves every document correctly with %s', (backend) => {
    const out = execFileSync(
      process.execPath,
      [join(root, 'examples/swapcache-service/load.mjs'), '--docs', '50000', '--resident-mib', '4', '--pool-mib', '8',
        '--seconds', '3', '--connections', '8', '--backend', backend, '--json'],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    const s = JSON.parse(out.trim().split('\n').pop()!);
    expect(s.dataToResidentRatio).toBeGreaterThanOrEqual(4);
    expect(s.mismatches).toBe(0);
    expect(s.errors).toBe(0);
    expect(s.checked).toBeGreaterThan(0);
    expect(s.gets.gets_pool + s.gets.gets_file).toBeGreaterThan(0);
  });
});
