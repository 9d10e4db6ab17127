// A private redis-server for one bench worker: Debian's binary, loopback only, the first free
// port of 6400–6409, its own temporary directory, no persistence (no RDB snapshots, no AOF), so
// it holds exactly the data set in memory. Started as a child of the worker, so it shares the
// worker's memory cgroup in the memory-limit runs. stop() ends it and removes its directory.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const PORTS = [6400, 6409];
const BIN = process.env.TMEM_REDIS_SERVER || 'redis-server';

export function redisVersion() {
  try {
    return /v=(\S+)/.exec(execFileSync(BIN, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return null;
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// True when the server answering on `port` is the one with process id `pid` (not someone else's
// server that took the port between our check and our start).
function answers(port, pid) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500);
    sock.once('connect', () => sock.write('INFO server\r\n'));
    sock.on('data', (d) => {
      text += d;
      const m = /process_id:(\d+)/.exec(text);
      if (m) done(Number(m[1]) === pid);
    });
    sock.once('error', () => done(false));
    sock.once('timeout', () => done(false));
  });
}

/** Starts a server; resolves to { port, pid, stop() }. */
export async function startRedis(tmp) {
  if (redisVersion() === null) {
    throw new Error(`${BIN} not found: install Debian's redis-server (apt-get install redis-server)`);
  }
  for (let port = PORTS[0]; port <= PORTS[1]; port++) {
    if (!(await portFree(port))) continue;
    const dir = mkdtempSync(join(tmp, 'redis-'));
    const child = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning', '--protected-mode', 'yes', '--maxmemory', '0'], {
      stdio: 'ignore',
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const stop = async () => {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 100 && !exited; i++) {
      if (await answers(port, child.pid)) return { port, pid: child.pid, stop, get exited() { return exited; } };
      await new Promise((r) => setTimeout(r, 20));
    }
    await stop(); // lost the port to someone else, or failed to start: try the next one
  }
  throw new Error(`no free port for redis-server in ${PORTS[0]}–${PORTS[1]}`);
}
