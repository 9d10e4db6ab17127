// Blocking loads over shared memory. Node has no synchronous sockets, and the swap layer's
// readPage() is synchronous (the kernel slept the faulting thread; here the caller's thread
// waits). So the worker thread that owns the cluster connections serves loads from a
// SharedArrayBuffer while the calling thread sleeps in Atomics.wait with a deadline: one round trip
// to the cluster (plus a thread hop, a few µs) on the calling thread, nothing on its event loop.
//
// Protocol. `state` holds seq << 2 | phase. The caller writes the request, stores (seq, PENDING),
// rings the doorbell (the worker waits on it with Atomics.waitAsync, so it never blocks its own
// event loop) and waits. The worker copies the request, re-reads state (a request abandoned while
// it was copying is dropped), loads, then moves (seq, PENDING) → (seq, WRITING) with a
// compare-exchange, writes the results and stores (seq, DONE). A caller whose deadline passes
// moves (seq, PENDING) → (seq, ABANDONED) the same way; whichever exchange wins decides, so a late
// answer never lands in the buffers of the next request.
import { IDENT_WORDS, MAX_PAYLOAD, type Kind } from './format';

/** Atomics.waitAsync (Node ≥ 16; typed in TypeScript's ES2024 lib, newer than this project's target). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** Pages per blocking call; callers split larger batches. */
export const SYNC_MAX_PAGES = 64;

const STATE = 0;
const DOORBELL = 1;
const COUNT = 2;
const KIND = 3;
const CTL_WORDS = 4;

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

/** Views of the two shared buffers, the same on both threads. */
export class SyncChannel {
  readonly ctl: Int32Array;
  readonly handles: Float64Array;
  readonly idents: Uint32Array;
  readonly status: Uint8Array;
  readonly lengths: Uint32Array;
  /** Payload of page i at i * MAX_PAYLOAD. */
  readonly payload: Uint8Array;

  constructor(readonly buffers: { ctl: SharedArrayBuffer; data: SharedArrayBuffer }) {
    this.ctl = new Int32Array(buffers.ctl);
    this.handles = new Float64Array(buffers.data, HANDLES_AT, SYNC_MAX_PAGES);
    this.idents = new Uint32Array(buffers.data, IDENTS_AT, SYNC_MAX_PAGES * IDENT_WORDS[1]);
    this.status = new Uint8Array(buffers.data, STATUS_AT, SYNC_MAX_PAGES);
    this.lengths = new Uint32Array(buffers.data, LENGTHS_AT, SYNC_MAX_PAGES);
    this.payload = new Uint8Array(buffers.data, PAYLOAD_AT, SYNC_MAX_PAGES * MAX_PAYLOAD);
  }

  static create(): SyncChannel {
    return new SyncChannel({ ctl: new SharedArrayBuffer(CTL_WORDS * 4), data: new SharedArrayBuffer(DATA_BYTES) });
  }
}

/** The calling thread's side. */
export class SyncCaller {
  #seq = 0;

  constructor(readonly channel: SyncChannel) {}

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
    Atomics.add(ctl, DOORBELL, 1);
    Atomics.notify(ctl, DOORBELL);
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
 * The worker's side: serves requests until `stopped()` says so, each with `load(kind, handles,
 * idents)` (which must not throw). Requests are served concurrently with everything else the
 * worker does; the caller makes one at a time.
 */
export async function serveSync(
  channel: SyncChannel,
  load: (kind: Kind, handles: Float64Array, idents: Uint32Array) => Promise<SyncResult>,
  stopped: () => boolean,
): Promise<void> {
  const ctl = channel.ctl;
  let seen = Atomics.load(ctl, DOORBELL);
  while (!stopped()) {
    const waiting = waitAsync(ctl, DOORBELL, seen);
    if (waiting.async) await waiting.value;
    seen = Atomics.load(ctl, DOORBELL);
    const state = Atomics.load(ctl, STATE);
    if ((state & 3) !== PENDING) continue;
    const count = ctl[COUNT];
    const kind = ctl[KIND] as Kind;
    const handles = channel.handles.slice(0, count);
    const idents = channel.idents.slice(0, count * IDENT_WORDS[kind]);
    if (Atomics.load(ctl, STATE) !== state) continue;
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
  }
}

/** Wakes serveSync so it sees `stopped()`. */
export function wakeServer(channel: SyncChannel): void {
  Atomics.add(channel.ctl, DOORBELL, 1);
  Atomics.notify(channel.ctl, DOORBELL);
}
