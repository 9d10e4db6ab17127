// Entry point of the remote tier's worker thread: it owns the cluster connections, the engine and
// the maintenance timers, serves batch requests posted by the main thread (tier.ts) and blocking
// loads over the shared-memory channel (sync-channel.ts). Its CPU work (headers, CRC32C checks)
// stays off the main thread too.
import { parentPort, workerData } from 'node:worker_threads';
import { Counters } from './counters';
import { Engine } from './engine';
import { IoredisStore } from './ioredis-store';
import { Maintenance } from './maintenance';
import { LossTable } from './namespace';
import type { RemoteConfig } from './options';
import { payloadLength, HEADER_BYTES, ReadStatus, type Kind } from './format';
import { serveSync, type SyncResult } from './sync-channel';
import type { Request, WorkerData, WorkerEvent } from './protocol';

const data = workerData as WorkerData;
const config: RemoteConfig = data.config;
const port = parentPort!;
const store = new IoredisStore(config.nodes, config.connectTimeoutMs);
const counters = new Counters(data.shared, data.countersAt);
const engine = new Engine(config, store, counters, new LossTable(data.shared, data.lossesAt));
const maintenance = new Maintenance(engine);

const post = (message: WorkerEvent, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
engine.onLoss = (group) => post({ event: 'lost', group });

/** Statuses, payload lengths and payloads of a load, as both reply paths need them. */
async function load(kind: Kind, handles: Float64Array, idents: Uint32Array, urgent: boolean): Promise<SyncResult> {
  const r = await engine.read(kind, handles, idents, urgent);
  const lengths = new Uint32Array(handles.length);
  const payloads = r.values.map((v, i) => {
    if (!v || r.status[i] !== ReadStatus.Ok) return undefined;
    lengths[i] = payloadLength(v);
    return v.subarray(HEADER_BYTES);
  });
  return { status: r.status, lengths, payloads };
}

async function handle(m: Request): Promise<void> {
  switch (m.op) {
    case 'write': {
      const results = new Uint8Array(m.lengths.length);
      const handles = new Float64Array(m.lengths.length);
      const count = await engine.write(m.kind, m.idents, m.payloads, m.lengths, results, handles);
      post({ id: m.id, reply: { count, results, handles } }, [results.buffer, handles.buffer]);
      return;
    }
    case 'read': {
      const r = await load(m.kind, m.handles, m.idents, false);
      // Payloads packed back to back in one transferable buffer.
      let total = 0;
      for (let i = 0; i < r.lengths.length; i++) total += r.lengths[i];
      const packed = new Uint8Array(total);
      for (let i = 0, at = 0; i < r.lengths.length; i++) {
        const p = r.payloads[i];
        if (p) packed.set(p, at);
        at += r.lengths[i];
      }
      post({ id: m.id, reply: { status: r.status, lengths: r.lengths, packed } }, [r.status.buffer as ArrayBuffer, r.lengths.buffer as ArrayBuffer, packed.buffer]);
      return;
    }
    case 'delete':
      await engine.del(m.kind, m.handles);
      break;
    case 'check':
      post({ id: m.id, reply: await maintenance.checkCanaries() });
      return;
    case 'sweep':
      post({ id: m.id, reply: await maintenance.sweep() });
      return;
    case 'close':
      await maintenance.close(m.purge);
      await store.close();
      break;
  }
  post({ id: m.id, reply: null });
}

port.on('message', (m: Request) => {
  handle(m).catch((e: unknown) => post({ id: m.id, error: e instanceof Error ? e.message : String(e) }));
});

serveSync(data.sync, (kind, handles, idents) => load(kind, handles, idents, true));

maintenance.onAttached = () => post({ event: 'attached', attached: true, namespace: engine.current?.name ?? null });
void maintenance.attach().then((attached) => {
  post({ event: 'ready', attached, namespace: engine.current?.name ?? null });
  maintenance.start(attached);
});
