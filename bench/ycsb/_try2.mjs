import { performance } from 'node:perf_hooks';
import { tmem } from '../lib/subjects.mjs';
import { LRUCache } from 'lru-cache';
const t = tmem();
await t.loadBackend('zcache', { maxPoolBytes: 64 << 20 });
const n = 8192;
const keys = Array.from({ length: n }, (_, k) => `item:${k}`);
const v = Buffer.alloc(1024, 7);
const sc = new t.SwapCache({ residentBytes: 64 << 20, backend: 'default' });
const lru = new LRUCache({ maxSize: 64 << 20, sizeCalculation: (x) => x.length });
for (let k = 0; k < n; k++) { sc.set(keys[k], v); lru.set(keys[k], Buffer.from(v)); }
const idx = new Uint32Array(200000).map((_, i) => (i * 2654435761) % n);
for (let r = 0; r < 4; r++) {
  let x = 0;
  let t0 = performance.now();
  for (let i = 0; i < idx.length; i++) x += sc.get(keys[idx[i]]).length;
  const a = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < idx.length; i++) x += lru.get(keys[idx[i]]).length;
  const b = performance.now() - t0;
  console.log('swapcache ns/get', (a * 1e6 / idx.length).toFixed(0), 'lru', (b * 1e6 / idx.length).toFixed(0));
}
// sets with eviction, 100 B
const sc2 = new t.SwapCache({ residentBytes: 1 << 20, backend: 'default' });
const small = Buffer.alloc(100, 3);
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let k = 0; k < 100000; k++) sc2.set(`s${r}:${k}`, small);
  console.log('sets/s 100 B with eviction', Math.round(100000 / ((performance.now() - t0) / 1000)));
}
sc.close(); sc2.close();
await t.unloadBackend('zcache');
