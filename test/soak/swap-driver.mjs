// Swap-layer ops against a model: writePage(s), readPage(s), takePage(s), freePage(s) on one
// area, through frontswap into the loaded backend (or straight to the file), under injected I/O
// faults. The model is slot -> page id. Contract checked: a read returns exactly the page last
// written to the slot; a call that fails throws a coded error and changes nothing (the slots it
// would have taken stay free, the pages it would have read or taken stay readable).
const PAGE = 4096;
const MAX_BATCH = 8;

/** Slots in use with their page ids, with O(1) random pick and removal. */
export class HeldSlots {
  #list;
  #pos;
  ids;
  size = 0;

  constructor(slots) {
    this.#list = new Uint32Array(slots);
    this.#pos = new Int32Array(slots).fill(-1);
    this.ids = new Int32Array(slots);
  }

  has(slot) {
    return this.#pos[slot] >= 0;
  }

  add(slot, id) {
    this.#pos[slot] = this.size;
    this.#list[this.size++] = slot;
    this.ids[slot] = id;
  }

  remove(slot) {
    const p = this.#pos[slot];
    const last = this.#list[--this.size];
    this.#list[p] = last;
    this.#pos[last] = p;
    this.#pos[slot] = -1;
  }

  pick(rand) {
    return this.#list[Math.floor(rand() * this.size)];
  }

  /** Up to n distinct held slots, into `out`; returns the subarray filled. */
  pickDistinct(rand, n, out) {
    let k = 0;
    for (let tries = 0; k < n && tries < 4 * n; tries++) {
      const s = this.pick(rand);
      if (!out.subarray(0, k).includes(s)) out[k++] = s;
    }
    return out.subarray(0, k);
  }

  *[Symbol.iterator]() {
    for (let i = 0; i < this.size; i++) yield this.#list[i];
  }
}

export class SwapDriver {
  #area;
  #src;
  #tally;
  #rand;
  #nextId;
  #held;
  #page = new Uint8Array(MAX_BATCH * PAGE);
  #into = new Uint8Array(MAX_BATCH * PAGE);
  #offsets = new Uint32Array(MAX_BATCH);

  constructor(area, src, tally, rand, firstId) {
    this.#area = area;
    this.#src = src;
    this.#tally = tally;
    this.#rand = rand;
    this.#nextId = firstId;
    this.#held = new HeldSlots(area.pages);
  }

  get held() {
    return this.#held.size;
  }

  step() {
    const r = this.#rand();
    // Keep the area between a quarter and three quarters full: frees win when it is fuller.
    const fill = this.#held.size / (this.#area.pages - 1);
    if (this.#held.size === 0 || (r < 0.3 && fill < 0.75)) return r < 0.2 ? this.#write1() : this.#writeN();
    if (r < 0.55) return this.#read1();
    if (r < 0.65) return this.#readN();
    if (r < 0.75 || fill > 0.75) return r < 0.7 ? this.#take1() : this.#takeN();
    if (r < 0.9) return this.#free1();
    return this.#freeN();
  }

  /** Reads every held page back (call with faults off); a difference is a lost or wrong page. */
  verifyAll(when) {
    for (const slot of this.#held) {
      try {
        this.#area.readPage(slot, this.#into.subarray(0, PAGE));
        this.#check(slot, this.#into, 0, `${when}: verify`);
      } catch (err) {
        this.#tally.fail(`${when}: verify slot ${slot}: ${err.code ?? err.message}`);
      }
    }
  }

  // A call that failed must be coded and leave every slot as it was.
  #failed(err, what, usedBefore) {
    this.#tally.error(err, what);
    if (this.#area.usedPages !== usedBefore) this.#tally.fail(`failed ${what} changed usedPages ${usedBefore} -> ${this.#area.usedPages}`);
  }

  #check(slot, buf, at, what) {
    const id = this.#held.ids[slot];
    if (!this.#src.equals(id, buf, at)) this.#tally.fail(`${what}: slot ${slot} (page ${id}) read back wrong bytes`);
  }

  #write1() {
    const id = this.#nextId++;
    const page = this.#page.subarray(0, PAGE);
    this.#src.fill(id, page);
    const used = this.#area.usedPages;
    try {
      const slot = this.#area.writePage(page);
      if (this.#held.has(slot)) this.#tally.fail(`writePage returned slot ${slot}, which holds page ${this.#held.ids[slot]}`);
      else this.#held.add(slot, id);
    } catch (err) {
      this.#failed(err, 'writePage', used);
    }
  }

  #writeN() {
    const n = 1 + Math.floor(this.#rand() * MAX_BATCH);
    const first = this.#nextId;
    this.#nextId += n;
    for (let i = 0; i < n; i++) this.#src.fill(first + i, this.#page, i * PAGE);
    const used = this.#area.usedPages;
    try {
      const slots = this.#area.writePages(this.#page.subarray(0, n * PAGE), this.#offsets);
      for (let i = 0; i < n; i++) {
        if (this.#held.has(slots[i])) this.#tally.fail(`writePages returned slot ${slots[i]}, which is in use`);
        else this.#held.add(slots[i], first + i);
      }
    } catch (err) {
      this.#failed(err, 'writePages', used);
    }
  }

  #read1() {
    const slot = this.#held.pick(this.#rand);
    try {
      this.#area.readPage(slot, this.#into.subarray(0, PAGE));
      this.#check(slot, this.#into, 0, 'readPage');
    } catch (err) {
      this.#tally.error(err, 'readPage');
    }
  }

  #readN() {
    const n = 1 + Math.floor(this.#rand() * MAX_BATCH);
    // Repeats allowed: readPages does not require distinct slots.
    for (let i = 0; i < n; i++) this.#offsets[i] = this.#held.pick(this.#rand);
    const slots = this.#offsets.subarray(0, n);
    try {
      this.#area.readPages(slots, this.#into.subarray(0, n * PAGE));
      for (let i = 0; i < n; i++) this.#check(slots[i], this.#into, i * PAGE, 'readPages');
    } catch (err) {
      this.#tally.error(err, 'readPages');
    }
  }

  #take1() {
    const slot = this.#held.pick(this.#rand);
    const used = this.#area.usedPages;
    try {
      this.#area.takePage(slot, this.#into.subarray(0, PAGE));
      this.#check(slot, this.#into, 0, 'takePage');
      this.#held.remove(slot);
    } catch (err) {
      this.#failed(err, 'takePage', used);
    }
  }

  #takeN() {
    const slots = this.#held.pickDistinct(this.#rand, 1 + Math.floor(this.#rand() * MAX_BATCH), this.#offsets);
    const used = this.#area.usedPages;
    try {
      this.#area.takePages(slots, this.#into.subarray(0, slots.length * PAGE));
      for (let i = 0; i < slots.length; i++) {
        this.#check(slots[i], this.#into, i * PAGE, 'takePages');
        this.#held.remove(slots[i]);
      }
    } catch (err) {
      this.#failed(err, 'takePages', used);
    }
  }

  #free1() {
    const slot = this.#held.pick(this.#rand);
    try {
      this.#area.freePage(slot);
      this.#held.remove(slot);
    } catch (err) {
      this.#tally.error(err, 'freePage', []);
    }
  }

  #freeN() {
    const slots = this.#held.pickDistinct(this.#rand, 1 + Math.floor(this.#rand() * MAX_BATCH), this.#offsets);
    try {
      this.#area.freePages(slots);
      for (const slot of slots) this.#held.remove(slot);
    } catch (err) {
      this.#tally.error(err, 'freePages', []);
    }
  }
}
