// The values every subject stores, and the check of every value read back.
//
// A value is `size` bytes cut from a corpus at an offset given by a 32-bit seed, with its first
// 8 bytes replaced by a stamp: the key index and the key's version (bumped by every update). So
// each (key, version) has its own bytes, a value read back can be compared byte for byte with
// what was written without keeping a copy of the data set (the corpus and, per key, a version and
// a seed suffice; capacity runs write version 1 from initialSeed(k) and keep nothing per key),
// and a value of another key or an older version can never pass.
//
// Corpora (made by the orchestrator at run time, never committed):
//   json  newline-separated JSON records of a service: users, orders, product documents
//   heap  real pages of a live Node process with a service-like heap (../corpus/heap-pages.mjs)
import { xorshift } from '../lib/corpora.mjs';

export const CORPORA = ['json', 'heap'];
export const STAMP = 8;

const WORDS = ('alpha bravo cobalt delta ember falcon garnet harbor indigo juniper kestrel lumen meadow nickel ' +
  'orchid pepper quartz raven saffron timber umber velvet willow xenon yarrow zephyr').split(' ');
const CITIES = ['Lisbon', 'Osaka', 'Denver', 'Leeds', 'Porto Alegre', 'Gdansk', 'Busan', 'Lyon', 'Austin', 'Tartu'];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'refunded'];

/** `bytes` of JSON records, one per line, deterministic. */
export function jsonCorpus(bytes, seed = 0x5eed) {
  const rand = xorshift(seed);
  const pick = (a) => a[rand() % a.length];
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  let id = 1000;
  while (at < bytes) {
    id += 1 + (rand() % 7);
    const kind = rand() % 3;
    let rec;
    if (kind === 0) {
      rec = { type: 'user', id, name: `${pick(WORDS)} ${pick(WORDS)}`, email: `${pick(WORDS)}.${id}@example.com`,
        city: pick(CITIES), createdAt: new Date(1.6e12 + id * 91_000).toISOString(), plan: pick(['free', 'pro', 'team']),
        flags: { beta: (rand() & 1) === 1, mfa: (rand() & 3) !== 0 }, visits: rand() % 5000 };
    } else if (kind === 1) {
      const items = Array.from({ length: 1 + (rand() % 4) }, () => ({ sku: `SKU-${rand() % 90000}`, qty: 1 + (rand() % 3),
        price: (rand() % 20000) / 100 }));
      rec = { type: 'order', id, user: rand() % 100000, status: pick(STATUSES), items,
        total: items.reduce((s, x) => s + x.qty * x.price, 0).toFixed(2), currency: pick(['EUR', 'USD', 'JPY']),
        shipTo: { city: pick(CITIES), zip: String(10000 + (rand() % 89999)) } };
    } else {
      rec = { type: 'product', id, title: `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`,
        description: Array.from({ length: 8 + (rand() % 24) }, () => pick(WORDS)).join(' '),
        tags: [pick(WORDS), pick(WORDS)], stock: rand() % 400, rating: (rand() % 50) / 10,
        images: [`/img/${id}/1.jpg`, `/img/${id}/2.jpg`] };
    }
    at += out.write(`${JSON.stringify(rec)}\n`, at, 'utf8');
  }
  return out;
}

/** Value sizes: one size for every key, or a size per key spread over [min, max] by a hash. */
export function sizeRule(spec) {
  if (typeof spec === 'number') return { min: spec, max: spec, of: () => spec };
  const { min, max } = spec;
  const span = max - min + 1;
  return { min, max, of: (k) => min + ((Math.imul(k ^ 0x5bd1e995, 0x85ebca6b) >>> 0) % span) };
}

/**
 * Builds and checks values. write() fills a reused scratch buffer and returns an exact-length
 * view of it (one view per size, made up front), so the timed loops never allocate.
 */
export class Values {
  constructor(corpus, sizes) {
    this.corpus = corpus;
    this.sizes = sizeRule(sizes);
    if (this.sizes.min < STAMP || this.sizes.max > corpus.length) throw new RangeError(`value sizes ${this.sizes.min}–${this.sizes.max} out of range`);
    this.scratch = Buffer.alloc(this.sizes.max);
    this.views = [];
    for (let s = this.sizes.min; s <= this.sizes.max; s++) this.views[s] = this.scratch.subarray(0, s);
  }

  #offset(size, seed) {
    return seed % (this.corpus.length - size + 1);
  }

  /** Version `version` of key k made from `seed`; valid until the next write. */
  write(k, version, seed) {
    const size = this.sizes.of(k);
    const off = this.#offset(size, seed);
    this.corpus.copy(this.scratch, 0, off, off + size);
    this.scratch.writeUInt32LE(k, 0);
    this.scratch.writeUInt32LE(version, 4);
    return this.views[size];
  }

  /** The stamp (key, version) and the length: what throughput loops check on every read. */
  stampOk(v, k, version) {
    return v.length === this.sizes.of(k) && v.readUInt32LE(0) === k && v.readUInt32LE(4) === version;
  }

  /** Every byte: what latency loops and memory-limit runs check on every read. */
  exact(v, k, version, seed) {
    if (!this.stampOk(v, k, version)) return false;
    const off = this.#offset(v.length, seed);
    return v.compare(this.corpus, off + STAMP, off + v.length, STAMP) === 0;
  }
}

/** What each key should hold now: its version and the seed its bytes came from. */
export class Expected {
  constructor(n) {
    this.version = new Uint32Array(n);
    this.seed = new Uint32Array(n);
  }
}

/** The pre-population seed of key k (any fixed spread of offsets will do). */
export function initialSeed(k) {
  return Math.imul(k + 1, 0x9e3779b1) >>> 0;
}
