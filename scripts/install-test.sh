#!/usr/bin/env bash
# The install matrix: the packed tarball into fresh projects, as users install it, with no
# compiler and no python on PATH (only node, sh and coreutils, plus the client):
#
#   npm 10.9 (registry's npm@10)   install scripts on (its default)   zcache from the prebuild
#   npm 11 (this machine's)         default                            zcache from the prebuild
#   npm 11                          --ignore-scripts                   zcache from the prebuild
#   pnpm 10 (registry's pnpm@10)    default                            zcache from the prebuild
#   npm 10.9, tarball without prebuilds/, scripts on                   zcache-js, one warning line
#
# Each row: the install succeeds, no installed package but tmem has an install step, require()
# and import load one module instance, `tsc --noEmit` type-checks a CommonJS and an ESM consumer
# against the installed types, and a page round-trips through the backend expected. Also checks
# the tarball's contents and prints its packed and unpacked size.
#
#   scripts/install-test.sh [TARBALL]      (without one, `npm pack` makes it, prebuilds included)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/tools.sh
source "$root/scripts/lib/tools.sh"
work=$(mktemp -d /tmp/tmem-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
checks="$root/scripts/install-check"

# ---- the tarball -----------------------------------------------------------------------------
if [ $# -ge 1 ]; then
  tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
  tarball="$work/$tarball"
fi
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
(cd "$work/unpacked/package" && find . -type f | sed 's|^\./||' | sort) > "$work/contents.txt"
for unwanted in '^test/' '^bench/' '^build/' '^native/test/' '^lib/' '^examples/' '^node_modules/' '^scripts/(?!install\.js$)' '\.tgz$' '\.log$'; do
  if grep -P -q "$unwanted" "$work/contents.txt"; then
    echo "tarball contains files it should not ($unwanted):"; grep -P "$unwanted" "$work/contents.txt"; exit 1
  fi
done
for wanted in dist/index.js dist/index.mjs dist/index.d.ts dist/cli/main.js dist/lz4/decompress.js scripts/install.js \
  prebuilds/linux-x64/tmem.glibc.node prebuilds/linux-arm64/tmem.glibc.node binding.gyp native/pool.cc \
  native/napi/addon.cc native/napi/lz4_wrap.cc native/build/lz4.js native/build/sources.js native/sources.txt \
  README.md LICENSE CHANGELOG.md package.json; do
  grep -qx "$wanted" "$work/contents.txt" || { echo "tarball lacks $wanted"; exit 1; }
done
readelf -h "$work/unpacked/package/prebuilds/linux-x64/tmem.glibc.node" | grep -q 'Machine:.*X86-64'
readelf -h "$work/unpacked/package/prebuilds/linux-arm64/tmem.glibc.node" | grep -q 'Machine:.*AArch64'
packed=$(stat -c %s "$tarball")
unpacked=$(du -sb --apparent-size "$work/unpacked/package" | cut -f1)
echo "tarball: $(basename "$tarball"), $(wc -l < "$work/contents.txt") files, $packed bytes packed, $unpacked bytes unpacked"

# The same package without prebuilds/, as a platform without a prebuild would see it.
rm -rf "$work/unpacked/package/prebuilds"
tar -czf "$work/tmem-noprebuilds.tgz" -C "$work/unpacked" package

# ---- the clients -----------------------------------------------------------------------------
bare=$(bare_path "$work/bare")
npm10=$(fetch_tool npm@10.9)
pnpm10=$(fetch_tool pnpm@10)
npm11=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
client_bin() { # client_bin NAME CLI.js → a directory whose NAME runs that CLI with node
  mkdir -p "$work/clients/$1"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$3" > "$work/clients/$1/$2"
  chmod +x "$work/clients/$1/$2"
  echo "$work/clients/$1"
}
npm10_bin=$(client_bin npm10 npm "$npm10/bin/npm-cli.js")
npm11_bin=$(client_bin npm11 npm "$npm11/bin/npm-cli.js")
pnpm_bin=$(client_bin pnpm10 pnpm "$pnpm10/bin/pnpm.cjs")
echo "clients: npm $(PATH="$npm10_bin:$bare" npm --version), npm $(PATH="$npm11_bin:$bare" npm --version), pnpm $(PATH="$pnpm_bin:$bare" pnpm --version)"

# ---- one row ---------------------------------------------------------------------------------
results=()
row() { # row LABEL CLIENT_BIN EXPECT(native|zcache-js) TARBALL INSTALL_COMMAND...
  local label=$1 bin=$2 expect=$3 tgz=$4
  shift 4
  local dir="$work/row${#results[@]}" t0
  t0=$(date +%s)
  mkdir -p "$dir"
  printf '{ "name": "consumer", "version": "1.0.0", "private": true }\n' > "$dir/package.json"
  cp "$checks"/consumer.* "$dir/"
  echo "== $label"
  if ! (cd "$dir" && PATH="$bin:$bare" "$@" "$tgz" > install.log 2>&1); then
    cat "$dir/install.log"; echo "FAIL $label: the install failed"; exit 1
  fi
  if [[ "$label" == *'scripts on'* ]] && ! grep -q 'node scripts/install.js' "$dir/install.log"; then
    cat "$dir/install.log"; echo "FAIL $label: tmem's install step did not run"; exit 1
  fi
  node "$checks/check-deps.mjs" "$dir"
  (cd "$dir" && PATH="$bare" node consumer.cjs "$expect" 2> stderr.txt)
  (cd "$dir" && PATH="$bare" node consumer.mjs 2>> stderr.txt)
  if [ "$expect" = native ]; then
    [ ! -s "$dir/stderr.txt" ] || { cat "$dir/stderr.txt"; echo "FAIL $label: unexpected output on stderr"; exit 1; }
  else
    cat "$dir/stderr.txt"
    [ "$(wc -l < "$dir/stderr.txt")" -eq 1 ] && grep -q 'using zcache-js' "$dir/stderr.txt" ||
      { echo "FAIL $label: expected exactly one warning line naming zcache-js"; exit 1; }
  fi
  printf '{ "compilerOptions": { "module": "node16", "moduleResolution": "node16", "strict": true, "noEmit": true, "types": ["node"], "typeRoots": ["%s"] }, "files": ["consumer.cts", "consumer.mts"] }\n' \
    "$root/node_modules/@types" > "$dir/tsconfig.json"
  (cd "$dir" && PATH="$bare" node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json) || { echo "FAIL $label: tsc"; exit 1; }
  echo "tsc --noEmit: the CommonJS and ESM consumers type-check"
  results+=("$label | $expect | $(elapsed "$t0")")
}

row 'npm 10.9, scripts on' "$npm10_bin" native "$tarball" npm install --no-audit --no-fund --foreground-scripts
row 'npm 11, default' "$npm11_bin" native "$tarball" npm install --no-audit --no-fund
row 'npm 11, --ignore-scripts' "$npm11_bin" native "$tarball" npm install --no-audit --no-fund --ignore-scripts
row 'pnpm 10, default' "$pnpm_bin" native "$tarball" pnpm add --store-dir "$TMEM_TOOL_CACHE/pnpm-store" --cache-dir "$TMEM_TOOL_CACHE/pnpm-cache"
row 'npm 10.9, no prebuilds, scripts on' "$npm10_bin" zcache-js "$work/tmem-noprebuilds.tgz" npm install --no-audit --no-fund --foreground-scripts
# The install step said, in one line, why there is no addon (npm shows it with --foreground-scripts).
last="$work/row$(( ${#results[@]} - 1 ))"
grep -q 'tmem: no prebuilt addon for linux-x64, but cannot (no C++ compiler on PATH); the pure-JS backend zcache-js will be used' "$last/install.log" ||
  { cat "$last/install.log"; echo "FAIL: the install step did not explain the missing addon"; exit 1; }
(cd "$last" && PATH="$bare" node_modules/.bin/tmem demo --data-mib 4 --resident-mib 1 --pool-mib 2 --ops 2000 --json > demo.json 2> demo.err)
grep -q 'using zcache-js' "$last/demo.err"
node -e "const r = require('$last/demo.json'); if (r.mismatches !== 0) process.exit(1)"
echo "tmem demo on zcache-js: 0 mismatches"

echo
echo "install matrix: client | backend | time"
printf '  %s\n' "${results[@]}"
echo "tarball: $packed bytes packed, $unpacked bytes unpacked"
echo "install-matrix: ${#results[@]} passed, 0 failed"
