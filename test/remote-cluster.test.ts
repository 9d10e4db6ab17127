// The remote tier against a real 3 + 3 Redis Cluster on loopback, while every node is healthy:
// round trips (batch and blocking), what WAIT proves, refused identities and corrupted values,
// deletes, OOM, two namespaces side by side, the sweeper against a killed process, and a slot
// migrating under the pages. Node failures are in remote-failover.test.ts. Uses dist/ for the
// tier's worker thread.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, Kind, ReadStatus } from '../lib/remote/format';
import { IoredisStore } from '../lib/remote/ioredis-store';
import { GroupKeys, handleGroup, handleVersion, namespaceName, REGISTRY_KEY } from '../lib/remote/keys';
import { nodeCommand, nodePipeline } from './support/redis-cluster.mjs';
import { countOf, PageBatch, range, remoteHarness } from './support/remote';

// A long node timeout: nothing here should fail over, however busy the machine.
const h = remoteHarness({ nodeTimeoutMs: 15_000 });

/** Page keys (not canaries or leases) of a namespace in the cluster. */
async function pageKeys(ns: string): Promise<string[]> {
  return (await h.cluster.keys(`t{${ns}.*`)).filter((k) => !k.endsWith(':c'));
}

/** Runs `body` with a config parameter set on every master, then sets it to `restore`. */
async function withMasterConfig(name: string, value: string, restore: string, body: () => Promise<void>): Promise<void> {
  const masters = await h.cluster.masters();
  for (const port of masters) await nodeCommand(port, 'CONFIG', 'SET', name, value);
  try {
    await body();
  } finally {
    for (const port of masters) await nodeCommand(port, 'CONFIG', 'SET', name, restore);
  }
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('remote tier on a healthy cluster', () => {
  it('moves pages out in WAIT-acknowledged batches and brings them back byte for byte', async () => {
    const tier = await h.open();
    expect(tier.attached).toBe(true);
    expect(tier.available).toBe(true);
    const batch = new PageBatch(300, 1);
    expect(await batch.write(tier)).toBe(300);
    expect(batch.written()).toHaveLength(300);
    const handles = batch.handles;
    expect(countOf(await batch.read(tier, range(300), 'async'), ReadStatus.Ok)).toBe(300);
    expect(countOf(await batch.read(tier, range(300), 'sync'), ReadStatus.Ok)).toBe(300);
    // WAIT said the replica has them: read a sample straight from the replicas.
    const keys = new GroupKeys(tier.namespace!);
    for (const i of [0, 17, 150, 299]) {
      const key = keys.page(handleGroup(handles[i]), handleVersion(handles[i]));
      const { replicas } = await h.cluster.shardOf(key);
      const [, value] = await nodePipeline(replicas[0], [['READONLY'], ['GET', key]]);
      expect(value).not.toBeNull();
    }
    const s = tier.stats();
    expect(s).toMatchObject({ pers_pages_remoted: 300, remote_pers_pages: 300, remote_pers_pages_succ_get: 600, remote_blocking_loads: 300 });
    expect(s.remote_batches).toBeGreaterThanOrEqual(5);
    expect(s.remote_put_rtt_p50_us).toBeGreaterThan(0);
  });

  it('keeps cleancache pages apart from frontswap pages and refuses a wrong identity', async () => {
    const tier = await h.open();
    const eph = new PageBatch(40, 2, Kind.Eph);
    await eph.write(tier);
    expect(countOf(await eph.read(tier, range(40), 'async'), ReadStatus.Ok)).toBe(40);
    const other = new PageBatch(40, 3, Kind.Eph); // same handles, other identities
    expect(countOf(await other.read(tier, range(40), 'sync', eph.handles), ReadStatus.Mismatch)).toBe(40);
    const pers = new PageBatch(40, 2, Kind.Pers); // same handles read as frontswap pages
    expect(countOf(await pers.read(tier, range(40), 'async', eph.handles), ReadStatus.Mismatch)).toBe(40);
    expect(tier.stats()).toMatchObject({ eph_pages_remoted: 40, remote_version_mismatch: 80, remote_eph_pages_unsucc_get: 40 });
  });

  it('counts a value corrupted in the cluster and never returns it', async () => {
    const tier = await h.open();
    const batch = new PageBatch(8, 4);
    await batch.write(tier);
    const handles = batch.handles;
    // Page 0 is a whole 4096-byte page; flip one bit of its payload's byte 100 in the cluster.
    const key = new GroupKeys(tier.namespace!).page(handleGroup(handles[0]), handleVersion(handles[0]));
    const { master } = await h.cluster.shardOf(key);
    await nodeCommand(master, 'SETRANGE', key, HEADER_BYTES + 100, Buffer.from([batch.payload(0)[100] ^ 0x10]));
    const status = await batch.read(tier, range(8), 'sync');
    expect(status[0]).toBe(ReadStatus.Corrupt);
    expect(countOf(status, ReadStatus.Ok)).toBe(7);
    expect(tier.stats().remote_crc_failed).toBe(1);
  });

  it('deletes remote copies in batches; a deleted page is a miss', async () => {
    const tier = await h.open();
    const batch = new PageBatch(50, 5);
    await batch.write(tier);
    await tier.deletePages(Kind.Pers, batch.handles.subarray(0, 20));
    const status = await batch.read(tier, range(50), 'async');
    expect(countOf(status.subarray(0, 20), ReadStatus.Missing)).toBe(20);
    expect(countOf(status.subarray(20), ReadStatus.Ok)).toBe(30);
    expect(tier.stats()).toMatchObject({ remote_pages_flushed: 20, remote_page_flushes_failed: 0, remote_pers_pages: 30 });
    expect(await pageKeys(tier.namespace!)).toHaveLength(30);
  });

  it('leaves pages local when WAIT cannot reach the replicas asked for, and removes what was written', async () => {
    const tier = await h.open({ replicas: 2, waitTimeoutMs: 20 });
    const batch = new PageBatch(30, 6);
    expect(await batch.write(tier)).toBe(0);
    expect(batch.written()).toEqual([]);
    const s = tier.stats();
    expect(s.remote_wait_short).toBeGreaterThan(0);
    expect(s).toMatchObject({ pers_pages_remoted: 0, pers_pages_remote_failed: 30, remote_pers_pages: 0 });
    await until(async () => (await pageKeys(tier.namespace!)).length === 0);
  });

  it('leaves pages local when the masters are out of memory (OOM), counted as nomem', async () => {
    const tier = await h.open();
    await withMasterConfig('maxmemory', '1', '256mb', async () => {
      expect(await new PageBatch(10, 7).write(tier)).toBe(0);
      expect(tier.stats()).toMatchObject({ pers_pages_remote_failed: 10, pers_pages_remote_nomem: 10 });
    });
    // Backed off, not broken: once memory is there again, pages go out.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await new PageBatch(10, 8).write(tier)).toBe(10);
  });

  it('leaves pages local when masters refuse writes for want of replicas (NOREPLICAS)', async () => {
    const tier = await h.open();
    await withMasterConfig('min-replicas-to-write', '2', '0', async () => {
      expect(await new PageBatch(10, 13).write(tier)).toBe(0);
      expect(tier.stats()).toMatchObject({ pers_pages_remote_failed: 10, pers_pages_remote_nomem: 0, remote_batches: 3 });
    });
  });

  it('keeps two namespaces on one cluster apart', async () => {
    const [a, b] = [await h.open(), await h.open()];
    expect(a.namespace).not.toBe(b.namespace);
    const pa = new PageBatch(100, 9);
    const pb = new PageBatch(100, 10);
    pb.idents.set(pa.idents); // the same pages (area, offset) in both processes
    expect(await pa.write(a)).toBe(100);
    expect(await pb.write(b)).toBe(100);
    expect(countOf(await pa.read(a, range(100), 'async'), ReadStatus.Ok)).toBe(100);
    expect(countOf(await pb.read(b, range(100), 'sync'), ReadStatus.Ok)).toBe(100);
    const nsA = a.namespace!;
    await a.close();
    expect(await h.cluster.keys(`t{${nsA}*`)).toEqual([]);
    expect(await nodeCommand((await h.cluster.shardOf(REGISTRY_KEY)).master, 'HEXISTS', REGISTRY_KEY, nsA)).toBe(0);
    expect(countOf(await pb.read(b, range(100), 'async'), ReadStatus.Ok)).toBe(100);
    expect(b.stats().remote_namespaces_swept).toBe(0);
  });

  it("sweeps a killed process's pages, and nothing of a live one", async () => {
    const live = await h.open();
    const kept = new PageBatch(20, 11);
    expect(await kept.write(live)).toBe(20);
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'remote-writer.mjs'), String(h.cluster.seeds[0].port), '150'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const report = await new Promise<{ namespace: string; written: number }>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(JSON.parse(String(d))));
      child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    }).finally(() => child.kill('SIGKILL'));
    // (A busy machine may keep a few of its batches local: what matters is what it left behind.)
    expect(report.written).toBeGreaterThan(0);
    const orphans = (await pageKeys(report.namespace)).length;
    expect(orphans).toBeGreaterThanOrEqual(report.written);
    await new Promise((r) => setTimeout(r, 2500)); // its 2 s lease runs out
    const removed = await live.sweep();
    expect(removed).toBeGreaterThan(orphans); // pages and canaries
    expect(await h.cluster.keys(`t{${report.namespace}*`)).toEqual([]);
    expect(live.stats()).toMatchObject({ remote_namespaces_swept: 1, remote_orphans_swept: removed });
    expect(countOf(await kept.read(live, range(20), 'async'), ReadStatus.Ok)).toBe(20);
  });

  it('reads pages while their slot migrates (ASK) and after it moved (MOVED)', async () => {
    const tier = await h.open({ batchPages: 64 });
    const batch = new PageBatch(64, 12);
    expect(await batch.write(tier)).toBe(64);
    const handles = batch.handles;
    const group = handleGroup(handles[0]);
    expect(Array.from(handles, handleGroup).every((g) => g === group)).toBe(true); // one batch, one group
    const slot = new GroupKeys(tier.namespace!).slots[group];
    const { master } = await h.cluster.shardOf(new GroupKeys(tier.namespace!).prefixes[group]);
    const target = (await h.cluster.masters()).find((p) => p !== master)!;
    const migration = await h.cluster.migrateSlot(slot, target, 30);
    try {
      expect(countOf(await batch.read(tier, range(64), 'sync'), ReadStatus.Ok)).toBe(64);
    } finally {
      await migration.finish();
    }
    expect(countOf(await batch.read(tier, range(64), 'async'), ReadStatus.Ok)).toBe(64);
    expect(tier.stats().remote_failover_retries).toBeGreaterThan(0);
  });

  it('a batch whose connection dies while WAIT blocks is not acknowledged, and WAIT is not asked again elsewhere', async () => {
    // The replica of one shard is stopped, so WAIT 1 on its master blocks. If the client reconnected
    // and sent WAIT again, the fresh connection (replication offset 0) would get 1 at once.
    const store = new IoredisStore(h.cluster.seeds, 1000);
    try {
      const topology = await store.refresh();
      const shard = (await h.cluster.slotMap())[0];
      const master = topology.slotMaster[shard.start];
      const keys = new GroupKeys(namespaceName(0xfee1));
      const group = range(256).find((g) => keys.slots[g] >= shard.start && keys.slots[g] <= shard.end)!;
      const batch = (waitTimeoutMs: number) => ({
        guardKey: keys.canaries[group],
        guardValue: Buffer.from('1'),
        keys: [keys.page(group, 1)],
        values: [Buffer.from('page')],
        replicas: 1,
        waitTimeoutMs,
        timeoutMs: waitTimeoutMs + 5000,
      });
      h.cluster.signal(shard.replicas[0], 'SIGSTOP');
      try {
        expect(await store.batchWrite(master, batch(300))).toEqual({ outcome: 'wait-short', acked: 0 });
        const pending = store.batchWrite(master, batch(20_000));
        let killed = 0;
        await until(async () => {
          const clients: string = await nodeCommand(shard.master, 'CLIENT', 'LIST');
          const id = /id=(\d+) .*cmd=wait/.exec(clients)?.[1];
          if (id) killed = await nodeCommand(shard.master, 'CLIENT', 'KILL', 'ID', id);
          return killed === 1;
        });
        const r = await pending;
        expect(r.outcome).toBe('failed');
        expect(r.outcome === 'failed' && r.failure.kind).toBe('connection');
      } finally {
        h.cluster.signal(shard.replicas[0], 'SIGCONT');
      }
    } finally {
      await store.close();
    }
  });

  it('refuses bad arguments before anything reaches the cluster', async () => {
    const tier = await h.open();
    const one = new Uint32Array([1]);
    await expect(async () => tier.writePages(Kind.Pers, new Uint32Array(2), new Uint8Array(0), new Uint32Array([0]), new Uint8Array(1), new Float64Array(1))).rejects.toThrow(RangeError);
    await expect(async () => tier.writePages(Kind.Pers, new Uint32Array(2), new Uint8Array(2), one, new Uint8Array(1), new Float64Array(1))).rejects.toThrow(/sum of lengths/);
    await expect(async () => tier.writePages(Kind.Eph, new Uint32Array(2), new Uint8Array(1), one, new Uint8Array(1), new Float64Array(1))).rejects.toThrow(/idents/);
    await expect(async () => tier.writePages(7 as Kind, new Uint32Array(2), new Uint8Array(1), one, new Uint8Array(1), new Float64Array(1))).rejects.toThrow(TypeError);
    expect(() => tier.readPagesSync(Kind.Pers, new Float64Array([256.5]), new Uint32Array(2), new Uint8Array(4096), one, new Uint8Array(1))).toThrow(TypeError);
    expect(() => tier.readPagesSync(Kind.Pers, new Float64Array([512]), new Uint32Array(2), new Uint8Array(4095), one, new Uint8Array(1))).toThrow(RangeError);
    expect(tier.stats()).toMatchObject({ remote_batches: 0, remote_blocking_loads: 0 });
    await tier.close();
    await expect(tier.readPages(Kind.Pers, new Float64Array([512]), new Uint32Array(2), new Uint8Array(4096), one, new Uint8Array(1))).rejects.toMatchObject({
      code: 'ERR_TMEM_CLOSED',
    });
  });
});
