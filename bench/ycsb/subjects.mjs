// What a Node user would pick instead of SwapCache, behind the same small interface as the
// SwapCache adapter (swapcache-subject.mjs), so every subject runs the same loops:
//
//   inst = await SUBJECTS[name].open(config)
//   inst.get(key) → Buffer | undefined         inst.set(key, view)     (Promises when subject.async)
//   inst.populate?(from, to, keyOf, valueOf)   bulk load, how that subject's users would do it
//   inst.tiers?()  gets per tier so far        inst.info?()  what the subject says about itself
//   await inst.close()
//
// `view` is the harness's reused scratch buffer: a subject that keeps a reference stores a copy
// (Buffer.from, what a user of that subject writes); SwapCache and lmdb copy inside.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { procStatus } from './metrics.mjs';
import { startRedis } from './redis-server.mjs';
import { swapCacheSubject } from './swapcache-subject.mjs';

const require = createRequire(import.meta.url);

const mapSubject = {
  kind: 'map',
  async open() {
    const m = new Map();
    return {
      get: (key) => m.get(key),
      set: (key, value) => m.set(key, Buffer.from(value)),
      info: () => ({ keys: m.size }),
      async close() {
        m.clear();
      },
    };
  },
};

/** lru-cache with maxSize in bytes of value (sizeCalculation: byteLength). */
const lruSubject = {
  kind: 'lru-cache',
  async open({ maxSize }) {
    const { LRUCache } = require('lru-cache');
    const c = new LRUCache({ maxSize, sizeCalculation: (v) => v.byteLength });
    return {
      get: (key) => c.get(key),
      set: (key, value) => c.set(key, Buffer.from(value)),
      info: () => ({ keys: c.size, calculatedSize: c.calculatedSize }),
      async close() {
        c.clear();
      },
    };
  },
};

/** lmdb with LZ4 compression, noSync (a cache, not a durable store), sync gets and puts. */
const lmdbSubject = {
  kind: 'lmdb',
  async open({ tmp }) {
    const { open } = require('lmdb');
    const dir = mkdtempSync(join(tmp, 'lmdb-'));
    const db = open({ path: dir, compression: true, noSync: true, encoding: 'binary' });
    return {
      get: (key) => db.get(key),
      set: (key, value) => db.putSync(key, value),
      // One write transaction per slice of keys, as a bulk load into lmdb is written.
      populate(from, to, keyOf, valueOf) {
        db.transactionSync(() => {
          for (let k = from; k < to; k++) db.putSync(keyOf(k), valueOf(k));
        });
      },
      info() {
        const st = db.getStats();
        return { keys: st.entryCount, dbBytes: (st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages) * st.pageSize };
      },
      async close() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** A private redis-server on loopback through ioredis: one request in flight, as a handler awaits it. */
const redisSubject = {
  kind: 'redis',
  async: true,
  async open({ tmp, onServer }) {
    const Redis = require('ioredis');
    const server = await startRedis(tmp);
    onServer?.(server.pid);
    const client = new Redis({ port: server.port, host: '127.0.0.1', enableOfflineQueue: true, maxRetriesPerRequest: 0,
      retryStrategy: () => null });
    await client.flushall();
    return {
      get: async (key) => (await client.getBuffer(key)) ?? undefined,
      set: (key, value) => client.set(key, value),
      // Pipelined in slices; the values are copied because they are sent only at exec().
      async populate(from, to, keyOf, valueOf) {
        const p = client.pipeline();
        for (let k = from; k < to; k++) p.set(keyOf(k), Buffer.from(valueOf(k)));
        const res = await p.exec();
        for (const [err] of res) if (err) throw err;
      },
      serverPid: server.pid,
      info() {
        const st = procStatus(server.pid);
        return { serverRss: st.VmRSS, serverPeakRss: st.VmHWM };
      },
      async close() {
        client.disconnect();
        await server.stop();
      },
    };
  },
};

export const SUBJECTS = {
  'SwapCache (zcache)': swapCacheSubject('zcache'),
  'SwapCache (zcache-js)': swapCacheSubject('zcache-js'),
  Map: mapSubject,
  'lru-cache': lruSubject,
  'lmdb (compression)': lmdbSubject,
  'redis-server': redisSubject,
};
