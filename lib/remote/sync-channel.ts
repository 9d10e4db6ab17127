// Blocking loads over shared memory. Node has no synchronous sockets, and the swap layer's
// readPage() is synchronous (the kernel slept the faulting thread; here the caller's thread
// waits). So the worker thread that owns the cluster connections serves loads from a
// SharedArrayBuffer while the calling thread sleeps in Atomics.wait with a deadline: one round trip
// to the cluster (plus a thread hop, a few µs) on the calling thread, nothing on its event loop.
//
// Protocol. `state` holds seq << 2 | phase. The caller writes the request, stores (seq, PENDING),
// rings the doorbell (an empty message on a MessagePort of its own, which reaches the worker's
// event loop while the caller sleeps; Atomics.waitAsync would be the obvious doorbell, but Node 20
// does not wake an idle worker loop for it) and waits. The worker copies the request, re-reads state (a request abandoned while
// it was copying is dropped), loads, then moves (seq, PENDING) → (seq, WRITING) with a
// compare-exchange, writes the results and stores (seq, DONE). A caller whose deadline passes
// moves (seq, PENDING) → (seq, ABANDONED) the same way; whichever exchange wins decides, so a late
// answer never lands in the buffers of the next request.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { IDENT_WORDS, MAX_PAYLOAD, type Kind } from './format';

/** Pages per blocking call; callers split larger batches. */
export const SYNC_MAX_PAGES = 64;

const STATE = 0;
const COUNT = 1;
const KIND = 2;
const CTL_WORDS = 3;

const PENDING = 1;
const WRITING = 2;
const DONE = 3;
const ABANDONED = 0;

const HANDLES_AT = 0;
const IDENTS_AT = HANDLES_AT + SYNC_MAX_PAGES * 8;
const STATUS_AT = IDENTS_AT + SYNC_MAX_PAGES * IDENT_WORDS[1] * 4;
const LENGTHS_AT = STATUS_AT + SYNC_MAX_PAGES;
const PAYLOAD_AT = LENGTHS_AT + SYNC_MAX_PAGES * 4;
const DATA_BYTES = PAYLOAD_AT + SYNC_MAX_PAGES * MAX_PAYLOAD;

/** What a worker needs to serve a channel: the shared buffers and its end of the doorbell. */
export interface SyncEndpoint {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  port: MessagePort;
}

/** Views of the two shared buffers, the same on both threads. */
export class SyncChannel {
  readonly ctl: Int32Array;
  readonly handles: Float64Array;
  readonly idents: Uint32Array;
  readonly status: Uint8Array;
  readonly lengths: Uint32Array;
  /** Payload of page i at i * MAX_PAYLOAD. */
  readonly payload: Uint8Array;

  constructor(buffers: { ctl: SharedArrayBuffer; data: SharedArrayBuffer }) {
    this.ctl = new Int32Array(buffers.ctl);
    this.handles = new Float64Array(buffers.data, HANDLES_AT, SYNC_MAX_PAGES);
    this.idents = new Uint32Array(buffers.data, IDENTS_AT, SYNC_MAX_PAGES * IDENT_WORDS[1]);
    this.status = new Uint8Array(buffers.data, STATUS_AT, SYNC_MAX_PAGES);
    this.lengths = new Uint32Array(buffers.data, LENGTHS_AT, SYNC_MAX_PAGES);
    this.payload = new Uint8Array(buffers.data, PAYLOAD_AT, SYNC_MAX_PAGES * MAX_PAYLOAD);
  }

}

/** The calling thread's side. */
export class SyncCaller {
  readonly channel: SyncChannel;
  /** Pass to the worker (in its transferList) for serveSync. */
  readonly endpoint: SyncEndpoint;
  readonly #doorbell: MessagePort;
  #seq = 0;

  constructor() {
    const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
    const data = new SharedArrayBuffer(DATA_BYTES);
    const { port1, port2 } = new MessageChannel();
    this.channel = new SyncChannel({ ctl, data });
    this.endpoint = { ctl, data, port: port2 };
    this.#doorbell = port1;
    // The doorbell must not keep the process alive.
    port1.unref();
  }

  /**
   * Runs the request already written to channel.handles/idents (count pages of `kind`) and blocks
   * until the worker answered or `timeoutMs` passed. True when the results in the channel are
   * this request's; false on timeout (the request is abandoned).
   */
  call(kind: Kind, count: number, timeoutMs: number): boolean {
    const ctl = this.channel.ctl;
    this.#seq = (this.#seq % 0x0fffffff) + 1;
    const seq = this.#seq << 2;
    ctl[COUNT] = count;
    ctl[KIND] = kind;
    Atomics.store(ctl, STATE, seq | PENDING);
    this.#doorbell.postMessage(null);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const state = Atomics.load(ctl, STATE);
      if (state === (seq | DONE)) return true;
      const left = deadline - performance.now();
      if (state === (seq | PENDING) && left <= 0) {
        if (Atomics.compareExchange(ctl, STATE, state, seq | ABANDONED) === state) return false;
        continue;
      }
      // WRITING takes microseconds; PENDING waits for the answer or the deadline.
      Atomics.wait(ctl, STATE, state, state === (seq | PENDING) ? left : 10);
    }
  }
}

export interface SyncResult {
  status: Uint8Array;
  lengths: Uint32Array;
  /** Payload of page i, when status[i] is Ok. */
  payloads: (Uint8Array | undefined)[];
}

/**
 * The worker's side: serves each request with `load(kind, handles, idents)` (which must not throw),
 * concurrently with everything else the worker does; the caller makes one at a time.
 */
export function serveSync(endpoint: SyncEndpoint, load: (kind: Kind, handles: Float64Array, idents: Uint32Array) => Promise<SyncResult>): SyncChannel {
  const channel = new SyncChannel(endpoint);
  const ctl = channel.ctl;
  endpoint.port.on('message', () => {
    const state = Atomics.load(ctl, STATE);
    if ((state & 3) !== PENDING) return;
    const count = ctl[COUNT];
    const kind = ctl[KIND] as Kind;
    const handles = channel.handles.slice(0, count);
    const idents = channel.idents.slice(0, count * IDENT_WORDS[kind]);
    if (Atomics.load(ctl, STATE) !== state) return;
    void load(kind, handles, idents).then((r) => {
      if (Atomics.compareExchange(ctl, STATE, state, (state & ~3) | WRITING) !== state) return;
      for (let i = 0; i < count; i++) {
        channel.status[i] = r.status[i];
        channel.lengths[i] = r.lengths[i];
        const p = r.payloads[i];
        if (p) channel.payload.set(p, i * MAX_PAYLOAD);
      }
      Atomics.store(ctl, STATE, (state & ~3) | DONE);
      Atomics.notify(ctl, STATE);
    });
  });
  return channel;
}
