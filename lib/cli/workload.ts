// The demo's data: user sessions and cached documents, generated deterministically from (id,
// version) as JSON with the structure and compressibility of real service state (repeated keys,
// words from a vocabulary, random tokens that do not compress), and a zipf-distributed key picker.

const FIRST = ['ada', 'alan', 'grace', 'linus', 'ken', 'dennis', 'barbara', 'edsger', 'donald', 'margaret', 'john', 'radia', 'leslie', 'niklaus', 'frances', 'tim'];
const LAST = ['lovelace', 'turing', 'hopper', 'torvalds', 'thompson', 'ritchie', 'liskov', 'dijkstra', 'knuth', 'hamilton', 'mccarthy', 'perlman', 'lamport', 'wirth', 'allen', 'berners-lee'];
const WORDS = (
  'the of and to in is that for it as with was on be by this are or from at an but not have which ' +
  'memory page swap cache kernel pool compress frame buddy store load write read file slot area ' +
  'service request session user data value key index tree node list queue buffer stream socket ' +
  'latency throughput budget heap garbage collector process thread event loop timer promise ' +
  'release version feature bug fix report build test deploy cluster region replica shard backup ' +
  'customer order invoice payment shipping product price discount cart checkout account profile'
).split(' ');
const TAGS = ['linux', 'node', 'memory', 'performance', 'release', 'howto', 'news', 'ops', 'storage', 'web'];
const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP', 'pt-BR', 'es-ES', 'nl-NL'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];
const COLORS = ['black', 'white', 'red', 'navy', 'olive', 'grey', 'sand', 'teal'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL', 'XXL', 'one-size'];
const WAREHOUSES = ['ams-1', 'fra-2', 'lon-1', 'par-3', 'waw-1'];
const FLAGS = ['new_checkout', 'dark_mode', 'recommendations', 'saved_carts', 'express_shipping', 'gift_cards', 'reviews_v2', 'search_suggest'];
const HEX = '0123456789abcdef';
const EPOCH = Date.UTC(2025, 0, 1);

/** A small fast PRNG (mulberry32), seeded per value so any value can be regenerated alone. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 2^32). */
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[rng.u32() & 15];
  return s;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function sentence(rng: Rng, words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) {
    // Skewed word choice, like natural text: a few words are most of it.
    const w = WORDS[Math.floor(WORDS.length * rng.next() ** 3)];
    s += i === 0 ? w[0].toUpperCase() + w.slice(1) : ' ' + w;
  }
  return s + '.';
}

/** Keys 0..n-1: three in five are sessions, the rest documents. */
export function isSession(id: number): boolean {
  return id % 5 < 3;
}

export function keyOf(id: number): string {
  return isSession(id) ? `session:${id}` : `doc:${id}`;
}

/** A session object as JSON: about 0.6–2 KiB, a third of it random tokens. */
export function sessionJson(id: number, version: number): string {
  const rng = new Rng(Math.imul(id + 1, 0x9e3779b1) ^ Math.imul(version + 1, 0x85ebca6b));
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const created = EPOCH + rng.int(30 * 86400_000);
  const cart: string[] = [];
  for (let i = 0, n = rng.int(8); i < n; i++) {
    cart.push(`{"sku":"SKU-${10000 + rng.int(90000)}","name":"${rng.pick(WORDS)} ${rng.pick(WORDS)}","qty":${1 + rng.int(4)},"price":${(rng.int(100000) / 100).toFixed(2)}}`);
  }
  const history: string[] = [];
  for (let i = 0, n = 1 + rng.int(6); i < n; i++) history.push(`"/${rng.pick(TAGS)}/${rng.pick(WORDS)}-${rng.int(1000)}"`);
  return (
    `{"sid":"${hex(rng, 32)}","version":${version},"user":{"id":${id},"name":"${first} ${last}","email":"${first}.${last}${id}@example.com",` +
    `"locale":"${rng.pick(LOCALES)}","roles":["user"${rng.int(4) === 0 ? ',"beta"' : ''}${rng.int(20) === 0 ? ',"admin"' : ''}]},` +
    `"created":"${iso(created)}","last_seen":"${iso(created + version * 60_000 + rng.int(3600_000))}",` +
    `"ip":"10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}","user_agent":"${rng.pick(AGENTS)}",` +
    `"csrf":"${hex(rng, 24)}","cart":[${cart.join(',')}],"history":[${history.join(',')}],` +
    `"prefs":{"theme":"${rng.int(2) ? 'dark' : 'light'}","newsletter":${rng.int(2) === 1},"page_size":${10 * (1 + rng.int(5))}},"views":${rng.int(5000)},` +
    `"features":{${FLAGS.map((f) => `"${f}":${rng.int(8) === 0}`).join(',')}},` +
    `"consent":{"necessary":true,"analytics":${rng.int(3) !== 0},"marketing":${rng.int(3) === 0},"updated_at":"${iso(created)}","policy_version":"2024-11"},` +
    `"experiments":[{"name":"checkout-redesign","variant":"${rng.int(2) ? 'control' : 'treatment'}"},{"name":"search-ranking-v3","variant":"${rng.int(2) ? 'control' : 'treatment'}"}]}`
  );
}

/**
 * A cached document: a product page as a catalogue API returns it (rendered HTML description,
 * variants, reviews), about 2–14 KiB.
 */
export function documentJson(id: number, version: number): string {
  const rng = new Rng(Math.imul(id + 7, 0xc2b2ae35) ^ Math.imul(version + 3, 0x27d4eb2f));
  let html = '';
  for (let i = 0, n = 1 + rng.int(4); i < n; i++) {
    html += `<p class=\\"product-description__paragraph\\">${sentence(rng, 8 + rng.int(14))} ${sentence(rng, 6 + rng.int(10))}</p>`;
  }
  const base = 5 + rng.int(200);
  const variants: string[] = [];
  for (let i = 0, n = 2 + rng.int(14); i < n; i++) {
    variants.push(
      `{"sku":"SKU-${id}-${i}","color":"${rng.pick(COLORS)}","size":"${rng.pick(SIZES)}","price":{"amount":${(base + rng.int(20) - 0.01).toFixed(2)},"currency":"EUR"},` +
        `"stock":{"available":${rng.int(500)},"warehouse":"${rng.pick(WAREHOUSES)}","reserved":${rng.int(20)}},"active":${rng.int(10) !== 0}}`,
    );
  }
  const reviews: string[] = [];
  for (let i = 0, n = rng.int(10); i < n; i++) {
    reviews.push(
      `{"id":${rng.int(1e9)},"author":{"name":"${rng.pick(FIRST)} ${rng.pick(LAST)[0].toUpperCase()}.","verified_buyer":${rng.int(3) !== 0}},` +
        `"rating":${1 + rng.int(5)},"created_at":"${iso(EPOCH + rng.int(90 * 86400_000))}","title":"${sentence(rng, 2 + rng.int(4))}",` +
        `"body":"${sentence(rng, 5 + rng.int(20))}","helpful_votes":${rng.int(50)}}`,
    );
  }
  const tags = [rng.pick(TAGS), rng.pick(TAGS), rng.pick(TAGS)].map((t) => `"${t}"`).join(',');
  const related = Array.from({ length: 6 }, () => `{"id":${rng.int(1e6)},"href":"/api/v2/products/${rng.int(1e6)}"}`).join(',');
  return (
    `{"id":${id},"version":${version},"type":"product","slug":"${rng.pick(WORDS)}-${rng.pick(WORDS)}-${id}","title":"${sentence(rng, 3 + rng.int(5))}",` +
    `"brand":{"id":${rng.int(500)},"name":"${rng.pick(LAST)} & ${rng.pick(LAST)}"},"updated_at":"${iso(EPOCH + rng.int(365 * 86400_000))}",` +
    `"etag":"W/\\"${hex(rng, 16)}\\"","categories":[${tags}],"description_html":"${html}","variants":[${variants.join(',')}],` +
    `"reviews":{"count":${reviews.length},"items":[${reviews.join(',')}]},"related":[${related}],` +
    `"shipping":{"free_over":{"amount":50.00,"currency":"EUR"},"methods":[{"code":"standard","days":"3-5","price":{"amount":4.95,"currency":"EUR"}},` +
    `{"code":"express","days":"1-2","price":{"amount":${rng.int(2) ? '9.95' : '12.95'},"currency":"EUR"}}],"returns":{"days":30,"free":${rng.int(4) !== 0}}},` +
    `"breadcrumbs":[{"name":"Home","href":"/"},{"name":"${rng.pick(TAGS)}","href":"/c/${rng.pick(TAGS)}"},{"name":"${rng.pick(WORDS)}","href":"/c/${rng.pick(WORDS)}"}],` +
    `"_links":{"self":{"href":"/api/v2/products/${id}"},"reviews":{"href":"/api/v2/products/${id}/reviews"},"cart":{"href":"/api/v2/cart/items"}}}`
  );
}

/** The value of key `id` at `version`, as bytes. */
export function valueOf(id: number, version: number): Buffer {
  return Buffer.from(isSession(id) ? sessionJson(id, version) : documentJson(id, version), 'latin1');
}

/**
 * Picks ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s, mapped through a fixed random permutation so the
 * hot keys are spread over the key space (not just the first ones loaded).
 */
export class Zipf {
  readonly n: number;
  #cdf: Float64Array;
  #perm: Uint32Array;
  #rng: Rng;

  constructor(n: number, s: number, seed: number) {
    this.n = n;
    this.#rng = new Rng(seed);
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.#cdf[k] = sum += 1 / (k + 1) ** s;
    for (let k = 0; k < n; k++) this.#cdf[k] /= sum;
    this.#perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.#perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.#rng.int(i + 1);
      const t = this.#perm[i];
      this.#perm[i] = this.#perm[j];
      this.#perm[j] = t;
    }
  }

  /** A key id. */
  next(): number {
    const u = this.#rng.next();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return this.#perm[lo];
  }
}
