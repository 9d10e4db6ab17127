// Moving values between SwapCache's tiers (see tiers.ts): eviction from the resident ring into
// swap runs, written from the ring through one reused buffer; a swapped value coming back to the
// ring; maxBytes dropping the least recently used runs; compaction of runs left sparse.
import { M_EXPIRES, M_FLAGS, M_LENGTH, M_RUN, M_START, M_TTL, RESIDENT } from './key-index';
import { chargeOf, NO_RUN, recordBytes } from './resident-ring';
import { MAX_RUN_MEMBERS, RUN_BYTES, RunBuilder } from './runs';
import { Tiers, type StoreConfig } from './tiers';

export class Moves extends Tiers {
  protected builder = new RunBuilder();
  protected pendingSlots = new Uint32Array(MAX_RUN_MEMBERS);
  protected pendingStarts = new Uint32Array(MAX_RUN_MEMBERS);
  protected relocate = new Uint32Array(MAX_RUN_MEMBERS * 5);
  protected lengths = new Uint32Array(MAX_RUN_MEMBERS);
  protected slack: number;
  #whole = new Uint8Array(RUN_BYTES);

  constructor(config: StoreConfig) {
    super(config);
    this.slack = Math.min(this.ring.capacity >>> 3, 256 << 10);
  }

  // Makes room in the ring for a record of `length` bytes plus some slack, so that referenced
  // records at the tail can be given their second chance instead of leaving. Values without a
  // swap copy leave in runs (written from the ring through one reused buffer); values with a
  // clean copy just drop their resident bytes.
  protected makeRoom(length: number, keyLength: number): void {
    const r = this.ring;
    const need = recordBytes(length) + chargeOf(keyLength) + this.slack;
    if (r.admits(length, keyLength) && r.freeBytes >= need) return;
    const b = this.builder;
    b.reset();
    try {
      // The first pass clears reference bits as it goes, so a second one always frees room.
      for (let pass = 0; pass < 2; pass++) {
        let visited = 0;
        const total = r.count;
        for (let slot = r.tailSlot(); slot >= 0 && visited < total; visited++) {
          const next = r.nextSlot(slot);
          if (r.ref[slot] && r.moveToHead(slot)) {
            slot = next;
            continue;
          }
          r.ref[slot] = 0;
          if (r.cleanRun[slot] !== NO_RUN) {
            this.unresidentClean(slot);
          } else if (RunBuilder.single(r.len[slot])) {
            this.flush();
            this.evictSingle(slot);
          } else {
            if (!b.canAdd(r.len[slot])) {
              this.flush();
              if (r.admits(length, keyLength) && r.freeBytes >= need) return;
            }
            this.pendingSlots[b.count] = slot;
            this.pendingStarts[b.count] = b.add(r.id[slot], r.bytes, r.pos[slot], r.len[slot]);
          }
          if (b.count === 0 && r.admits(length, keyLength) && r.freeBytes >= need) return;
          slot = next;
        }
        this.flush();
        if (r.admits(length, keyLength)) return;
      }
    } finally {
      b.reset();
    }
  }

  // Writes the pending run and lets its values go from the ring.
  protected flush(): void {
    const b = this.builder;
    const n = b.count;
    if (n === 0) return;
    const run = this.runs.write(b.finish(), n, b.bytes);
    const r = this.ring;
    const e = this.relocate;
    for (let i = 0; i < n; i++) {
      const slot = this.pendingSlots[i];
      e[i * 5] = r.id[slot];
      e[i * 5 + 1] = this.pendingStarts[i];
      e[i * 5 + 2] = r.len[slot];
      e[i * 5 + 3] = r.expires[slot];
      e[i * 5 + 4] = r.ttl[slot];
    }
    this.index.relocate(e, n, run);
    for (let i = 0; i < n; i++) {
      const slot = this.pendingSlots[i];
      this.swappedBytes += r.len[slot];
      this.resident.delete(r.key[slot]);
      r.free(slot);
    }
    this.stats.evicted_values += n;
    b.reset();
  }

  protected evictSingle(slot: number): void {
    const r = this.ring;
    const run = this.writeSingle(r.id[slot], r.bytes, r.pos[slot], r.len[slot]);
    this.index.update(r.id[slot], run, 0, r.len[slot], 0, r.expires[slot], r.ttl[slot]);
    this.swappedBytes += r.len[slot];
    this.resident.delete(r.key[slot]);
    r.free(slot);
    this.stats.evicted_values++;
  }

  protected writeSingle(id: number, src: Uint8Array, from: number, length: number): number {
    const b = this.builder;
    b.reset();
    b.reserveSingle(length);
    b.add(id, src, from, length);
    try {
      return this.runs.write(b.finish(), 1, length);
    } finally {
      b.reset();
    }
  }

  protected unresidentClean(slot: number): void {
    const r = this.ring;
    this.index.update(r.id[slot], r.cleanRun[slot], r.cleanStart[slot], r.len[slot], 0, r.expires[slot], r.ttl[slot]);
    this.swappedBytes += r.len[slot];
    this.resident.delete(r.key[slot]);
    r.free(slot);
    this.stats.evicted_values++;
  }

  // A swapped value read by get() becomes resident (when there is room: a full swap area only
  // means it is served from swap and stays there). Returns its slot, or -1.
  protected swapIn(key: string, id: number, bytes: Uint8Array, run: number, start: number, exp: number, ttl: number): number {
    const length = bytes.byteLength;
    let room = true;
    try {
      this.makeRoom(length, key.length);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ERR_TMEM_SWAP_FULL' && code !== 'ERR_TMEM_IO') throw err;
      room = false;
    }
    const r = this.ring;
    if (!room || !r.admits(length, key.length)) {
      this.index.update(id, run, start, length, 0, exp, ttl);
      return -1;
    }
    const slot = r.append(length, id, key);
    r.bytes.set(bytes, r.pos[slot]);
    r.expires[slot] = exp;
    r.ttl[slot] = ttl;
    if (this.keepClean) {
      r.cleanRun[slot] = run;
      r.cleanStart[slot] = start;
    } else {
      this.runs.release(run, length);
    }
    this.swappedBytes -= length;
    this.index.update(id, slot, 0, length, RESIDENT, exp, ttl);
    this.resident.set(key, slot);
    return slot;
  }

  // Over maxBytes: drop the oldest runs (least recently used values), then resident values from
  // the ring's tail, never `keep` (the value just set).
  protected enforceMaxBytes(keep: string): void {
    const keepRun = this.resident.has(keep) || this.index.find(keep) < 0 ? -1 : this.index.meta[M_RUN];
    while (this.totalBytes > this.maxBytes) {
      const run = this.runs.oldest();
      if (run >= 0 && run !== keepRun) {
        this.dropRun(run);
        continue;
      }
      let slot = this.ring.tailSlot();
      while (slot >= 0 && this.ring.key[slot] === keep) slot = this.ring.nextSlot(slot);
      if (slot < 0) return;
      this.removeResident(slot, 'evict');
    }
  }

  protected dropRun(run: number): void {
    const ids = this.runs.members(run);
    let n: number;
    if (this.track.keys || this.track.values) {
      n = 0;
      for (const id of ids) {
        if (!this.index.findId(id) || this.index.meta[M_FLAGS] & RESIDENT || this.index.meta[M_RUN] !== run) continue;
        const m = this.index.meta;
        const key = this.index.keyOf(id);
        const bytes = this.track.values ? this.runs.read(run, m[M_START], m[M_LENGTH]).slice() : null;
        this.swappedBytes -= m[M_LENGTH];
        this.index.remove(id);
        this.report(key, bytes ? { bytes, obj: undefined } : null, 'evict');
        n++;
      }
    } else {
      n = this.index.removeIfRun(ids, ids.length, run, this.lengths);
      for (let i = 0; i < n; i++) this.swappedBytes -= this.lengths[i];
    }
    this.runs.free(run);
    this.stats.dropped_values += n;
  }

  /**
   * Map mode: rewrites the live values of one run that fell under a quarter full into new runs
   * (and lets resident values' clean copies in it go), so swap space follows the data instead of
   * the history of replacements. Does nothing when no run is sparse. A full swap area or a failed
   * read or write of the swap file (ERR_TMEM_IO) leaves the rest of the run as it is: compaction
   * runs after a set has stored its value, and its failure must not make that set throw.
   */
  protected compactOne(): void {
    const run = this.runs.nextSparse();
    if (run < 0) return;
    const b = this.builder;
    const e = this.relocate;
    const m = this.index.meta;
    const r = this.ring;
    b.reset();
    let n = 0;
    try {
      const ids = this.runs.members(run);
      const whole = this.runs.readWhole(run, this.#whole);
      this.stats.compacted_runs++;
      for (const id of ids) {
        if (!this.index.findId(id)) continue;
        if (m[M_FLAGS] & RESIDENT) {
          const slot = m[M_RUN];
          if (r.cleanRun[slot] === run) {
            r.cleanRun[slot] = NO_RUN;
            this.runs.release(run, r.len[slot]);
          }
          continue;
        }
        if (m[M_RUN] !== run) continue;
        const length = m[M_LENGTH];
        if (!b.canAdd(length)) {
          this.#moveRun(n, run);
          n = 0;
        }
        e[n * 5] = id;
        e[n * 5 + 1] = b.add(id, whole, m[M_START], length);
        e[n * 5 + 2] = length;
        e[n * 5 + 3] = m[M_EXPIRES];
        e[n * 5 + 4] = m[M_TTL];
        n++;
      }
      this.#moveRun(n, run);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ERR_TMEM_SWAP_FULL' && code !== 'ERR_TMEM_IO') throw err;
    } finally {
      b.reset();
    }
  }

  // Writes the builder's values (relocate entries 0..n) as a new run and releases them from `from`.
  #moveRun(n: number, from: number): void {
    if (n === 0) return;
    const to = this.runs.write(this.builder.finish(), n, this.builder.bytes);
    this.index.relocate(this.relocate, n, to);
    for (let i = 0; i < n; i++) this.runs.release(from, this.relocate[i * 5 + 2]);
    this.builder.reset();
  }
}
