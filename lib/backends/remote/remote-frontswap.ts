// The frontswap ops of a zcache backend with a remote tier: the pool's ops, plus the pages the
// remote index says are in the cluster. A page is in the pool or remote, never both, so every op
// asks the pool first and the remote index for what the pool does not hold.
//
// Loads of a remote page are synchronous here, because frontswap's load is (the kernel slept the
// faulting thread): the calling thread blocks for one cluster round trip (RemoteTier.readPagesSync,
// one per 64 pages of a batch) and the event loop does not run meanwhile. loadBatchAsync is the
// non-blocking form for readPagesAsync / SwapCache. A payload is checked (CRC32C, identity,
// version) by the tier and decompressed here; a page that cannot be had is a miss when writethrough
// put it in its swap-file slot (the swap layer then reads the file), and ERR_TMEM_REMOTE_LOST
// otherwise — never other bytes. Exclusive loads drop nothing until every page of the call is in
// hand, so a failing call leaves the backend as it was.
import { IDENT_WORDS, Kind, MAX_PAYLOAD, ReadStatus } from '../../remote/format';
import { TmemError } from '../../util/errors';
import type { AreaInfo, FrontswapOps } from '../types';
import { PAGE_SIZE } from '../types';
import type { DeleteQueue } from './delete-queue';
import type { RemoteState } from './remote-pool';

const WORDS = IDENT_WORDS[Kind.Pers];

/** Scratch of one remote read: handles, identities, payloads, lengths, statuses, slots. */
class ReadScratch {
  handles!: Float64Array;
  idents!: Uint32Array;
  payloads!: Uint8Array;
  lengths!: Uint32Array;
  status!: Uint8Array;
  slots!: Uint32Array;

  constructor(n: number) {
    this.#alloc(n);
  }

  room(n: number): void {
    if (this.handles.length < n) this.#alloc(Math.max(n, this.handles.length * 2));
  }

  #alloc(cap: number): void {
    this.handles = new Float64Array(cap);
    this.idents = new Uint32Array(cap * WORDS);
    this.payloads = new Uint8Array(cap * MAX_PAYLOAD);
    this.lengths = new Uint32Array(cap);
    this.status = new Uint8Array(cap);
    this.slots = new Uint32Array(cap);
  }
}

export class RemoteFrontswap implements FrontswapOps {
  readonly #ops: FrontswapOps;
  readonly #r: RemoteState;
  readonly #deletes: DeleteQueue;
  readonly #one = new ReadScratch(1);
  readonly #batch = new ReadScratch(64);
  readonly #page = new Uint8Array(PAGE_SIZE);
  readonly #oneHit = new Uint8Array(1);

  constructor(ops: FrontswapOps, state: RemoteState, deletes: DeleteQueue) {
    this.#ops = ops;
    this.#r = state;
    this.#deletes = deletes;
  }

  init(type: number, area: AreaInfo): void {
    this.#ops.init(type, area);
    this.#r.index.initArea(type, area.pages);
    this.#r.areas[type] = area;
  }

  store(type: number, offset: number, page: Uint8Array): boolean {
    this.#forget(type, offset);
    return this.#ops.store(type, offset, page);
  }

  load(type: number, offset: number, into: Uint8Array, exclusive: boolean): boolean {
    if (this.#ops.load(type, offset, into, exclusive)) return true;
    const handle = this.#r.index.get(type, offset);
    if (handle === 0 || this.#skip(type, offset, handle)) return false;
    const s = this.#one;
    s.handles[0] = handle;
    s.idents[0] = type;
    s.idents[1] = offset;
    s.slots[0] = 0;
    this.#r.tier.readPagesSync(Kind.Pers, s.handles, s.idents, s.payloads, s.lengths, s.status);
    const hit = this.#oneHit;
    hit[0] = 0;
    this.#settleInto(type, s, 1, into, hit);
    // The page is in hand (or in its file slot, with writethrough): the remote copy can go.
    if (exclusive) this.#forget(type, offset);
    return hit[0] === 1;
  }

  invalidatePage(type: number, offset: number): void {
    this.#ops.invalidatePage(type, offset);
    this.#forget(type, offset);
  }

  invalidateArea(type: number): void {
    this.#ops.invalidateArea(type);
    this.#r.index.dropArea(type, (_offset, handle) => this.#deletes.push(handle));
    this.#r.areas[type] = null;
  }

  storeBatch(type: number, offsets: Uint32Array, pages: Uint8Array, results: Uint8Array): number {
    for (let i = 0; i < offsets.length; i++) this.#forget(type, offsets[i]);
    return this.#ops.storeBatch(type, offsets, pages, results);
  }

  loadBatch(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, exclusive: boolean): number {
    const n = this.#collect(type, offsets, into, hits);
    if (n > 0) {
      const s = this.#batch;
      this.#r.tier.readPagesSync(Kind.Pers, s.handles.subarray(0, n), s.idents.subarray(0, n * WORDS), s.payloads.subarray(0, n * MAX_PAYLOAD), s.lengths.subarray(0, n), s.status.subarray(0, n));
      this.#settleInto(type, s, n, into, hits);
    }
    return this.#finishBatch(type, offsets, hits, exclusive);
  }

  /**
   * loadBatch (never exclusive) whose remote pages come over without blocking the event loop: the
   * count at once when the pool had every page it could, else a promise. The caller must not touch
   * its buffers until the promise settles.
   */
  loadBatchAsync(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array): number | Promise<number> {
    const n = this.#collect(type, offsets, into, hits);
    if (n === 0) return this.#finishBatch(type, offsets, hits, false);
    return this.#fetchAsync(type, offsets, into, hits, n);
  }

  async #fetchAsync(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array, n: number): Promise<number> {
    // A scratch of its own: several async batches may be in flight, and sync ones between them.
    const s = new ReadScratch(n);
    s.handles.set(this.#batch.handles.subarray(0, n));
    s.idents.set(this.#batch.idents.subarray(0, n * WORDS));
    s.slots.set(this.#batch.slots.subarray(0, n));
    await this.#r.tier.readPages(Kind.Pers, s.handles.subarray(0, n), s.idents.subarray(0, n * WORDS), s.payloads.subarray(0, n * MAX_PAYLOAD), s.lengths.subarray(0, n), s.status.subarray(0, n));
    // The page may have been stored over or invalidated while the read was in flight: only a slot
    // whose handle is still the one read is filled.
    for (let i = 0; i < n; i++) {
      if (this.#r.index.get(type, s.idents[i * WORDS + 1]) !== s.handles[i]) s.status[i] = ReadStatus.Missing;
    }
    this.#settleInto(type, s, n, into, hits);
    return this.#finishBatch(type, offsets, hits, false);
  }

  invalidateBatch(type: number, offsets: Uint32Array): void {
    this.#ops.invalidateBatch(type, offsets);
    for (let i = 0; i < offsets.length; i++) this.#forget(type, offsets[i]);
  }

  areaStats(type: number): { pages: number; compressedBytes: number } {
    return this.#ops.areaStats ? this.#ops.areaStats(type) : { pages: 0, compressedBytes: 0 };
  }

  #forget(type: number, offset: number): void {
    const handle = this.#r.index.take(type, offset);
    if (handle !== 0) this.#deletes.push(handle);
  }

  // Pages known to be unobtainable without a round trip: with writethrough, while the tier cannot
  // reach the cluster or once the page's group was found wiped, the file has the page (a miss);
  // without it a wiped group's page is lost at once.
  #skip(type: number, offset: number, handle: number): boolean {
    const lost = this.#r.tier.isLost(handle);
    if (this.#r.writethrough) return lost || !this.#r.tier.available;
    if (lost) throw this.#lost(type, offset, ReadStatus.Lost);
    return false;
  }

  // Pool part of a batch (never exclusive yet), then the remote pages the pool missed into the
  // batch scratch; returns how many are remote.
  #collect(type: number, offsets: Uint32Array, into: Uint8Array, hits: Uint8Array): number {
    const local = this.#ops.loadBatch(type, offsets, into, hits, false);
    if (local === offsets.length) return 0;
    const s = this.#batch;
    s.room(offsets.length - local);
    let n = 0;
    for (let i = 0; i < offsets.length; i++) {
      if (hits[i]) continue;
      const handle = this.#r.index.get(type, offsets[i]);
      if (handle === 0 || this.#skip(type, offsets[i], handle)) continue;
      s.handles[n] = handle;
      s.idents[n * WORDS] = type;
      s.idents[n * WORDS + 1] = offsets[i];
      s.slots[n++] = i;
    }
    return n;
  }

  // Decompresses each Ok payload into its page; a page that cannot be had is a miss with
  // writethrough (its file slot has it), else the whole call fails with ERR_TMEM_REMOTE_LOST.
  #settleInto(type: number, s: ReadScratch, n: number, into: Uint8Array, hits: Uint8Array): void {
    const page = this.#page;
    for (let i = 0; i < n; i++) {
      const status = s.status[i] as ReadStatus;
      const offset = s.idents[i * WORDS + 1];
      if (status === ReadStatus.Ok && this.#r.pool.decompress(s.payloads.subarray(i * MAX_PAYLOAD, i * MAX_PAYLOAD + s.lengths[i]), page)) {
        into.set(page, s.slots[i] * PAGE_SIZE);
        hits[s.slots[i]] = 1;
        continue;
      }
      if (this.#r.writethrough) continue;
      throw this.#lost(type, offset, status);
    }
  }

  // Exclusive batches drop the pages only now that every one of them is in hand.
  #finishBatch(type: number, offsets: Uint32Array, hits: Uint8Array, exclusive: boolean): number {
    let count = 0;
    for (let i = 0; i < offsets.length; i++) count += hits[i];
    if (exclusive) {
      this.#ops.invalidateBatch(type, offsets);
      for (let i = 0; i < offsets.length; i++) this.#forget(type, offsets[i]);
    }
    return count;
  }

  #lost(type: number, offset: number, status: ReadStatus): TmemError {
    const why = status === ReadStatus.Ok ? 'its payload failed to decompress' : `its remote copy is ${ReadStatus[status].toLowerCase()}`;
    return new TmemError('ERR_TMEM_REMOTE_LOST', `swap area ${type} slot ${offset}: ${why}; the page is lost (remote.writethrough keeps a copy in the swap file)`);
  }
}
