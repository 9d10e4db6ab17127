// Run in a fresh project after installing tmem: require() loads, a page round-trips through the
// backend expected here. `node consumer.cjs native` wants the native zcache from the prebuild;
// `node consumer.cjs zcache-js` wants loadBackend('zcache') to fail with the clear error and the
// default backend to be zcache-js (its one-line warning goes to stderr, counted by the caller).
const assert = require('node:assert/strict');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const tmem = require('tmem');

(async () => {
  const expect = process.argv[2];
  const dir = mkdtempSync(join(tmpdir(), 'tmem-consumer-'));
  const area = tmem.swapon(join(dir, 'swap'), { pages: 64 });
  if (expect === 'native') {
    await tmem.loadBackend('zcache', { maxPoolBytes: 1 << 20 });
  } else {
    await assert.rejects(tmem.loadBackend('zcache'), (e) => e.code === 'ERR_TMEM_NATIVE_UNAVAILABLE' && /zcache-js/.test(e.message));
    assert.equal(await tmem.loadDefaultBackend(), 'zcache-js');
  }
  const page = Buffer.alloc(4096, `a page through ${tmem.loadedBackend()} `);
  const off = area.writePage(page);
  assert.equal(tmem.debugfs.read('zcache/stored_pages'), 1);
  assert.deepEqual(area.readPage(off, Buffer.alloc(4096)), page);
  await tmem.unloadBackend(tmem.loadedBackend());
  assert.deepEqual(area.readPage(off, Buffer.alloc(4096)), page);
  area.swapoff();
  rmSync(dir, { recursive: true });
  const addon = Object.keys(require.cache).find((f) => f.endsWith('.node')) ?? null;
  if (expect === 'native') assert.match(addon, /\/node_modules\/tmem\/prebuilds\/linux-x64\/tmem\.glibc\.node$/);
  else assert.equal(addon, null);
  console.log(JSON.stringify({ require: 'ok', backend: expect === 'native' ? 'zcache' : 'zcache-js', addon: addon && addon.replace(/.*node_modules\/tmem\//, '') }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
