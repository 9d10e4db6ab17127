# Helpers for the install checks (sourced by scripts/install-test.sh and scripts/node-versions.sh).
#
# Tools come from the npm registry, fetched once per CI run: `npm pack SPEC` into
# $TMEM_TOOL_CACHE (.ci/run makes one directory for the whole run; without it each script uses a
# private one) and unpacked there, so later stages reuse them.

: "${TMEM_TOOL_CACHE:=$(mktemp -d /tmp/tmem-tools-XXXXXX)}"
export TMEM_TOOL_CACHE

# fetch_tool SPEC → prints the directory of the unpacked package (its package/ folder).
fetch_tool() {
  local spec=$1
  local dir="$TMEM_TOOL_CACHE/${spec//[\/@]/_}"
  if [ ! -f "$dir/package/package.json" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    local tgz
    tgz=$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)
    tar -xzf "$dir/$tgz" -C "$dir"
    rm -f "$dir/$tgz"
  fi
  echo "$dir/package"
}

# bare_path DIR → fills DIR with what a client may use and nothing else: node, sh and coreutils
# (so no compiler, make or python). Prints DIR, to be used as PATH.
bare_path() {
  local bin=$1 tool
  mkdir -p "$bin"
  ln -sf "$(command -v node)" "$bin/node"
  ln -sf "$(command -v sh)" "$bin/sh"
  for tool in $(dpkg -L coreutils | grep -E '^/(usr/)?bin/[^/]+$'); do
    ln -sf "$tool" "$bin/$(basename "$tool")"
  done
  for tool in cc gcc g++ c++ clang clang++ make python python3; do
    if PATH="$bin" command -v "$tool" >/dev/null 2>&1; then
      echo "bare_path: $tool is on the bare PATH" >&2
      return 1
    fi
  done
  echo "$bin"
}

# elapsed SECONDS_SINCE_EPOCH → "12.3 s"
elapsed() {
  echo "$(( $(date +%s) - $1 )) s"
}
