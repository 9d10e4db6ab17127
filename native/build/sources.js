#!/usr/bin/env node
// Prints the core native sources listed in native/sources.txt (one path per line, relative to
// the package root), for binding.gyp. CMakeLists.txt reads the same file directly, so the list
// of core files lives in exactly one place.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const lines = fs
  .readFileSync(path.join(root, 'native', 'sources.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

for (const file of lines) {
  if (!fs.existsSync(path.join(root, file))) {
    process.stderr.write(`tmem: ${file}, listed in native/sources.txt, does not exist\n`);
    process.exit(1);
  }
  console.log(file);
}
