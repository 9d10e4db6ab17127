#!/usr/bin/env node
// Decides which liblz4 the addon links statically, for binding.gyp and CMakeLists.txt alike:
//
//   system   the system's liblz4.a (>= 1.9.4, located with pkg-config)
//   bundled  lz4.c compiled from the `lz4` npm package's sources (node_modules/lz4/deps/lz4/lib)
//
// TMEM_LZ4=system|bundled forces a variant; unset (or "auto") prefers system and falls back to
// bundled. A forced variant that is not available fails the build with the reason.
//
// Usage: node native/build/lz4.js <variant|include|sources|libraries> [--absolute]
// Source paths are printed relative to the package root, where gyp runs commands: an absolute
// source path would break gyp's object file paths. When tmem is installed as a dependency the
// relative path may climb out of the package (a hoisted lz4); that is fine for gyp. Include
// directories are relative when inside the package, else absolute. --absolute (for CMake) prints
// every path absolute. Empty output means "nothing".
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const MIN_SYSTEM_VERSION = '1.9.4';
const root = path.resolve(__dirname, '..', '..');

function fail(message) {
  process.stderr.write(`tmem: ${message}\n`);
  process.exit(1);
}

function pkgConfig(args) {
  return execFileSync(process.env.PKG_CONFIG || 'pkg-config', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

function findSystem() {
  let version;
  try {
    version = pkgConfig(['--modversion', 'liblz4']);
  } catch {
    return { reason: 'pkg-config cannot find liblz4 (install liblz4-dev and pkg-config)' };
  }
  try {
    pkgConfig([`--atleast-version=${MIN_SYSTEM_VERSION}`, 'liblz4']);
  } catch {
    return { reason: `the system liblz4 is ${version}, older than ${MIN_SYSTEM_VERSION}` };
  }
  const libdir = pkgConfig(['--variable=libdir', 'liblz4']);
  const lib = path.join(libdir, 'liblz4.a');
  if (!fs.existsSync(lib)) return { reason: `${lib} does not exist (the static library is needed)` };
  return { variant: 'system', lib, include: pkgConfig(['--variable=includedir', 'liblz4']) };
}

function findBundled() {
  let pkg;
  try {
    // Resolved like a require from the package root, so a hoisted `lz4` is found too.
    pkg = require.resolve('lz4/package.json', { paths: [root] });
  } catch {
    return { reason: 'the lz4 npm package is not installed' };
  }
  const dir = path.join(path.dirname(pkg), 'deps', 'lz4', 'lib');
  const source = path.join(dir, 'lz4.c');
  if (!fs.existsSync(source)) return { reason: `${source} does not exist` };
  return { variant: 'bundled', source, include: dir };
}

function decide() {
  const forced = (process.env.TMEM_LZ4 || 'auto').trim().toLowerCase();
  if (!['auto', 'system', 'bundled'].includes(forced)) {
    fail(`TMEM_LZ4 must be "system" or "bundled", got "${process.env.TMEM_LZ4}"`);
  }
  if (forced !== 'bundled') {
    const system = findSystem();
    if (system.variant) return system;
    if (forced === 'system') fail(`TMEM_LZ4=system, but ${system.reason}`);
  }
  const bundled = findBundled();
  if (bundled.variant) return bundled;
  fail(`no liblz4 to build with: ${bundled.reason}, and the system liblz4 was not usable`);
}

const absolute = process.argv.includes('--absolute');
const slashes = (p) => p.split(path.sep).join('/');
const relative = (p) => (absolute ? p : slashes(path.relative(root, p)));
function includeDir(p) {
  const rel = path.relative(root, p);
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  return slashes(absolute || !inside ? p : rel);
}
const choice = decide();

switch (process.argv[2]) {
  case 'variant':
    console.log(choice.variant);
    break;
  case 'include':
    // The bundled headers must come first on the include path, ahead of any system lz4.h.
    console.log(includeDir(choice.include));
    break;
  case 'sources':
    if (choice.source) console.log(relative(choice.source));
    break;
  case 'libraries':
    if (choice.lib) console.log(choice.lib);
    break;
  default:
    fail('usage: node native/build/lz4.js <variant|include|sources|libraries> [--absolute]');
}
