// Starts one soak worker (worker.mjs) in a child process, under the iofault shim when `shim` (the
// .so path) is given, and resolves with its SOAK_RESULT, or with { crashed, output } when it died
// before printing one (a native crash, an assertion, an uncaught error).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FaultControl } from '../faults/iofault.mjs';

const WORKER = new URL('./worker.mjs', import.meta.url).pathname;
const MARK = 'SOAK_RESULT ';

/**
 * params: { backend, allocator, ops, seed, faults: 'none'|'short'|'mixed', ...worker knobs }.
 * The worker's files go to `dir`; its swap files (the ones the shim watches) to `dir`/swap/.
 */
export function runWorker(dir, params, shim = null) {
  let env = process.env;
  if (shim && params.faults !== 'none') {
    const control = FaultControl.create(`${dir}.control`, params.seed);
    env = { ...env, ...control.env(shim, join(dir, 'swap') + '/') };
    control.close();
  }
  const child = spawn(process.execPath, [WORKER, JSON.stringify({ ...params, dir })], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (line) resolve(JSON.parse(line.slice(MARK.length)));
      else resolve({ ...params, crashed: `exit ${code ?? signal}`, output: out.slice(-4000) });
    });
  });
}
