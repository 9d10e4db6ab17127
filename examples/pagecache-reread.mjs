#!/usr/bin/env node
// Reads a file twice through a PageCache whose resident budget is far smaller than the file, with
// zcache loaded: the second pass comes mostly from cleancache. Then the file is rewritten on disk
// and the next read must return the new bytes.
//
// usage: node examples/pagecache-reread.mjs [FILE_MIB=64] [RESIDENT_MIB=4] [BACKEND=zcache]
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debugfs, loadBackend, PageCache, unloadBackend } from 'tmem';

const fileMiB = Number(process.argv[2] ?? 64);
const residentMiB = Number(process.argv[3] ?? 4);
const backend = process.argv[4] ?? 'zcache';
const dir = mkdtempSync(join(tmpdir(), 'tmem-pagecache-'));
const path = join(dir, 'data.log');

function makeFile(version) {
  const lines = [];
  let size = 0;
  for (let i = 0; size < fileMiB << 20; i++) {
    const line = `${new Date(1.7e12 + i * 1000).toISOString()} v${version} worker=${i % 16} req=${i} path=/api/items/${(i * 7919) % 10007} status=${i % 11 ? 200 : 503}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, fileMiB << 20);
}

const CHUNK = 1 << 16;
function readAll(file, expected) {
  let mismatches = 0;
  for (let pos = 0; pos < expected.length; pos += CHUNK) {
    if (Buffer.compare(file.read(pos, CHUNK), expected.subarray(pos, pos + CHUNK)) !== 0) mismatches++;
  }
  return mismatches;
}

try {
  const v1 = makeFile(1);
  writeFileSync(path, v1);
  await loadBackend(backend, { maxPoolBytes: (fileMiB * 2) << 20 });
  const cache = new PageCache({ residentBytes: residentMiB << 20 });
  const file = cache.open(path);
  const pages = v1.length / 4096;
  const s0 = debugfs.snapshot();
  const pass1 = readAll(file, v1);
  const s1 = debugfs.snapshot();
  const pass2 = readAll(file, v1);
  const s2 = debugfs.snapshot();
  const v2 = makeFile(2);
  writeFileSync(path + '.new', v2);
  renameSync(path + '.new', path);
  const afterRewrite = readAll(file, v2);
  const stats = cache.stats();
  const result = {
    backend, fileMiB, residentMiB, pages,
    mismatchesPass1: pass1, mismatchesPass2: pass2, mismatchesAfterRewrite: afterRewrite,
    succGetsPass2: s2['cleancache/succ_gets'] - s1['cleancache/succ_gets'],
    failedGetsPass2: s2['cleancache/failed_gets'] - s1['cleancache/failed_gets'],
    putsPass1: s1['cleancache/puts'] - s0['cleancache/puts'],
    diskReads: stats.reads_disk,
    ephPageframes: s2['zcache/eph_pageframes'],
  };
  console.log(JSON.stringify(result));
  if (pass1 || pass2 || afterRewrite || result.succGetsPass2 < pages * 0.8) process.exitCode = 1;
  cache.close();
  await unloadBackend(backend);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
