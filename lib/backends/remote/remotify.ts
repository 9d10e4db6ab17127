// Remotify: RAMster's background worker that moves cold compressed pages to remote memory, here
// as the first step of the backend's writeback mechanics. When the writeback policy asks for room
// and the tier can write, a batch of the coldest compressed entries is picked off the pool's LRU
// (pool.remotePick: the entries stay loadable), their stored bytes go to the cluster as they are,
// and only once the batch is acknowledged by its master and `replicas` replicas does the pool drop
// them (pool.remoteFinish) while the remote index records their handles, in one synchronous step.
// A batch the cluster does not take leaves the pages local (the tier counts it) and the same call
// falls back to writeback to the swap files, so the pool still drains with the cluster full or
// gone. Entries changed while their batch was in flight stay as they are; their fresh remote
// copies are deleted.
//
// One batch at a time: the policy may ask for several at once, later calls wait for the running
// one. That also keeps remoteFinish's "entry unchanged" check exact (pool.h).
//
// writethrough: each acknowledged page is also decompressed and pwritten to its swap-file slot
// before it is committed; a page whose write fails stays local.
import * as fs from 'node:fs';
import { IDENT_WORDS, Kind, MAX_PAYLOAD } from '../../remote/format';
import { PAGE_SIZE } from '../types';
import type { WritebackMechanics } from '../writeback-policy';
import type { DeleteQueue } from './delete-queue';
import type { RemoteState } from './remote-pool';

const WORDS = IDENT_WORDS[Kind.Pers];

export class Remotify implements WritebackMechanics {
  readonly #inner: WritebackMechanics;
  readonly #r: RemoteState;
  readonly #deletes: DeleteQueue;
  readonly #max: number;
  readonly #payloads: Uint8Array;
  readonly #lengths: Uint32Array;
  readonly #types: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #page = new Uint8Array(PAGE_SIZE);
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(inner: WritebackMechanics, state: RemoteState, deletes: DeleteQueue) {
    this.#inner = inner;
    this.#r = state;
    this.#deletes = deletes;
    this.#max = state.tier.config.batchPages;
    this.#payloads = new Uint8Array(this.#max * MAX_PAYLOAD);
    this.#lengths = new Uint32Array(this.#max);
    this.#types = new Uint32Array(this.#max);
    this.#offsets = new Uint32Array(this.#max);
  }

  poolBytes(): number {
    return this.#inner.poolBytes();
  }

  compact(): number {
    return this.#inner.compact ? this.#inner.compact() : 0;
  }

  writebackSync(maxPages: number): number {
    return this.#inner.writebackSync(maxPages);
  }

  writeback(maxPages: number): Promise<number> {
    const run = this.#running.then(async () => {
      const remoted = this.#stopped || !this.#r.tier.available ? 0 : await this.#batch(maxPages);
      return remoted > 0 ? remoted : this.#inner.writeback(maxPages);
    });
    this.#running = run.catch(() => {});
    return run;
  }

  /** No new remote batches; resolves when the running one has finished. */
  stop(): Promise<unknown> {
    this.#stopped = true;
    return this.#running;
  }

  // One batch: pick, write with WAIT, commit. Returns the pages that left the pool.
  async #batch(maxPages: number): Promise<number> {
    const { pool, tier } = this.#r;
    const max = Math.min(maxPages, this.#max);
    const n = pool.remotePick(
      this.#payloads.subarray(0, max * MAX_PAYLOAD),
      this.#lengths.subarray(0, max),
      this.#types.subarray(0, max),
      this.#offsets.subarray(0, max),
    );
    if (n === 0) return 0;
    const lengths = this.#lengths.slice(0, n);
    let total = 0;
    for (let i = 0; i < n; i++) total += lengths[i];
    const packed = new Uint8Array(total);
    const idents = new Uint32Array(n * WORDS);
    for (let i = 0, at = 0; i < n; i++) {
      packed.set(this.#payloads.subarray(i * MAX_PAYLOAD, i * MAX_PAYLOAD + lengths[i]), at);
      at += lengths[i];
      idents[i * WORDS] = this.#types[i];
      idents[i * WORDS + 1] = this.#offsets[i];
    }
    const ok = new Uint8Array(n);
    const handles = new Float64Array(n);
    try {
      await tier.writePages(Kind.Pers, idents, packed, lengths, ok, handles);
    } catch {
      ok.fill(0);
    }
    const landed = ok.slice();
    if (this.#r.writethrough) this.#writeThrough(n, ok);
    const committed = new Uint8Array(n);
    const done = pool.remoteFinish(ok, committed);
    for (let i = 0; i < n; i++) {
      if (committed[i]) this.#r.index.set(this.#types[i], this.#offsets[i], handles[i]);
      else if (landed[i]) this.#deletes.push(handles[i]);
    }
    return done;
  }

  // Writes each acknowledged page to its swap-file slot; a page that cannot be written stays local.
  #writeThrough(n: number, ok: Uint8Array): void {
    for (let i = 0; i < n; i++) {
      if (!ok[i]) continue;
      const area = this.#r.areas[this.#types[i]];
      const payload = this.#payloads.subarray(i * MAX_PAYLOAD, i * MAX_PAYLOAD + this.#lengths[i]);
      try {
        if (!area || !this.#r.pool.decompress(payload, this.#page)) throw new Error('no file');
        // Sealed like every page that reaches a swap file: checksummed, encrypted on an encrypted area.
        const sealed = area.seals.seal(this.#offsets[i], this.#page, 0, 1);
        const base = sealed.first * PAGE_SIZE;
        const at = this.#offsets[i] * PAGE_SIZE;
        for (let done = 0; done < PAGE_SIZE; ) {
          const w = fs.writeSync(area.fd, sealed.bytes, base + done, PAGE_SIZE - done, at + done);
          if (w <= 0) throw new Error('short write');
          done += w;
        }
      } catch {
        ok[i] = 0;
      }
    }
  }
}
