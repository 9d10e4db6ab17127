#!/usr/bin/env node
// Locates the system liblz4 that the addon links statically, for binding.gyp and CMakeLists.txt
// alike: pkg-config's liblz4 (>= 1.9.4) and the liblz4.a in its libdir. There is no fallback to
// sources of our own: tmem ships no third-party code, and the install step (scripts/install.js)
// asks `check` first, so a machine without liblz4 gets zcache-js instead of a failed build.
//
// PKG_CONFIG picks another pkg-config binary and PKG_CONFIG_LIBDIR another target's .pc files:
// the arm64 prebuild is linked against Debian's liblz4-dev:arm64 with
// PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig (scripts/prebuild.sh).
//
// Usage: node native/build/lz4.js <include|libraries|check>
//   include    -I directories pkg-config reports, without the -I (usually none: /usr/include)
//   libraries  the absolute path of liblz4.a
//   check      prints the liblz4 version and exits 0, or prints why not and exits 1
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const MIN_VERSION = '1.9.4';

function pkgConfig(args) {
  return execFileSync(process.env.PKG_CONFIG || 'pkg-config', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** { version, lib, includes } of the usable system liblz4, or { reason } why there is none. */
function findLz4() {
  let version;
  try {
    version = pkgConfig(['--modversion', 'liblz4']);
  } catch {
    return { reason: 'pkg-config cannot find liblz4 (install pkg-config and liblz4-dev, on Alpine pkgconf, lz4-dev and lz4-static)' };
  }
  try {
    pkgConfig([`--atleast-version=${MIN_VERSION}`, 'liblz4']);
  } catch {
    return { reason: `the system liblz4 is ${version}, older than ${MIN_VERSION}` };
  }
  const lib = path.join(pkgConfig(['--variable=libdir', 'liblz4']), 'liblz4.a');
  if (!fs.existsSync(lib)) return { reason: `${lib} does not exist (the static library is needed)` };
  const includes = pkgConfig(['--cflags-only-I', 'liblz4'])
    .split(/\s+/)
    .filter((flag) => flag.startsWith('-I'))
    .map((flag) => flag.slice(2));
  return { version, lib, includes };
}

const found = findLz4();
const command = process.argv[2];
if (command === 'check') {
  console.log(found.reason ? `liblz4 unusable: ${found.reason}` : `liblz4 ${found.version} (${found.lib})`);
  process.exit(found.reason ? 1 : 0);
}
if (found.reason) {
  process.stderr.write(`tmem: cannot build the addon: ${found.reason}\n`);
  process.exit(1);
}
switch (command) {
  case 'include':
    for (const dir of found.includes) console.log(dir);
    break;
  case 'libraries':
    console.log(found.lib);
    break;
  default:
    process.stderr.write('usage: node native/build/lz4.js <include|libraries|check>\n');
    process.exit(1);
}
