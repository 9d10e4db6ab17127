#!/bin/sh
# Builds the libFuzzer targets (CMake TMEM_FUZZ=ON with clang-14: ASan + UBSan, assertions on,
# the system liblz4 linked uninstrumented) into build-fuzz/ and runs each native/fuzz/*_fuzz.cc target for a fixed time,
# starting from its seed corpus in native/fuzz/corpus/<target>/ (read only; new inputs go to
# build-fuzz/corpus/). Stops at the first finding: the crashing input is kept in
# build-fuzz/artifacts/ and the script exits non-zero. Prints the executions of each target.
#
#   native/fuzz/run.sh                      30 s per target
#   TMEM_FUZZ_SECONDS=300 native/fuzz/run.sh
#   native/fuzz/run.sh allocator            one target
set -eu
cd "$(dirname "$0")/../.."
seconds=${TMEM_FUZZ_SECONDS:-30}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DTMEM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --parallel "$jobs" >/dev/null
mkdir -p build-fuzz/artifacts

for bin in build-fuzz/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  if [ $# -gt 0 ] && [ "$1" != "$name" ]; then continue; fi
  work=build-fuzz/corpus/$name
  log=build-fuzz/$name.log
  mkdir -p "$work"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$name-" "$work" "native/fuzz/corpus/$name" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $name found a crash, a leak, a failed CHECK or undefined behaviour (input in build-fuzz/artifacts/)" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  printf 'fuzz: %-12s %10s executions in %s s (%s, corpus %s inputs)\n' "$name" "$execs" "$seconds" "$cov" "$(ls "$work" | wc -l)"
done
