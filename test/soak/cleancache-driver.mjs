// Cleancache hooks against a model of its coherency rules (DESIGN §5): a get that hits returns the
// page of the last put of that key; after a miss (or an invalidate) no get hits until a new put;
// a hit on a private pool removes the page, a shared pool keeps it. Pages may be dropped at any
// time, so a miss is always allowed. Two private pools and one shared pool, recreated now and then.
import { cleancache } from 'tmem';

const PAGE = 4096;
const INODES = 48;
const INDEXES = 32;

export class CleancacheDriver {
  #src;
  #tally;
  #rand;
  #nextId;
  /** [poolId, shared] of the pools in use. */
  #pools = [];
  /** `${pool}/${inode}` -> Map(index -> page id). */
  #model = new Map();
  #page = new Uint8Array(PAGE);
  #into = new Uint8Array(PAGE);

  constructor(src, tally, rand, firstId) {
    this.#src = src;
    this.#tally = tally;
    this.#rand = rand;
    this.#nextId = firstId;
    this.#pools.push([cleancache.initFs(), false], [cleancache.initFs(), false], [cleancache.initSharedFs('tmem-soak'), true]);
  }

  /** Every page went with the backend (unload): nothing may hit any more. */
  forgetAll() {
    this.#model.clear();
  }

  step() {
    const r = this.#rand();
    const p = Math.floor(this.#rand() * this.#pools.length);
    const [pool, shared] = this.#pools[p];
    const inode = Math.floor(this.#rand() * INODES);
    const index = Math.floor(this.#rand() * INDEXES);
    const key = `${pool}/${inode}`;
    if (r < 0.45) {
      const id = this.#nextId++;
      this.#src.fill(id, this.#page);
      cleancache.putPage(pool, inode, index, this.#page);
      this.#pages(key).set(index, id);
    } else if (r < 0.9) {
      const hit = cleancache.getPage(pool, inode, index, this.#into);
      const want = this.#model.get(key)?.get(index);
      if (hit && want === undefined) this.#tally.fail(`cleancache get ${key}#${index}: hit after a miss, an invalidate or a private hit`);
      else if (hit && !this.#src.equals(want, this.#into)) this.#tally.fail(`cleancache get ${key}#${index}: wrong bytes (page ${want})`);
      if (!hit || !shared) this.#model.get(key)?.delete(index);
    } else if (r < 0.96) {
      cleancache.invalidatePage(pool, inode, index);
      this.#model.get(key)?.delete(index);
    } else if (r < 0.995) {
      cleancache.invalidateInode(pool, inode);
      this.#model.delete(key);
    } else {
      cleancache.invalidateFs(pool);
      for (let i = 0; i < INODES; i++) this.#model.delete(`${pool}/${i}`);
      this.#pools[p] = [shared ? cleancache.initSharedFs('tmem-soak') : cleancache.initFs(), shared];
    }
  }

  #pages(key) {
    let m = this.#model.get(key);
    if (!m) this.#model.set(key, (m = new Map()));
    return m;
  }
}
