// Checks an installed tmem the way CI checks each prebuild on each Node (scripts/node-versions.sh,
// under qemu for linux-arm64): copied into a project that depends on tmem and run there, with
// the public API only. It checks that the native addon came from the expected prebuild, the
// frontswap contract (DESIGN §4, the points of test/frontswap-conformance.test.ts) against the
// native zcache, and a 50,000-page round trip through zcache: every page read back from the pool,
// then, after unloadBackend drained the pool, from the swap file.
//
//   node addon-check.mjs [--prebuild linux-x64|linux-arm64] [--pages 50000]
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(join(process.cwd(), 'index.js'));
const tmem = require('tmem');
const { debugfs, frontswap, loadBackend, swapon, unloadBackend } = tmem;
const { values } = parseArgs({ options: { prebuild: { type: 'string' }, pages: { type: 'string', default: '50000' } } });
const PAGE = 4096;
const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'tmem-addon-check-'));
let areaCount = 0;
const area = (pages = 1024) => swapon(join(dir, `swap${areaCount++}`), { pages });
const counter = (path) => debugfs.read(path);
const same = (a, b) => Buffer.compare(a, b) === 0;

// ---- pages: deterministic from (kind, seed), so they are made again to be compared -----------
function textPage(seed, into = new Uint8Array(PAGE)) {
  const line = Buffer.from(`{"id":${seed},"user":"member-${(seed * 7919) % 99991}","ok":${seed % 3 === 0}}\n`);
  for (let at = 0; at < PAGE; at += line.length) into.set(line.subarray(0, Math.min(line.length, PAGE - at)), at);
  return into;
}
function randomPage(seed, into = new Uint8Array(PAGE)) {
  const words = new Uint32Array(into.buffer, into.byteOffset, PAGE / 4);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s >>> 0;
  }
  return into;
}
function filledPage(word, into = new Uint8Array(PAGE)) {
  new Uint32Array(into.buffer, into.byteOffset, PAGE / 4).fill(word);
  return into;
}
/** Page i of the round trip: mostly compressible text, some same-filled, some random (refused by the pool, so on file). */
function mixedPage(i, into) {
  const kind = i % 10;
  if (kind === 9) return randomPage(i, into);
  if (kind === 8) return filledPage(i % 20 === 8 ? 0 : i, into);
  return textPage(i, into);
}

const checks = [];
async function check(name, fn) {
  await fn();
  const loaded = tmem.loadedBackend();
  if (loaded) await unloadBackend(loaded);
  frontswap.writethrough = false;
  checks.push(name);
}

// ---- where the addon came from ---------------------------------------------------------------
const v = tmem.versions();
assert.ok(v.lz4, `the native addon did not load: ${v.nativeError}`);
await loadBackend('zcache');
await unloadBackend('zcache');
const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'));
if (values.prebuild) {
  assert.ok(addon.endsWith(`/node_modules/tmem/prebuilds/${values.prebuild}/tmem.glibc.node`), `addon loaded from ${addon}`);
}

// ---- the frontswap contract, DESIGN §4 ---------------------------------------------------------
await check('§4.1 no backend: hooks are no-ops, the file serves', () => {
  const a = area();
  assert.equal(frontswap.store(a.type, 5, textPage(1)), false);
  assert.equal(frontswap.load(a.type, 5, new Uint8Array(PAGE)), false);
  const off = a.writePage(textPage(1));
  assert.ok(same(a.readPage(off, new Uint8Array(PAGE)), textPage(1)));
  assert.equal(frontswap.currPages(), 0);
  a.swapoff();
});
await check('§4.2 only offsets held in frontswap reach the backend', async () => {
  const a = area();
  await loadBackend('zcache');
  const before = counter('zcache/loads');
  assert.equal(frontswap.load(a.type, 7, new Uint8Array(PAGE)), false);
  assert.equal(counter('zcache/loads'), before);
  assert.equal(frontswap.store(a.type, 7, textPage(2)), true);
  const into = new Uint8Array(PAGE);
  assert.equal(frontswap.load(a.type, 7, into), true);
  assert.ok(same(into, textPage(2)));
  assert.equal(counter('zcache/loads'), before + 1);
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.3 a refused store of a held offset drops the old copy', async () => {
  const a = area();
  await loadBackend('zcache');
  assert.equal(frontswap.store(a.type, 9, textPage(3)), true);
  assert.equal(frontswap.store(a.type, 9, randomPage(3)), false);
  assert.equal(frontswap.load(a.type, 9, new Uint8Array(PAGE)), false);
  assert.equal(counter('zcache/stored_pages'), 0);
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.4 exclusive gets: takePage frees the copy, readPage keeps it', async () => {
  const a = area();
  await loadBackend('zcache', { exclusiveGets: true });
  const off = a.writePage(textPage(5));
  const into = new Uint8Array(PAGE);
  a.readPage(off, into);
  a.readPage(off, into);
  assert.ok(same(into, textPage(5)));
  assert.equal(counter('zcache/stored_pages'), 1);
  const invalidates = counter('frontswap/invalidates');
  a.takePage(off, into);
  assert.ok(same(into, textPage(5)));
  assert.equal(counter('zcache/stored_pages'), 0);
  assert.equal(counter('frontswap/invalidates'), invalidates);
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.5 writethrough: stored and written to the file', async () => {
  const a = area();
  await loadBackend('zcache');
  frontswap.writethrough = true;
  const writes = counter(`swap/${a.type}/file_writes`);
  const off = a.writePage(textPage(7));
  assert.equal(counter(`swap/${a.type}/file_writes`), writes + 1);
  assert.equal(counter('zcache/stored_pages'), 1);
  assert.ok(same(a.readPage(off, new Uint8Array(PAGE)), textPage(7)));
  frontswap.writethrough = false;
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.6 lazy init: areas swapped on before the backend loads use it', async () => {
  const a = area();
  const offA = a.writePage(textPage(8));
  await loadBackend('zcache');
  const offA2 = a.writePage(textPage(10));
  assert.equal(counter('zcache/stored_pages'), 1);
  assert.ok(same(a.readPage(offA, new Uint8Array(PAGE)), textPage(8)));
  assert.ok(same(a.readPage(offA2, new Uint8Array(PAGE)), textPage(10)));
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.7 shrink hands pages back through the swap layer', async () => {
  const a = area();
  await loadBackend('zcache');
  const offs = [...Array(200)].map((_, i) => a.writePage(textPage(100 + i)));
  assert.equal(frontswap.currPages(), 200);
  frontswap.shrink(50);
  assert.equal(frontswap.currPages(), 50);
  offs.forEach((off, i) => assert.ok(same(a.readPage(off, new Uint8Array(PAGE)), textPage(100 + i))));
  await unloadBackend('zcache');
  a.swapoff();
});
await check('§4.8 counters: loads, succ_stores, failed_stores, invalidates', async () => {
  const a = area();
  await loadBackend('zcache');
  const c0 = debugfs.snapshot();
  frontswap.store(a.type, 1, textPage(11));
  frontswap.store(a.type, 2, filledPage(0));
  frontswap.store(a.type, 3, randomPage(11));
  frontswap.load(a.type, 1, new Uint8Array(PAGE));
  frontswap.load(a.type, 3, new Uint8Array(PAGE));
  frontswap.invalidatePage(a.type, 2);
  const c1 = debugfs.snapshot();
  const delta = (k) => c1[k] - c0[k];
  assert.deepEqual(
    ['succ_stores', 'failed_stores', 'loads', 'invalidates'].map((k) => delta(`frontswap/${k}`)),
    [2, 1, 1, 1],
  );
  await unloadBackend('zcache');
  a.swapoff();
});

// ---- the round trip --------------------------------------------------------------------------
const N = Number(values.pages);
const BATCH = 256;
await check(`${N}-page round trip through zcache, then through the swap file`, async () => {
  const a = swapon(join(dir, 'roundtrip'), { pages: N + 1 });
  await loadBackend('zcache', { maxPoolBytes: 512 << 20, writeback: false });
  const offsets = new Uint32Array(N);
  const batch = new Uint8Array(BATCH * PAGE);
  for (let i = 0; i < N; i += BATCH) {
    const n = Math.min(BATCH, N - i);
    for (let k = 0; k < n; k++) mixedPage(i + k, batch.subarray(k * PAGE, (k + 1) * PAGE));
    offsets.set(a.writePages(batch.subarray(0, n * PAGE)), i);
  }
  assert.equal(counter('zcache/stored_pages'), N - Math.floor(N / 10), 'every page but the random ones is in the pool');
  const expected = new Uint8Array(PAGE);
  const verify = (from) => {
    for (let i = 0; i < N; i += BATCH) {
      const n = Math.min(BATCH, N - i);
      a.readPages(offsets.subarray(i, i + n), batch.subarray(0, n * PAGE));
      for (let k = 0; k < n; k++) {
        if (!same(batch.subarray(k * PAGE, (k + 1) * PAGE), mixedPage(i + k, expected))) assert.fail(`page ${i + k} came back wrong from ${from}`);
      }
    }
  };
  verify('the pool');
  await unloadBackend('zcache');
  assert.equal(frontswap.currPages(), 0);
  verify('the swap file');
  a.swapoff();
});

rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ node: process.version, arch: process.arch, lz4: v.lz4, addon, checks: checks.length, seconds: (Date.now() - started) / 1000 }));
for (const name of checks) console.log(`  ok  ${name}`);
