// Frontswap hooks called directly (store, load, exclusive load, invalidate and their batches) on an
// area of their own, against a model of what frontswap must hold (DESIGN §4): a store that is
// accepted replaces the page, a refused one drops the older copy, an exclusive hit drops it. A
// load may miss a held page only when the backend wrote it back (or the backend was unloaded,
// which drains the pool into the file): the page must then be in the swap file at its slot. The
// file is read through a hard link outside the fault prefix, so the check itself sees no faults.
import { readSync } from 'node:fs';
import { frontswap } from 'tmem';

const PAGE = 4096;
const MAX_BATCH = 8;

export class FrontswapDriver {
  #area;
  #fileFd;
  #src;
  #tally;
  #rand;
  #nextId;
  /** slot -> page id + 1; 0 where frontswap must not hold the slot. */
  #model;
  #page = new Uint8Array(MAX_BATCH * PAGE);
  #into = new Uint8Array(MAX_BATCH * PAGE);
  #file = new Uint8Array(PAGE);
  #offsets = new Uint32Array(MAX_BATCH);
  #flags = new Uint8Array(MAX_BATCH);

  constructor(area, fileFd, src, tally, rand, firstId) {
    this.#area = area;
    this.#fileFd = fileFd;
    this.#src = src;
    this.#tally = tally;
    this.#rand = rand;
    this.#nextId = firstId;
    this.#model = new Int32Array(area.pages);
  }

  step() {
    const r = this.#rand();
    if (r < 0.35) return this.#store1();
    if (r < 0.45) return this.#storeN();
    if (r < 0.75) return this.#load1(r < 0.6);
    if (r < 0.85) return this.#loadN();
    if (r < 0.95) return this.#invalidate1();
    return this.#invalidateN();
  }

  /** Loads every slot the model holds (with faults off). */
  verifyAll(when) {
    for (let slot = 1; slot < this.#model.length; slot++) if (this.#model[slot]) this.#loadAndCheck(slot, false, when);
  }

  #slot() {
    return 1 + Math.floor(this.#rand() * (this.#area.pages - 1));
  }

  #distinct(n) {
    let k = 0;
    while (k < n) {
      const s = this.#slot();
      if (!this.#offsets.subarray(0, k).includes(s)) this.#offsets[k++] = s;
    }
    return this.#offsets.subarray(0, k);
  }

  #store1() {
    const slot = this.#slot();
    const id = this.#nextId++;
    const page = this.#page.subarray(0, PAGE);
    this.#src.fill(id, page);
    this.#model[slot] = frontswap.store(this.#area.type, slot, page) ? id + 1 : 0;
  }

  #storeN() {
    const slots = this.#distinct(1 + Math.floor(this.#rand() * MAX_BATCH));
    const first = this.#nextId;
    this.#nextId += slots.length;
    for (let i = 0; i < slots.length; i++) this.#src.fill(first + i, this.#page, i * PAGE);
    const results = frontswap.storeBatch(this.#area.type, slots, this.#page.subarray(0, slots.length * PAGE), this.#flags);
    for (let i = 0; i < slots.length; i++) this.#model[slots[i]] = results[i] ? first + i + 1 : 0;
  }

  #load1(exclusive) {
    this.#loadAndCheck(this.#slot(), exclusive, exclusive ? 'exclusive load' : 'load');
  }

  #loadAndCheck(slot, exclusive, what) {
    const into = this.#into.subarray(0, PAGE);
    const hit = frontswap.load(this.#area.type, slot, into, { exclusive });
    this.#judge(slot, hit, into, 0, what);
    if (hit && exclusive) this.#model[slot] = 0;
  }

  #loadN() {
    const n = 1 + Math.floor(this.#rand() * MAX_BATCH);
    for (let i = 0; i < n; i++) this.#offsets[i] = this.#slot();
    const slots = this.#offsets.subarray(0, n);
    const hits = frontswap.loadBatch(this.#area.type, slots, this.#into.subarray(0, n * PAGE), this.#flags);
    for (let i = 0; i < n; i++) this.#judge(slots[i], hits[i] === 1, this.#into, i * PAGE, 'loadBatch');
  }

  #judge(slot, hit, buf, at, what) {
    const want = this.#model[slot];
    if (want === 0) {
      if (hit) this.#tally.fail(`frontswap ${what}: slot ${slot} hit, but its page was dropped or never stored`);
      return;
    }
    if (hit) {
      if (!this.#src.equals(want - 1, buf, at)) this.#tally.fail(`frontswap ${what}: slot ${slot} (page ${want - 1}) wrong bytes`);
      return;
    }
    // A miss of a held page: only right if the page went to the swap file.
    const got = readSync(this.#fileFd, this.#file, 0, PAGE, slot * PAGE);
    if (got !== PAGE || !this.#src.equals(want - 1, this.#file, 0)) {
      this.#tally.fail(`frontswap ${what}: slot ${slot} (page ${want - 1}) missed and is not in the swap file`);
    }
  }

  #invalidate1() {
    const slot = this.#slot();
    frontswap.invalidatePage(this.#area.type, slot);
    this.#model[slot] = 0;
  }

  #invalidateN() {
    const n = 1 + Math.floor(this.#rand() * MAX_BATCH);
    for (let i = 0; i < n; i++) this.#offsets[i] = this.#slot();
    frontswap.invalidateBatch(this.#area.type, this.#offsets.subarray(0, n));
    for (let i = 0; i < n; i++) this.#model[this.#offsets[i]] = 0;
  }
}
