#!/usr/bin/env bash
# Builds the prebuilt addons the package tarball carries (`npm pack` runs this as part of prepack):
#
#   prebuilds/linux-x64/tmem.glibc.node     the host's g++, the host's liblz4.a
#   prebuilds/linux-arm64/tmem.glibc.node   Debian's cross compiler (g++-aarch64-linux-gnu) and
#                                           liblz4-dev:arm64's liblz4.a (dpkg --add-architecture arm64)
#
# N-API 8, so one build per platform serves every Node >= 20. Each build runs in a staging
# directory of its own (symlinks to the sources), so the development build in build/ is left alone,
# and is stripped. An x86-64 Debian/Ubuntu host is assumed; a missing toolchain fails the script:
# a release tarball must not lack an architecture without anyone noticing. TMEM_PREBUILD_ARCHES
# ("x64 arm64" by default) builds fewer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arches=${TMEM_PREBUILD_ARCHES:-x64 arm64}
node_gyp="$root/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || { echo "prebuild: node-gyp is not installed (npm install first)" >&2; exit 1; }

# Node's headers from the Node that runs this (/usr/include/node for Debian's /usr/bin/node),
# rather than a download: they are the same for every target architecture.
nodedir=${npm_config_nodedir:-$(node -p "require('path').resolve(process.execPath, '..', '..')")}
[ -f "$nodedir/include/node/node_api.h" ] || { echo "prebuild: no Node headers in $nodedir/include/node" >&2; exit 1; }

for arch in $arches; do
  case "$arch" in
    x64)
      cross=()
      strip=strip
      machine='X86-64'
      ;;
    arm64)
      triple=aarch64-linux-gnu
      lz4pc=/usr/lib/$triple/pkgconfig
      command -v $triple-g++ >/dev/null || { echo "prebuild: $triple-g++ is missing (apt-get install g++-$triple)" >&2; exit 1; }
      [ -f "$lz4pc/liblz4.pc" ] || { echo "prebuild: $lz4pc/liblz4.pc is missing (apt-get install liblz4-dev:arm64)" >&2; exit 1; }
      cross=(CC=$triple-gcc CXX=$triple-g++ LINK=$triple-g++ AR=$triple-ar PKG_CONFIG_LIBDIR=$lz4pc:/usr/share/pkgconfig)
      strip=$triple-strip
      machine='AArch64'
      ;;
    *)
      echo "prebuild: unknown architecture $arch (x64 or arm64)" >&2
      exit 1
      ;;
  esac
  stage=$(mktemp -d /tmp/tmem-prebuild-XXXXXX)
  ln -s "$root/binding.gyp" "$root/native" "$root/node_modules" "$root/package.json" "$stage/"
  echo "prebuild: linux-$arch"
  (cd "$stage" && env "${cross[@]}" node "$node_gyp" rebuild --arch="$arch" --nodedir="$nodedir" --jobs max >"$stage/build.log" 2>&1) || {
    tail -n 40 "$stage/build.log" >&2
    echo "prebuild: the linux-$arch build failed (log above)" >&2
    exit 1
  }
  out="$root/prebuilds/linux-$arch/tmem.glibc.node"
  mkdir -p "$(dirname "$out")"
  "$strip" --strip-all -o "$out" "$stage/build/Release/tmem.node"
  readelf -h "$out" | grep -q "Machine:.*$machine" || { echo "prebuild: $out is not an $machine object" >&2; exit 1; }
  echo "prebuild: $out ($(stat -c %s "$out") bytes, needs $(readelf -V "$out" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1))"
  rm -rf "$stage"
done
