#!/usr/bin/env node
// Prints the native sources of one list (one path per line, relative to the package root), for
// binding.gyp: `core` (default) is native/sources.txt, `napi` native/napi/sources.txt (the N-API
// glue). CMakeLists.txt reads the same files directly, so each list lives in exactly one place.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const lists = { core: 'native/sources.txt', napi: 'native/napi/sources.txt' };
const list = lists[process.argv[2] || 'core'];
if (list === undefined) {
  process.stderr.write(`tmem: unknown source list ${process.argv[2]} (core or napi)\n`);
  process.exit(1);
}
const lines = fs
  .readFileSync(path.join(root, list), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

for (const file of lines) {
  if (!fs.existsSync(path.join(root, file))) {
    process.stderr.write(`tmem: ${file}, listed in ${list}, does not exist\n`);
    process.exit(1);
  }
  console.log(file);
}
