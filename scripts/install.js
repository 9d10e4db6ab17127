#!/usr/bin/env node
// tmem's install step (package.json "install"). It never fails the user's install:
//
//   1. an addon that loads here (the prebuild for this platform, or an earlier build) → done;
//   2. else, with a C++ compiler, make, python3, node-gyp and the system liblz4 (pkg-config,
//      static library) → build the addon from the shipped sources, output in tmem-build.log
//      (removed when the build succeeds);
//   3. else, or when that build fails → one line on stderr, exit 0: `loadBackend('zcache')` then
//      reports ERR_TMEM_NATIVE_UNAVAILABLE, and the default backend (facades, `tmem demo`,
//      loadDefaultBackend) is `zcache-js`, with a one-line warning when it is chosen.
//
// npm ≥ 7 shows an install script's output only when it fails, so the line is for logs and
// `--foreground-scripts`; the runtime warning is what a user sees. TMEM_BUILD_FROM_SOURCE=1 (or
// npm's --build-from-source) builds even when a prebuild loads.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const logFile = path.join(root, 'tmem-build.log');

function say(message) {
  const outcome = addonLoads() ? 'the prebuilt addon stays in use' : 'the pure-JS backend zcache-js will be used';
  process.stderr.write(`tmem: ${message}; ${outcome}\n`);
}

function addonLoads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` that is an executable file on PATH, or null. */
function onPath(...names) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    if (path.isAbsolute(name)) {
      if (isExecutable(name)) return name;
      continue;
    }
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** argv prefix that runs node-gyp: npm's and pnpm's own (npm_config_node_gyp), a local one, or PATH's. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  } catch {
    // not installed next to tmem: fine, npm and pnpm bring their own
  }
  for (const file of candidates) {
    if (file && fs.existsSync(file)) return [process.execPath, file];
  }
  const bin = onPath('node-gyp');
  return bin ? [bin] : null;
}

/** Why a source build cannot be tried here, or null when it can. */
function missingForBuild() {
  const cxx = process.env.CXX ? process.env.CXX.split(' ')[0] : null;
  if (!onPath(...(cxx ? [cxx] : ['c++', 'g++', 'clang++']))) return 'no C++ compiler on PATH';
  if (!onPath('make')) return 'no make on PATH';
  if (!onPath('python3', 'python')) return 'no python3 on PATH (node-gyp needs it)';
  if (!nodeGyp()) return 'node-gyp not found';
  const lz4 = spawnSync(process.execPath, [path.join(root, 'native', 'build', 'lz4.js'), 'check'], { encoding: 'utf8' });
  if (lz4.status !== 0) return (lz4.stdout || 'liblz4 not found').trim();
  return null;
}

function build() {
  const log = fs.openSync(logFile, 'w');
  const [cmd, ...args] = nodeGyp();
  const result = spawnSync(cmd, [...args, 'rebuild', '--jobs', 'max'], { cwd: root, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  if (result.status === 0 && addonLoads()) {
    fs.rmSync(logFile, { force: true });
    return true;
  }
  // Nothing half-built may be found later: node-gyp-build prefers build/ over prebuilds/.
  fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });
  return false;
}

function main() {
  const forced = process.env.TMEM_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
  if (!forced && addonLoads()) return;
  const missing = missingForBuild();
  if (missing) {
    say(`${forced ? 'asked to build from source' : `no prebuilt addon for ${process.platform}-${process.arch}`}, but cannot (${missing})`);
    return;
  }
  if (!build()) say(`building the native addon failed (see ${logFile})`);
}

try {
  main();
} catch (err) {
  say(`install step failed: ${err && err.message ? err.message.split('\n')[0] : err}`);
}
