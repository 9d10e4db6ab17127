// Compiles bench/native/lz4-loop.cc with the system C++ compiler into bench/.build/, linked
// against the same liblz4 the addon uses: `versions().lz4Source` says which, and
// native/build/lz4.js (the addon's own build helper) says where it is. -O3 like the addon's
// Release build. The binary is rebuilt when the source is newer or the variant changed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Path of the lz4-loop binary for `variant` ('system' | 'bundled'), built if needed. */
export function buildLz4Loop(root, variant) {
  const src = join(root, 'bench', 'native', 'lz4-loop.cc');
  const dir = join(root, 'bench', '.build');
  const bin = join(dir, `lz4-loop-${variant}`);
  if (existsSync(bin) && statSync(bin).mtimeMs > statSync(src).mtimeMs) return bin;
  mkdirSync(dir, { recursive: true });
  const helper = join(root, 'native', 'build', 'lz4.js');
  const env = { ...process.env, TMEM_LZ4: variant };
  const ask = (what) => execFileSync(process.execPath, [helper, what, '--absolute'], { env, encoding: 'utf8' }).trim();
  const include = ask('include');
  const cxx = process.env.CXX || 'c++';
  const cc = process.env.CC || 'cc';
  const flags = ['-O3', '-fno-omit-frame-pointer', '-g'];
  const link = [];
  if (variant === 'bundled') {
    const obj = join(dir, 'lz4-bundled.o');
    execFileSync(cc, [...flags, '-I', include, '-c', ask('sources'), '-o', obj], { stdio: ['ignore', 'inherit', 'inherit'] });
    link.push(obj);
  } else {
    link.push(ask('libraries'));
  }
  execFileSync(cxx, [...flags, '-std=c++17', '-I', include, src, ...link, '-o', bin], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return bin;
}
