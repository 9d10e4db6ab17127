// Files and directories tmem created and must remove when done with them — and nothing else.
//
// A swap file holds swapped-out memory, so it must not outlive its area: swapoff() removes it, and
// so does the end of the process or worker thread that created it. An OwnedPath records what was
// created (device and inode, taken from the open fd for a file) and removes the path only while
// it still names that object: a file or directory that replaced ours at the same path is left
// alone. A swap file is also truncated through its fd before the unlink, so its contents are gone
// even if the path was renamed away or another link to it was made.
//
// When they are removed:
//  - release(): the owner is done (swapoff, SwapCache.close);
//  - the environment's 'exit' event: the process (or a worker) ends normally or calls
//    process.exit(); one listener serves every owned path of the environment;
//  - the addon's environment cleanup hook (native/napi/owned_paths.cc): a worker ended with
//    worker.terminate() runs no JavaScript at all, so only native code can clean up after it.
//    Without the addon (zcache-js where it cannot be built), a terminated worker leaves its swap
//    files behind: end such workers by letting them exit, or swap off before terminate().
//
// The identity check and the removal are two system calls on a path; whoever can replace the
// entry between them can write the directory anyway, and the truncation has already emptied the
// file by then.
import * as fs from 'node:fs';
import { loadNative } from '../native/binding';

interface NativeOwnedPaths {
  ownPath(path: string, fd: number, isDirectory: boolean): number;
  disownPath(id: number): void;
}

let native: NativeOwnedPaths | null | undefined;

function nativeRegistry(): NativeOwnedPaths | null {
  if (native === undefined) {
    try {
      const binding = loadNative() as unknown as Partial<NativeOwnedPaths>;
      native = typeof binding.ownPath === 'function' ? (binding as NativeOwnedPaths) : null;
    } catch {
      native = null; // no addon: the 'exit' listener is all there is
    }
  }
  return native;
}

const live = new Set<OwnedPath>();
let listening = false;

// At 'exit' the native pool's writeback threads may still be writing to a swap file: its path is
// removed now, but its descriptor is left for the addon's cleanup hook to close once the pools
// have stopped (or for the process's end). Without the addon no thread can use it: it is closed.
function releaseAll(): void {
  for (const owned of [...live]) owned.release(native ? 'keep-fd' : 'close');
}

export class OwnedPath {
  readonly path: string;
  readonly #fd: number;
  readonly #dev: bigint;
  readonly #ino: bigint;
  #nativeId = 0;
  #released = false;

  private constructor(path: string, fd: number, st: fs.BigIntStats) {
    this.path = path;
    this.#fd = fd;
    this.#dev = st.dev;
    this.#ino = st.ino;
    const reg = nativeRegistry();
    if (reg) this.#nativeId = reg.ownPath(path, fd, fd < 0);
    live.add(this);
    if (!listening) {
      listening = true;
      process.on('exit', releaseAll);
    }
  }

  /** A file just created at `path` and open as `fd`; release() truncates, unlinks (if still ours) and closes it. */
  static file(path: string, fd: number): OwnedPath {
    return new OwnedPath(path, fd, fs.fstatSync(fd, { bigint: true }));
  }

  /** A directory just created at `path`; release() removes it if it is still ours and empty. */
  static directory(path: string): OwnedPath {
    const st = fs.lstatSync(path, { bigint: true });
    if (!st.isDirectory()) throw new Error(`${path} is not a directory`);
    return new OwnedPath(path, -1, st);
  }

  /** True until release(). */
  get owned(): boolean {
    return !this.#released;
  }

  /** Whether `path` still names the object created. */
  stillOurs(): boolean {
    try {
      const st = fs.lstatSync(this.path, { bigint: true });
      return st.dev === this.#dev && st.ino === this.#ino && st.isDirectory() === this.#fd < 0;
    } catch {
      return false;
    }
  }

  /**
   * Removes what was created (see the file header); idempotent, never throws (it runs on error
   * paths and at exit). With 'keep-fd' a file's descriptor stays open and registered with the
   * addon, whose cleanup hook closes it.
   */
  release(fd: 'close' | 'keep-fd' = 'close'): void {
    if (this.#released) return;
    this.#released = true;
    live.delete(this);
    const keepFd = fd === 'keep-fd' && this.#nativeId !== 0;
    if (this.#nativeId !== 0 && !keepFd) nativeRegistry()!.disownPath(this.#nativeId);
    if (this.#fd >= 0) {
      try {
        fs.ftruncateSync(this.#fd, 0);
      } catch {
        // best effort: the unlink below still takes the name away
      }
    }
    const ours = this.stillOurs();
    try {
      if (ours) {
        if (this.#fd >= 0) fs.unlinkSync(this.path);
        else fs.rmdirSync(this.path);
      }
    } catch {
      // gone already, or (a directory) not empty: what is in it is not ours to remove
    }
    if (this.#fd >= 0 && !keepFd) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
  }
}
