// The remote tier while nodes of a real 3 + 3 cluster fail, in one sequence on one cluster
// (node timeout 2 s, so a failover takes about 3-4 s): a master SIGKILLed during a write burst, a
// master hung (SIGSTOP) past the node timeout, a master restarted empty, both nodes of a shard
// gone, the whole cluster gone and back, and a tier started while nothing answers. Every page
// that comes back is checked byte for byte (PageBatch.read); a page that cannot come back is a
// status or ERR_TMEM_REMOTE_LOST, never other bytes. Uses dist/ for the tier's worker thread.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Kind, ReadStatus } from '../lib/remote/format';
import { GroupKeys, handleGroup } from '../lib/remote/keys';
import { nodeCommand } from './support/redis-cluster.mjs';
import { countOf, PageBatch, range, remoteHarness } from './support/remote';

const h = remoteHarness({ nodeTimeoutMs: 2000 });

// Each test starts from a healthy cluster, whatever the one before left behind.
beforeEach(() => h.cluster.waitHealthy(60_000));

/** The shard (master and replica ports) of page i's group. */
async function shardOfPage(ns: string, batch: PageBatch, i: number) {
  return h.cluster.shardOf(new GroupKeys(ns).prefixes[handleGroup(batch.handles[i])]);
}

/** Indices of the written pages whose group lives on `master`. */
async function pagesOn(ns: string, batch: PageBatch, master: number): Promise<number[]> {
  const out: number[] = [];
  for (const i of batch.written()) if ((await shardOfPage(ns, batch, i)).master === master) out.push(i);
  return out;
}

describe('remote tier while nodes fail', () => {
  it('SIGKILL of a master in a write burst: every page reported remote reads back, from the replica and after failover', async () => {
    const tier = await h.open();
    const batch = new PageBatch(1280, 21);
    // 20 batches of 64 pages, one after another; the master of the first dies after the fifth.
    for (let b = 0; b < 5; b++) await batch.write(tier, b * 64, b * 64 + 64);
    expect(batch.written()).toHaveLength(5 * 64);
    const { master: victim, replicas } = await shardOfPage(tier.namespace!, batch, 0);
    const onVictim = await pagesOn(tier.namespace!, batch, victim);
    await h.cluster.kill(victim);
    // Right away, long before a failover: its pages come from its replica.
    expect(countOf(await batch.read(tier, onVictim, 'sync'), ReadStatus.Ok)).toBe(onVictim.length);
    expect(tier.stats().remote_replica_reads).toBeGreaterThanOrEqual(onVictim.length);
    for (let b = 5; b < 20; b++) await batch.write(tier, b * 64, b * 64 + 64);
    const ok = batch.written();
    expect(ok.length).toBeGreaterThan(64 * 10); // the other masters took the rest of the burst
    await h.cluster.waitFailover(victim, replicas);
    expect(countOf(await batch.read(tier, ok, 'async'), ReadStatus.Ok)).toBe(ok.length);
    await h.cluster.restart(victim); // rejoins as a replica of the promoted one
    await h.cluster.waitHealthy();
    expect(countOf(await batch.read(tier, ok, 'sync'), ReadStatus.Ok)).toBe(ok.length);
    const s = tier.stats();
    expect(s.remote_crc_failed + s.remote_version_mismatch + s.remote_unreachable_gets).toBe(0);
  });

  it('SIGSTOP of a master past the node timeout: loads go to the replica; after SIGCONT it rejoins and nothing breaks', async () => {
    const tier = await h.open({ readTimeoutMs: 100 });
    const batch = new PageBatch(600, 22);
    expect(await batch.write(tier)).toBe(600);
    const { master: victim, replicas } = await shardOfPage(tier.namespace!, batch, 0);
    const onVictim = await pagesOn(tier.namespace!, batch, victim);
    h.cluster.signal(victim, 'SIGSTOP');
    try {
      expect(countOf(await batch.read(tier, onVictim, 'sync'), ReadStatus.Ok)).toBe(onVictim.length);
      expect(tier.stats().remote_replica_reads).toBeGreaterThanOrEqual(onVictim.length);
      await h.cluster.waitFailover(victim, replicas);
      expect(countOf(await batch.read(tier, range(600), 'async'), ReadStatus.Ok)).toBe(600);
      // New pages go where a master and a replica acknowledge them, or stay local.
      const during = new PageBatch(200, 23);
      expect(await during.write(tier)).toBeGreaterThan(0);
      expect(countOf(await during.read(tier, during.written(), 'sync'), ReadStatus.Ok)).toBe(during.written().length);
    } finally {
      h.cluster.signal(victim, 'SIGCONT');
    }
    await h.cluster.waitHealthy();
    expect(countOf(await batch.read(tier, range(600), 'sync'), ReadStatus.Ok)).toBe(600);
    const later = new PageBatch(300, 24);
    expect(await later.write(tier)).toBe(300);
    expect(countOf(await later.read(tier, range(300), 'async'), ReadStatus.Ok)).toBe(300);
  });

  it('a master restarted empty trips its groups canaries: those pages are reported lost', async () => {
    const tier = await h.open();
    const lost: number[] = [];
    tier.on('lost', (g: number) => lost.push(g));
    const batch = new PageBatch(1280, 25);
    expect(await batch.write(tier)).toBe(1280);
    const { master: victim, replicas } = await shardOfPage(tier.namespace!, batch, 0);
    const onVictim = new Set(await pagesOn(tier.namespace!, batch, victim));
    // Its replica must not take over meanwhile, however slow the restart: the window where a
    // master without persistence comes back empty and its replica follows it.
    for (const r of replicas) await nodeCommand(r, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'yes');
    try {
      await h.cluster.kill(victim);
      await h.cluster.restart(victim);
      await h.cluster.waitHealthy();
    } finally {
      for (const r of replicas) await nodeCommand(r, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'no');
    }
    await tier.checkCanaries(); // (the periodic check may have found them first)
    expect(lost.length).toBeGreaterThan(0);
    expect(tier.stats().remote_canary_lost).toBe(lost.length);
    for (const i of batch.written()) expect(tier.isLost(batch.handles[i])).toBe(onVictim.has(i));
    const status = await batch.read(tier, range(1280), 'async');
    for (let i = 0; i < batch.count; i++) expect(status[i]).toBe(onVictim.has(i) ? ReadStatus.Lost : ReadStatus.Ok);
    // Its groups take pages again (with a fresh canary).
    const again = new PageBatch(640, 26);
    expect(await again.write(tier)).toBe(640);
    expect(countOf(await again.read(tier, range(640), 'sync'), ReadStatus.Ok)).toBe(640);
  });

  it('master and replica of a shard both gone: their pages are unavailable (ERR_TMEM_REMOTE_LOST), the rest is served', async () => {
    const tier = await h.open({ loadTimeoutMs: 3000 });
    const batch = new PageBatch(400, 27);
    expect(await batch.write(tier)).toBe(400);
    const shard = await shardOfPage(tier.namespace!, batch, 0);
    const gone = new Set(await pagesOn(tier.namespace!, batch, shard.master));
    await h.cluster.kill(shard.master);
    await h.cluster.kill(shard.replicas[0]);
    const status = await batch.read(tier, range(400), 'sync');
    for (let i = 0; i < 400; i++) expect(status[i]).toBe(gone.has(i) ? ReadStatus.Unavailable : ReadStatus.Ok);
    const into = new Uint8Array(4096);
    expect(() => tier.readPageSync(Kind.Pers, batch.handles[0], batch.idents.subarray(0, 2), into)).toThrow(
      expect.objectContaining({ code: 'ERR_TMEM_REMOTE_LOST' }),
    );
    // New pages go to the shards that are left.
    const more = new PageBatch(200, 28);
    expect(await more.write(tier)).toBe(200);
    expect(countOf(await more.read(tier, range(200), 'async'), ReadStatus.Ok)).toBe(200);
    await h.cluster.restart(shard.master);
    await h.cluster.restart(shard.replicas[0]);
  });

  it('the whole cluster down: writes fail and loads report unavailable; a tier started meanwhile degrades; both recover', async () => {
    const tier = await h.open({ loadTimeoutMs: 1000 });
    const batch = new PageBatch(200, 29);
    expect(await batch.write(tier)).toBe(200);
    const ports = h.cluster.nodes.map((n) => n.port);
    for (const p of ports) await h.cluster.kill(p);
    expect(await new PageBatch(64, 30).write(tier)).toBe(0);
    expect(countOf(await batch.read(tier, range(200), 'sync'), ReadStatus.Unavailable)).toBe(200);
    await vi.waitFor(() => expect(tier.available).toBe(false), { timeout: 10_000 });

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const late = await h.open();
    expect(stderr.mock.calls.map(String).join('')).toMatch(/tmem: remote tier: no cluster at .*; pages stay in the pool and swap files/);
    stderr.mockRestore();
    expect(late.attached).toBe(false);
    expect(late.available).toBe(false);
    expect(await new PageBatch(10, 31).write(late)).toBe(0);
    expect(late.stats()).toMatchObject({ pers_pages_remote_failed: 10, remote_available: 0 });

    const attached = new Promise((resolve) => late.once('attached', resolve));
    for (const p of ports) await h.cluster.restart(p);
    await h.cluster.waitHealthy();
    await attached;
    expect(late.attached).toBe(true);
    // The data died with the nodes (no persistence): lost or missing, never other bytes.
    const status = await batch.read(tier, range(200), 'async');
    expect(countOf(status, ReadStatus.Lost) + countOf(status, ReadStatus.Missing)).toBe(200);
    for (const t of [tier, late]) {
      await vi.waitFor(() => expect(t.available).toBe(true), { timeout: 20_000 });
      const fresh = new PageBatch(100, 32);
      expect(await fresh.write(t)).toBe(100);
      expect(countOf(await fresh.read(t, range(100), 'sync'), ReadStatus.Ok)).toBe(100);
    }
  });
});
