// The private directory a SwapCache makes for its swap file, and its removal.
//
// close() removes only what the cache made: the directory is removed with rmdir (never
// recursively), and only while the path still names the directory that mkdtemp created (same
// device and inode). A directory someone put in its place, and anything inside it, is left alone.
//
// One process 'exit' listener serves every cache, so any number of caches can be open without
// a MaxListenersExceeded warning; at exit it removes the swap files and directories of caches
// that were never closed.
import { lstatSync, mkdtempSync, rmdirSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class OwnedDir {
  readonly path: string;
  #dev: number;
  #ino: number;

  constructor() {
    this.path = mkdtempSync(join(tmpdir(), 'tmem-swapcache-'));
    const st = lstatSync(this.path);
    this.#dev = st.dev;
    this.#ino = st.ino;
  }

  /** rmdir, if the path is still our directory; never throws. */
  remove(): void {
    let st: Stats;
    try {
      st = lstatSync(this.path);
    } catch {
      return;
    }
    if (!st.isDirectory() || st.dev !== this.#dev || st.ino !== this.#ino) return;
    try {
      rmdirSync(this.path);
    } catch {
      // not empty (something else was put there) or already gone: leave it
    }
  }
}

const atExit = new Set<() => void>();
let listening = false;

/** Runs `cleanup` at process exit unless the returned function is called first. */
export function onExit(cleanup: () => void): () => void {
  if (!listening) {
    listening = true;
    process.on('exit', () => {
      for (const fn of atExit) fn();
    });
  }
  atExit.add(cleanup);
  return () => atExit.delete(cleanup);
}
