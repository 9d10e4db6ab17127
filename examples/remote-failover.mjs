// RAMster's remote tier, end to end, on a Redis Cluster this script starts itself: six
// redis-server processes on loopback (3 masters + 3 replicas, node timeout 2 s, no persistence),
// formed with `redis-cli --cluster create`. It loads zcache with a 4 MiB pool and the `remote`
// option, swaps out 50,000 pages of its own, sees `ramster/pers_pages_remoted` move, SIGKILLs one
// master, waits for its replica to take over, and reads every page back, byte for byte.
// Needs Debian's redis-server and redis-cli (apt-get install redis-server).
//   node examples/remote-failover.mjs [PAGES]      (prints one JSON line; exit code 1 on a bad page)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { debugfs, loadBackend, swapon, unloadBackend } = require('../dist/index.js');

const PAGES = Number(process.argv[2] ?? 50_000);
const PAGE = 4096;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port that is free now, with its cluster bus port (+10000) free too. */
async function freePort() {
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all([port, port + 10000].map((p) => new Promise((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return port;
  }
}

const cli = (port, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();

async function startCluster(dir) {
  const nodes = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no',
      '--maxmemory', '512mb', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    nodes.push({ port, proc });
  }
  for (const n of nodes) while (cli(n.port, 'PING') !== 'PONG') await sleep(50);
  execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'ignore' });
  for (const n of nodes) while (!cli(n.port, 'CLUSTER', 'INFO').includes('cluster_state:ok')) await sleep(100);
  // WAIT counts only replicas whose link is up and synced: until then every batch would come back
  // short and stay local.
  const synced = (port) => {
    const info = cli(port, 'INFO', 'replication');
    return !info.includes('role:slave') || (info.includes('master_link_status:up') && info.includes('master_sync_in_progress:0'));
  };
  for (const n of nodes) while (!synced(n.port)) await sleep(100);
  return nodes;
}

// Pages that look like a service's heap: a counter, some text, random bytes, zeros.
function page(i) {
  const p = new Uint8Array(PAGE);
  const text = Buffer.from(`{"id":${i},"user":"user${i % 977}","tags":["a${i % 13}","b${i % 7}"]}`.repeat(20));
  text.copy(p, 0, 0, 1200);
  let x = (i * 2654435761) >>> 0;
  for (let k = 1200; k < 1200 + (i % 900); k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    p[k] = x >>> 24;
  }
  return p;
}

const dir = mkdtempSync(join(tmpdir(), 'tmem-remote-example-'));
const nodes = await startCluster(dir);
let bad = 0;
try {
  await loadBackend('zcache', { maxPoolBytes: 4 << 20, remote: { nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) } });
  const area = swapon(join(dir, 'swap'), { pages: PAGES + 1 });
  const slots = new Uint32Array(PAGES);
  for (let i = 0; i < PAGES; i++) {
    slots[i] = area.writePage(page(i));
    if (i % 256 === 255) await new Promise((r) => setImmediate(r)); // remotify runs between batches
  }
  await sleep(500);
  const remoted = debugfs.read('ramster/pers_pages_remoted');
  if (remoted === 0) throw new Error('no page went remote');

  // SIGKILL a master and wait until its replica took over (ROLE of a replica: slave, host, port, ...).
  const master = nodes.find((n) => cli(n.port, 'ROLE').startsWith('master'));
  const replicas = nodes.filter((n) => cli(n.port, 'ROLE').split('\n')[2] === String(master.port));
  master.proc.kill('SIGKILL');
  const t0 = Date.now();
  while (!replicas.some((r) => cli(r.port, 'ROLE').startsWith('master'))) await sleep(200);
  const failoverMs = Date.now() - t0;

  const into = new Uint8Array(PAGE);
  for (let i = 0; i < PAGES; i++) if (Buffer.compare(area.readPage(slots[i], into), page(i)) !== 0) bad++;
  const stats = debugfs.snapshot();
  area.swapoff();
  await unloadBackend('zcache');
  process.stdout.write(JSON.stringify({
    pages: PAGES,
    pers_pages_remoted: remoted,
    remote_pers_pages_succ_get: stats['ramster/remote_pers_pages_succ_get'],
    remote_replica_reads: stats['ramster/remote_replica_reads'],
    killed_master: master.port,
    failover_ms: failoverMs,
    bad_pages: bad,
  }) + '\n');
} finally {
  for (const n of nodes) n.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(bad === 0 ? 0 : 1);
