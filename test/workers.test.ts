// The addon in worker_threads: several workers at once, each with its own areas and pool, and a
// worker terminated in the middle of its operations (with writeback in flight) does not take the
// process down. Uses the built package (dist/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/pages';

const root = join(__dirname, '..');
const script = join(__dirname, 'fixtures', 'worker-swap.mjs');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function run(workerData: object): { worker: Worker; done: Promise<unknown> } {
  const worker = new Worker(script, { workerData });
  const done = new Promise((resolve, reject) => {
    worker.on('message', (m) => m.done && resolve(m));
    worker.on('error', reject);
    worker.on('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
  return { worker, done };
}

describe('worker_threads', () => {
  it('several workers each swap through their own zcache pool at once', async () => {
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
    const results = await Promise.all([0, 1, 2, 3].map((i) => run({ path: join(tmp.dir, `w${i}`), pages: 3000 }).done));
    for (const r of results as { pages: number; written: number }[]) {
      expect(r.pages).toBe(3000);
      expect(r.written).toBeGreaterThan(0); // ~6 MiB of compressed pages through a 1 MiB pool: writeback ran
    }
  });

  it('a worker terminated mid-operation does not crash the process', async () => {
    for (let i = 0; i < 3; i++) {
      const { worker, done } = run({ path: join(tmp.dir, `t${i}`), pages: 2000, forever: true });
      done.catch(() => {}); // terminate() makes it exit with code 1, which is the point
      await new Promise((resolve) => worker.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 20 + i * 30));
      await worker.terminate();
    }
    // The process is still healthy: a fresh worker completes normally.
    const r = (await run({ path: join(tmp.dir, 'after'), pages: 500 }).done) as { pages: number };
    expect(r.pages).toBe(500);
  });
});
