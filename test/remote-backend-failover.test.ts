// The remote tier behind loadBackend + swapon while nodes of a real 3 + 3 cluster fail (node
// timeout 2 s): the failure list 2-8, each page checked byte for byte. A page that cannot
// come back is ERR_TMEM_REMOTE_LOST, never other bytes; with writethrough it comes from the file.
// Uses dist/ (the tier's worker thread, the child processes).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { debugfs, loadBackend, swapon, unloadBackend, type BackendName, type SwapArea } from '../lib/index';
import type { RemoteBackendOptions } from '../lib/backends/types';
import { nodeCommand, startRedisCluster, type RedisCluster } from './support/redis-cluster.mjs';
import { PAGE, prefixPage, tempDir } from './support/pages';

let cluster: RedisCluster;
const cleanups: (() => void)[] = [];
let area: SwapArea | null = null;
let loaded: BackendName | null = null;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});
// Each test starts from a healthy cluster, whatever the one before left behind.
beforeEach(() => cluster.waitHealthy(60_000), 70_000);
afterEach(async () => {
  if (area?.active) area.swapoff();
  area = null;
  if (loaded) await unloadBackend(loaded);
  loaded = null;
  for (const c of cleanups.splice(0)) c();
});

const counter = (name: string) => debugfs.read(`ramster/${name}`);
const pageOf = (i: number) => prefixPage(300 + (i % 1500), i + 1);

/** Loads `backend` with a 64-page pool and the remote tier, and swaps on an area of `pages` slots. */
async function setUp(pages: number, remote: Partial<RemoteBackendOptions> = {}, backend: BackendName = 'zcache'): Promise<SwapArea> {
  await loadBackend(backend, { maxPoolBytes: 64 * PAGE, remote: { nodes: cluster.seeds, waitTimeoutMs: 2000, loadTimeoutMs: 1500, ...remote } });
  loaded = backend;
  const t = tempDir();
  cleanups.push(t.cleanup);
  area = swapon(join(t.dir, 'swap'), { pages: pages + 1 });
  return area;
}

/** Swaps out pages [from, to) one by one, yielding every 32 so remotify runs; `during` after `at` pages. */
async function write(a: SwapArea, slots: Uint32Array, from: number, to: number, during?: { at: number; run: () => Promise<void> }) {
  for (let i = from; i < to; i++) {
    if (during && i === during.at) await during.run();
    slots[i] = a.writePage(pageOf(i));
    if (i % 32 === 31) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 100));
}

/** Reads pages [from, to) one by one: counts exact pages and ERR_TMEM_REMOTE_LOST; anything else fails the test. */
function readAll(a: SwapArea, slots: Uint32Array, from: number, to: number): { ok: number; lost: number } {
  const into = new Uint8Array(PAGE);
  let ok = 0;
  let lost = 0;
  for (let i = from; i < to; i++) {
    try {
      a.readPage(slots[i], into);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ERR_TMEM_REMOTE_LOST');
      lost++;
      continue;
    }
    expect(Buffer.compare(into, pageOf(i)), `page ${i}`).toBe(0);
    ok++;
  }
  return { ok, lost };
}

/** Waits until remotify has moved pages out (a loaded machine gets there late). */
async function remoteSettled(): Promise<void> {
  await vi.waitFor(() => expect(counter('remote_pers_pages')).toBeGreaterThan(50), { timeout: 30_000, interval: 100 });
}

async function firstShard(): Promise<{ master: number; replicas: number[] }> {
  const map = await cluster.slotMap();
  return { master: map[0].master, replicas: map[0].replicas };
}

describe('remote tier behind loadBackend while nodes fail', () => {
  it('2. SIGKILL of a master during a remotify burst: every page reads back after failover', async () => {
    const n = 3000;
    const a = await setUp(n);
    const slots = new Uint32Array(n);
    const { master, replicas } = await firstShard();
    await write(a, slots, 0, n, { at: 1000, run: () => cluster.kill(master) });
    expect(counter('pers_pages_remoted')).toBeGreaterThan(200);
    await cluster.waitFailover(master, replicas);
    expect(readAll(a, slots, 0, n)).toEqual({ ok: n, lost: 0 });
    await cluster.restart(master);
  }, 120_000);

  it('3. SIGSTOP of a master past the node timeout: reads come from the replica; after SIGCONT nothing breaks', async () => {
    const n = 1500;
    const a = await setUp(n, { readTimeoutMs: 100 });
    const slots = new Uint32Array(n);
    await write(a, slots, 0, n);
    await remoteSettled();
    const { master } = await firstShard();
    const replicaReads = counter('remote_replica_reads');
    cluster.signal(master, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(readAll(a, slots, 0, n)).toEqual({ ok: n, lost: 0 });
      expect(counter('remote_replica_reads')).toBeGreaterThan(replicaReads);
    } finally {
      cluster.signal(master, 'SIGCONT');
    }
    await cluster.waitHealthy(60_000);
    expect(readAll(a, slots, 0, n)).toEqual({ ok: n, lost: 0 });
  }, 120_000);

  it('5. a master restarted empty: detected by its canaries, its pages reported lost, the rest exact', async () => {
    const n = 1500;
    const a = await setUp(n, { canaryIntervalMs: 300 });
    const slots = new Uint32Array(n);
    await write(a, slots, 0, n);
    const { master, replicas } = await firstShard();
    for (const r of replicas) await nodeCommand(r, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'yes');
    try {
      await cluster.kill(master);
      await cluster.restart(master);
      await cluster.waitHealthy();
    } finally {
      for (const r of replicas) await nodeCommand(r, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'no');
    }
    await vi.waitFor(() => expect(counter('remote_canary_lost')).toBeGreaterThan(0), { timeout: 10_000 });
    const { ok, lost } = readAll(a, slots, 0, n);
    expect(lost).toBeGreaterThan(0);
    expect(ok + lost).toBe(n);
    // Lost pages stay lost (the slot is kept as it was) until freed.
    expect(readAll(a, slots, 0, n)).toEqual({ ok, lost });
  }, 120_000);

  it.each([false, true])('4. master and replica of one shard killed (writethrough %s): the file or ERR_TMEM_REMOTE_LOST', async (writethrough) => {
    // Loads of the dead shard's pages wait loadTimeoutMs each (read one by one to tell them apart).
    const n = 1000;
    const before = new Set(await cluster.keys('t{*'));
    const a = await setUp(n, { writethrough, loadTimeoutMs: 300 });
    const slots = new Uint32Array(n);
    await write(a, slots, 0, n);
    await remoteSettled();
    // The shard that holds pages of this run (after earlier tests' restarts, not always the first).
    const mine = (await cluster.keys('t{*')).filter((k) => !before.has(k) && !k.endsWith(':lease'));
    expect(mine.length).toBeGreaterThan(0);
    const { master, replicas } = await cluster.shardOf(mine[0]);
    await cluster.kill(master);
    await cluster.kill(replicas[0]);
    const { ok, lost } = readAll(a, slots, 0, n);
    if (writethrough) expect({ ok, lost }).toEqual({ ok: n, lost: 0 });
    else expect(lost).toBeGreaterThan(0);
    a.swapoff();
    await cluster.restart(master);
    await cluster.restart(replicas[0]);
  }, 180_000);

  it('6. the whole cluster down mid-run: the service keeps working on pool + file (writethrough)', async () => {
    const n = 2000;
    const a = await setUp(n, { writethrough: true, loadTimeoutMs: 500 });
    const slots = new Uint32Array(n);
    await write(a, slots, 0, n / 2);
    await remoteSettled();
    const ports = cluster.nodes.map((x) => x.port);
    for (const p of ports) await cluster.kill(p);
    await write(a, slots, n / 2, n);
    await vi.waitFor(() => expect(counter('remote_available')).toBe(0), { timeout: 10_000 });
    expect(readAll(a, slots, 0, n)).toEqual({ ok: n, lost: 0 });
    for (const p of ports) await cluster.restart(p);
  }, 180_000);

  it("7. a process killed mid-run: the next process's sweeper removes its orphans", async () => {
    // Keys earlier tests left (a namespace whose deletes were cut off by a killed shard) are not
    // this writer's: only what appears while it runs is its orphans.
    const before = new Set(await cluster.keys('t{*'));
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'remote-backend-writer.mjs'), String(cluster.seeds[0].port), '800', '7'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise((resolve, reject) => {
      child.stdout!.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    }).finally(() => child.kill('SIGKILL'));
    const orphans = (await cluster.keys('t{*')).filter((k) => !k.endsWith(':lease') && !before.has(k));
    expect(orphans.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2500)); // its 2 s lease runs out
    // The first sweep runs at attach; one whose key listing on a node times out (a loaded machine)
    // is retried within seconds, not at the next sweepIntervalMs (a minute).
    await setUp(10);
    await vi.waitFor(async () => expect(counter('remote_orphans_swept')).toBeGreaterThanOrEqual(orphans.length), { timeout: 40_000 }); // sweeps in passes; slow on a loaded machine
    const left = new Set(await cluster.keys('t{*'));
    expect(orphans.filter((k) => left.has(k))).toEqual([]);
  }, 120_000);

  it('8. two tmem processes share one cluster without touching each other’s pages', async () => {
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'remote-backend-writer.mjs'), String(cluster.seeds[1].port), '1500', '8'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    const next = () =>
      new Promise<string>((resolve, reject) => {
        if (lines.length) return resolve(lines.shift()!);
        child.stdout!.once('data', (d) => resolve(String(d)));
        child.once('exit', (code) => reject(new Error(`writer exited (${code})`)));
      });
    try {
      expect(JSON.parse(await next()).remote).toBeGreaterThan(0);
      const n = 1500;
      const a = await setUp(n);
      const slots = new Uint32Array(n);
      await write(a, slots, 0, n);
      await remoteSettled();
      child.stdin!.write('check\n');
      expect(JSON.parse(await next())).toEqual({ bad: 0 });
      expect(readAll(a, slots, 0, n)).toEqual({ ok: n, lost: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
