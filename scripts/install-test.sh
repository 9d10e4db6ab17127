#!/usr/bin/env bash
# Installs the packed tarball the way most users get tmem: install scripts disabled and no C/C++
# compiler reachable, so the addon can only come from prebuilds/. Checks require() and import(),
# that the addon was loaded from the prebuild, and a page round trip through zcache. Then removes
# the prebuild: loadBackend('zcache') must fail with the clear error, while the default backend
# choice (facades, tmem demo) falls back to zcache-js with a one-line warning.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/tmem-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== pack"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" | sed 's|^package/||' | sort > "$work/contents.txt"
for unwanted in '^test/' '^bench/' '^build/' '^native/test/' '^lib/' '\.tgz$' '^examples/' '^node_modules/'; do
  if grep -qE "$unwanted" "$work/contents.txt"; then
    echo "tarball contains files it should not ($unwanted):"; grep -E "$unwanted" "$work/contents.txt"; exit 1
  fi
done
for wanted in dist/index.js dist/index.mjs dist/index.d.ts dist/cli/main.js prebuilds/linux-x64/tmem.glibc.node \
  binding.gyp native/pool.cc native/napi/addon.cc native/build/lz4.js native/sources.txt README.md LICENSE CHANGELOG.md package.json; do
  grep -qx "$wanted" "$work/contents.txt" || { echo "tarball lacks $wanted"; exit 1; }
done
echo "$(wc -l < "$work/contents.txt") files in $tarball"

echo "== install with scripts disabled and no compiler on PATH"
mkdir -p "$work/bin" "$work/app"
ln -s "$(command -v node)" "$work/bin/node"
ln -s "$(command -v npm)" "$work/bin/npm"
cd "$work/app"
PATH="$work/bin" "$BASH" -c '
  for cc in cc gcc g++ c++ clang make; do
    if command -v $cc >/dev/null 2>&1; then echo "compiler $cc still on PATH"; exit 1; fi
  done
  npm init -y >/dev/null
  npm install --ignore-scripts --no-audit --no-fund "'"$work/$tarball"'" >/dev/null
'

cat > roundtrip.cjs <<'JS'
const assert = require('node:assert');
const { mkdtempSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const tmem = require('tmem');
(async () => {
  const dir = mkdtempSync(join(require('node:os').tmpdir(), 'tmem-install-'));
  const area = tmem.swapon(join(dir, 'swap'), { pages: 16 });
  await tmem.loadBackend('zcache', { maxPoolBytes: 1 << 20 });
  const page = Buffer.alloc(4096, 'install test ');
  const off = area.writePage(page);
  assert.equal(tmem.debugfs.read('zcache/stored_pages'), 1);
  assert.deepEqual(area.readPage(off, Buffer.alloc(4096)), page);
  await tmem.unloadBackend('zcache');
  area.swapoff();
  rmSync(dir, { recursive: true });
  const v = tmem.versions();
  const loadedFrom = Object.keys(require.cache).find((f) => f.endsWith('.node'));
  console.log(JSON.stringify({ ...v, loadedFrom }));
  assert.match(loadedFrom, /prebuilds\/linux-x64\/tmem\.glibc\.node$/);
})().catch((e) => { console.error(e); process.exit(1); });
JS
PATH="$work/bin" node roundtrip.cjs
PATH="$work/bin" node --input-type=module -e "
  import { swapon, versions, SwapCache } from 'tmem';
  import tmem from 'tmem';
  if (typeof swapon !== 'function' || tmem.swapon !== swapon) throw new Error('ESM and CJS entry points disagree');
  console.log('import ok, lz4', versions().lz4);
"

echo "== without the prebuild"
rm -rf node_modules/tmem/prebuilds
cat > fallback.cjs <<'JS'
const assert = require('node:assert');
const tmem = require('tmem');
(async () => {
  await assert.rejects(tmem.loadBackend('zcache'), (e) => e.code === 'ERR_TMEM_NATIVE_UNAVAILABLE' && /zcache-js/.test(e.message));
  const cache = new tmem.SwapCache({ residentBytes: 4096, pages: 64 });
  assert.equal(tmem.loadedBackend(), 'zcache-js');
  for (let i = 0; i < 20; i++) cache.set('k' + i, Buffer.alloc(3000, i));
  for (let i = 0; i < 20; i++) assert.deepEqual(cache.get('k' + i), Buffer.alloc(3000, i));
  cache.close();
  console.log('fallback ok');
})().catch((e) => { console.error(e); process.exit(1); });
JS
PATH="$work/bin" node fallback.cjs 2> stderr.txt
cat stderr.txt
test "$(wc -l < stderr.txt)" -eq 1 || { echo "expected exactly one warning line"; exit 1; }
grep -q 'using zcache-js' stderr.txt
PATH="$work/bin" node_modules/.bin/tmem demo --data-mib 4 --resident-mib 1 --pool-mib 2 --ops 2000 --json > demo.json 2> demo.err
grep -q 'using zcache-js' demo.err
node -e "const r=require('./demo.json'); if (r.mismatches !== 0) process.exit(1); console.log('demo on zcache-js ok')"
echo "install test passed"
