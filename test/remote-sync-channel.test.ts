// The blocking-load channel between the calling thread and the remote tier's worker, against a
// real worker thread that answers after a delay the request names: answers arrive in the caller's
// buffers, a request past its deadline is abandoned, and its late answer never lands in the
// results of the next request. Uses the built package (dist/).
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kind, MAX_PAYLOAD, ReadStatus } from '../lib/remote/format';
import { SyncCaller, SYNC_MAX_PAGES } from '../lib/remote/sync-channel';

const dist = join(__dirname, '..', 'dist', 'remote', 'sync-channel.js');

// Page i of a request answers after handles[0] ms with a payload of (handles[i] % 251) bytes, all
// equal to handles[i] & 0xff; handle 0 answers Missing.
const server = `
const { workerData } = require('node:worker_threads');
const { serveSync } = require(${JSON.stringify(dist)});
serveSync(workerData, async (kind, handles) => {
  await new Promise((r) => setTimeout(r, handles[0]));
  const n = handles.length;
  const status = new Uint8Array(n), lengths = new Uint32Array(n), payloads = [];
  for (let i = 0; i < n; i++) {
    if (handles[i] === 0) { status[i] = 1; payloads.push(undefined); continue; }
    lengths[i] = (handles[i] % 251) + kind;
    payloads.push(Buffer.alloc(lengths[i], handles[i] & 0xff));
  }
  return { status, lengths, payloads };
});
`;

describe('blocking load channel', () => {
  const caller = new SyncCaller();
  const channel = caller.channel;
  let worker: Worker;
  beforeAll(() => {
    worker = new Worker(server, { eval: true, workerData: caller.endpoint, transferList: [caller.endpoint.port] });
  });
  afterAll(() => worker.terminate());

  function request(handles: number[], timeoutMs: number, kind = Kind.Pers): boolean {
    channel.handles.set(handles);
    return caller.call(kind, handles.length, timeoutMs);
  }

  function expectAnswer(handles: number[], kind = Kind.Pers): void {
    handles.forEach((h, i) => {
      if (h === 0) return expect(channel.status[i]).toBe(ReadStatus.Missing);
      expect(channel.status[i]).toBe(ReadStatus.Ok);
      expect(channel.lengths[i]).toBe((h % 251) + kind);
      const p = channel.payload.subarray(i * MAX_PAYLOAD, i * MAX_PAYLOAD + channel.lengths[i]);
      expect(p.every((b) => b === (h & 0xff))).toBe(true);
    });
  }

  it('answers a batch in the shared buffers while the caller sleeps', () => {
    const handles = Array.from({ length: SYNC_MAX_PAGES }, (_, i) => (i === 5 ? 0 : 1 + i * 3));
    handles[0] = 20; // answer after 20 ms
    expect(request(handles, 10_000)).toBe(true);
    expectAnswer(handles);
    expect(request([2, 9, 300], 10_000, Kind.Eph)).toBe(true);
    expectAnswer([2, 9, 300], Kind.Eph);
  });

  it('abandons a request past its deadline and keeps its late answer out of the next one', async () => {
    const t0 = performance.now();
    expect(request([400, 77], 50)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(400);
    expect(request([3, 11], 10_000)).toBe(true);
    expectAnswer([3, 11]);
    // The abandoned answer comes in now, and must not overwrite anything.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expectAnswer([3, 11]);
    expect(request([1, 12], 10_000)).toBe(true);
    expectAnswer([1, 12]);
  });
});
