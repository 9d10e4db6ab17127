// A real small file system for I/O-fault tests: a tmpfs of a given size, so pwrite to a file on it
// fails with ENOSPC once it is full. Mounting needs root (CI runs as root); tests skip without it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface Tmpfs {
  readonly dir: string;
  /** Changes the size (e.g. '8m') in place: a full file system gets room again. */
  resize(size: string): void;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. '64k') on a fresh temp directory. */
export function mountTmpfs(size: string): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'tmem-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    resize: (to) => execFileSync('mount', ['-o', `remount,size=${to}`, dir]),
    unmount() {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    },
  };
}
