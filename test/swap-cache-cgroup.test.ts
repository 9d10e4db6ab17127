// SwapCache's memory promise, checked the way a container checks it: 250 MiB of 1-5 KiB values
// through a SwapCache (32 MiB resident, 48 MiB pool) inside a 128 MiB memory cgroup, every value
// read back and compared; the cgroup's peak charge stays within the baseline before the first
// value + residentBytes + the pool limit + the key index + 15%. The same data in a Map is
// OOM-killed there. Needs root and cgroup v1 (as in CI); skipped elsewhere.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canUseMemoryCgroups, runInMemoryCgroup } from './support/cgroup';

const root = join(__dirname, '..');
const script = join(root, 'examples', 'swapcache-cgroup.mjs');
const MiB = 2 ** 20;

describe.skipIf(!canUseMemoryCgroups())('SwapCache in a 128 MiB memory cgroup', () => {
  it.each(['zcache', 'zcache-js'])('stores and reads back 250 MiB with %s within its bound', async (backend) => {
    const r = await runInMemoryCgroup(128 * MiB, process.execPath, [script, '--backend', backend], root);
    expect(r.oomKills, r.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.cgroup).toBe(true);
    expect(s.values).toBeGreaterThan(50_000);
    expect(s.verified).toBe(s.values);
    expect(s.mismatches).toBe(0);
    const bound = (s.baselineChargeBytes + 32 * MiB + 48 * MiB + s.indexBytes) * 1.15;
    expect(r.maxUsageBytes).toBeLessThanOrEqual(bound);
  });

  it('the same data in a Map is OOM-killed there', async () => {
    const r = await runInMemoryCgroup(128 * MiB, process.execPath, [script, '--store', 'map'], root);
    expect(r.signal ?? r.code).not.toBe(0);
    expect(r.oomKills).toBeGreaterThan(0);
  });
});
