// The `remote` option of both zcache backends: bad values are refused before anything is loaded
// or connected, and a cluster that does not answer leaves the backend working on pool + swap file
// (degraded, said on stderr and in ramster/remote_available). Uses dist/ for the tier's worker.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { debugfs, loadBackend, loadDefaultBackend, loadedBackend, swapon, unloadBackend, type BackendName } from '../lib/index';
import { PAGE, tempDir, textPage } from './support/pages';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe.each(['zcache', 'zcache-js'] as BackendName[])('%s remote option', (backend) => {
  const nodes = [{ host: '127.0.0.1', port: 7000 }];
  it.each([
    ['not an object', 'cluster', TypeError],
    ['no nodes', {}, TypeError],
    ['empty nodes', { nodes: [] }, TypeError],
    ['a bad port', { nodes: [{ host: '127.0.0.1', port: 0 }] }, RangeError],
    ['a node without host', { nodes: [{ port: 7000 }] }, TypeError],
    ['negative replicas', { nodes, replicas: -1 }, RangeError],
    ['a fractional timeout', { nodes, waitTimeoutMs: 1.5 }, TypeError],
    ['a non-boolean writethrough', { nodes, writethrough: 'yes' }, TypeError],
    ['an unknown key', { nodes, replica: 1 }, TypeError],
  ])('refuses %s, and loads nothing', async (_what, remote, type) => {
    await expect(loadBackend(backend, { maxPoolBytes: 1 << 20, remote: remote as never })).rejects.toThrow(type);
    expect(loadedBackend()).toBe(null);
  });

  it('refuses remote without writeback, and through the synchronous default loader', async () => {
    await expect(loadBackend(backend, { writeback: false, remote: { nodes } })).rejects.toThrow(TypeError);
    await expect(loadDefaultBackend({ remote: { nodes } })).rejects.toThrow(/await loadBackend/);
    expect(loadedBackend()).toBe(null);
  });

  it('works on pool + swap file when the cluster does not answer, and says so', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await loadBackend(backend, { maxPoolBytes: 32 * PAGE, remote: { nodes: [{ host: '127.0.0.1', port: await deadPort() }], connectTimeoutMs: 200 } });
    cleanups.push(() => unloadBackend(backend));
    expect(stderr.mock.calls.map(String).join('')).toMatch(/tmem: remote tier: no cluster at 127\.0\.0\.1:\d+; pages stay in the pool and swap files/);
    stderr.mockRestore();
    expect(debugfs.read('ramster/remote_available')).toBe(0);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const area = swapon(join(t.dir, 'swap'), { pages: 1001 });
    cleanups.push(() => area.swapoff());
    const slots = new Uint32Array(1000);
    for (let i = 0; i < 1000; i++) {
      slots[i] = area.writePage(textPage(i));
      if (i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
    const into = new Uint8Array(PAGE);
    for (let i = 0; i < 1000; i++) expect(Buffer.compare(area.readPage(slots[i], into), textPage(i))).toBe(0);
    expect(debugfs.read('ramster/pers_pages_remoted')).toBe(0);
    expect(debugfs.read('zcache/written_back_pages') + debugfs.read('frontswap/failed_stores')).toBeGreaterThan(0);
  });
});
