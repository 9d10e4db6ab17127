#!/bin/sh
# The JS suites against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon: builds
# it with cmake-js into build-asan-addon/ (same sources as binding.gyp), then runs the conformance,
# differential, writeback and I/O-fault tests with the ASan runtime preloaded into node and
# TMEM_NATIVE_ADDON pointing the loader at the sanitized build (the normal build/Release addon is
# left alone). Leak detection is off: node itself does not free everything at exit. Any ASan or
# UBSan report aborts the process that hit it and fails the run. Extra arguments go to vitest.
set -eu
cd "$(dirname "$0")/../.."
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

npx cmake-js build --out build-asan-addon --parallel "$jobs" --CDTMEM_SANITIZE=ON --CDCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
addon=$(pwd)/build-asan-addon/Release/tmem.node
runtime=$(${CXX:-g++} -print-file-name=libasan.so)
[ -f "$runtime" ] || { echo "sanitize-js: no ASan runtime ($runtime)" >&2; exit 1; }

export LD_PRELOAD="$runtime"
export TMEM_NATIVE_ADDON="$addon"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The loader must really have picked the sanitized build.
node -e "
  const { loadNative } = require('./dist/native/binding.js');
  new (loadNative().Pool)().close();
  if (!require('fs').readFileSync('/proc/self/maps', 'utf8').includes(process.env.TMEM_NATIVE_ADDON)) {
    console.error('sanitize-js: the sanitized addon is not the one loaded');
    process.exit(1);
  }"

# The zcache-js cases run no native code: left out (-t), they would only double the time. The
# sanitized addon runs a few times slower, so tests get 10 minutes instead of the suite's 2.
npx vitest run --testTimeout 600000 --hookTimeout 600000 -t '^(?!.*zcache-js)' \
  test/frontswap-conformance.test.ts test/cleancache-conformance.test.ts test/differential.test.ts \
  test/writeback.test.ts test/zcache-native-writeback.test.ts test/writeback-faults.test.ts \
  test/zcache-native-ephemeral.test.ts test/native-binding.test.ts test/io-faults.test.ts "$@"
