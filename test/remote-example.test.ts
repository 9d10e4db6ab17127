// examples/remote-failover.mjs, the "Done when" script: its own 6-node cluster, zcache with
// a 4 MiB pool and `remote`, 50,000 pages, a master SIGKILLed, every page read back. Uses dist/.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('the remote failover example reads every page back after a master is killed', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'examples', 'remote-failover.mjs')], { timeout: 240_000 });
  const report = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(report).toMatchObject({ pages: 50_000, bad_pages: 0 });
  expect(report.pers_pages_remoted).toBeGreaterThan(0);
  expect(report.remote_pers_pages_succ_get).toBeGreaterThan(0);
}, 300_000);
