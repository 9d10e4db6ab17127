// Compiles bench/native/lz4-loop.cc with the system C++ compiler into bench/.build/, linked
// against the same system liblz4.a the addon uses (native/build/lz4.js, the addon's own build
// helper, says where it is). -O3 like the addon's Release build. The binary is rebuilt when the
// source is newer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Path of the lz4-loop binary, built if needed. */
export function buildLz4Loop(root) {
  const src = join(root, 'bench', 'native', 'lz4-loop.cc');
  const dir = join(root, 'bench', '.build');
  const bin = join(dir, 'lz4-loop');
  if (existsSync(bin) && statSync(bin).mtimeMs > statSync(src).mtimeMs) return bin;
  mkdirSync(dir, { recursive: true });
  const helper = join(root, 'native', 'build', 'lz4.js');
  const ask = (what) => execFileSync(process.execPath, [helper, what], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const includes = ask('include').flatMap((dir) => ['-I', dir]);
  const cxx = process.env.CXX || 'c++';
  const flags = ['-O3', '-fno-omit-frame-pointer', '-g'];
  execFileSync(cxx, [...flags, '-std=c++17', ...includes, src, ...ask('libraries'), '-o', bin], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return bin;
}
