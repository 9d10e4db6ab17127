// SwapCache (set, get, has, delete) against a Map model, with a resident budget so small that most
// values live in swap. Under injected faults a set or get may fail with ERR_TMEM_IO; the key must
// then keep its old value (or stay absent), readable once the faults stop.
import { SwapCache } from 'tmem';

const KEYS = 600;
const MAX_VALUE = 12_000;

export class SwapCacheDriver {
  #cache;
  #src;
  #tally;
  #rand;
  #nextId;
  /** key -> [page id, length]. */
  #model = new Map();

  constructor(options, src, tally, rand, firstId) {
    this.#cache = new SwapCache(options);
    this.#src = src;
    this.#tally = tally;
    this.#rand = rand;
    this.#nextId = firstId;
  }

  get cache() {
    return this.#cache;
  }

  step() {
    const r = this.#rand();
    const key = `k${Math.floor(this.#rand() * KEYS)}`;
    if (r < 0.4) {
      const id = this.#nextId++;
      // Mostly small values, some spanning pages.
      const length = this.#rand() < 0.8 ? Math.floor(this.#rand() * 600) : Math.floor(this.#rand() * MAX_VALUE);
      try {
        this.#cache.set(key, this.#src.value(id, length));
        this.#model.set(key, [id, length]);
      } catch (err) {
        this.#tally.error(err, 'SwapCache.set');
      }
    } else if (r < 0.8) {
      this.#get(key, 'SwapCache.get');
    } else if (r < 0.9) {
      if (this.#cache.has(key) !== this.#model.has(key)) this.#tally.fail(`SwapCache.has(${key}) disagrees with the model`);
    } else {
      const had = this.#cache.delete(key);
      if (had !== this.#model.delete(key)) this.#tally.fail(`SwapCache.delete(${key}) returned ${had}`);
    }
  }

  /** Reads every key back (with faults off). */
  verifyAll(when) {
    if (this.#cache.size !== this.#model.size) this.#tally.fail(`${when}: SwapCache.size ${this.#cache.size}, model ${this.#model.size}`);
    for (const key of this.#model.keys()) this.#get(key, `${when}: verify`);
  }

  close() {
    this.#cache.close();
  }

  #get(key, what) {
    let value;
    try {
      value = this.#cache.get(key);
    } catch (err) {
      this.#tally.error(err, what);
      return;
    }
    const want = this.#model.get(key);
    if (want === undefined) {
      if (value !== undefined) this.#tally.fail(`${what}(${key}): a value for a key that was deleted or never set`);
    } else if (!this.#src.valueEquals(want[0], want[1], value)) {
      this.#tally.fail(`${what}(${key}): wrong value (id ${want[0]}, ${want[1]} bytes; got ${value?.byteLength} bytes)`);
    }
  }
}
