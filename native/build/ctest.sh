#!/bin/sh
# Builds and runs the native unit tests twice: as the addon's release build (through cmake-js,
# in build-cmake/, which also builds the addon) and under AddressSanitizer +
# UndefinedBehaviorSanitizer (plain CMake, build-asan/, no addon), then the threaded tests under
# ThreadSanitizer (build-tsan/; skipped with TMEM_NO_TSAN=1): writeback and ephemeral-pool races
# once per allocator, the pool test once (its threads race on the pool's lock, which is the same
# whatever the allocator). Run from anywhere; the CI script calls it. Extra arguments are passed to
# every ctest run.
set -eu
cd "$(dirname "$0")/../.."
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

echo "== cmake-js build (build-cmake) + ctest"
npx cmake-js build --out build-cmake --parallel "$jobs"
ctest --test-dir build-cmake --output-on-failure "$@"

echo "== ASan + UBSan build (build-asan) + ctest"
cmake -S . -B build-asan -DTMEM_SANITIZE=ON -DTMEM_ADDON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-asan --parallel "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure "$@"

if [ "${TMEM_NO_TSAN:-0}" != 1 ]; then
  echo "== ThreadSanitizer build (build-tsan) + ctest (writeback and eph for every allocator, pool)"
  cmake -S . -B build-tsan -DTMEM_TSAN=ON -DTMEM_ADDON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build-tsan --parallel "$jobs" --target test_pool test_writeback test_eph
  TMEM_RACE_OPS=100000 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -R '^(pool/zsmalloc|writeback/|eph/)' "$@"
fi
