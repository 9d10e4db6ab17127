// The example's dataset: JSON documents generated deterministically from their id, so the load
// script can check every response without holding the dataset itself.
import { createHash } from 'node:crypto';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

/** Document `id` as JSON bytes (about 1–4 KiB, compressible like real API payloads). */
export function documentBytes(id) {
  let x = (id + 1) * 2654435761 >>> 0;
  // The high bits: an LCG's low bits repeat with a short period.
  const next = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 8;
  const items = [];
  for (let i = 0, n = 8 + (next() % 32); i < n; i++) {
    items.push({ sku: `SKU-${next() % 100000}`, name: `${WORDS[next() % 12]} ${WORDS[next() % 12]}`, qty: 1 + (next() % 5), price: (next() % 100000) / 100 });
  }
  return Buffer.from(JSON.stringify({
    id, customer: `customer-${next() % 50000}`, email: `c${id}@shop.example.com`, status: ['open', 'paid', 'shipped'][next() % 3],
    created: new Date(Date.UTC(2025, 0, 1) + id * 60_000).toISOString(), items, note: WORDS[next() % 12].repeat(1 + (next() % 20)),
  }));
}

export function checksum(bytes) {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Command-line options shared by the server and the load script. */
export const serviceOptions = {
  docs: { type: 'string', default: '1000000' },
  'resident-mib': { type: 'string', default: '64' },
  'pool-mib': { type: 'string', default: '128' },
  backend: { type: 'string', default: 'zcache' },
};
