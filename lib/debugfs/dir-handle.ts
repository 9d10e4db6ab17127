// Directory handles for the debugfs mount: file-system operations relative to an open directory
// descriptor, never to a path that someone could change under us.
//
// Node has no openat/mkdirat/renameat. Linux gives the same guarantees through /proc/self/fd/N:
// that path is a "magic link" to the directory the descriptor holds — the directory itself,
// wherever it is now, not whatever its old path names — and a name looked up in it is looked up
// in that directory. Every directory below a handle is opened one component at a time with
// O_NOFOLLOW|O_DIRECTORY (a symlink fails with ELOOP), files are created with O_EXCL|O_NOFOLLOW
// (never through an existing entry), and rename/unlink/rmdir never follow a final symlink. So no
// operation through a handle can reach outside the directory tree it holds.
//
// The mount needs procfs (Linux); DirHandle.open checks that /proc/self/fd resolves to the
// descriptor's directory and fails with ERR_TMEM_UNSUPPORTED where it does not.
import * as fs from 'node:fs';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const OPEN_DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const CREATE_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

export function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

export function codedError(code: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

export class DirHandle {
  readonly fd: number;
  /** True when openDir() created the directory. */
  readonly made: boolean;
  #closed = false;

  private constructor(fd: number, made = false) {
    this.fd = fd;
    this.made = made;
  }

  /**
   * Opens the directory at `path` without following a symlink in its last component, and checks
   * that paths under /proc/self/fd reach it. The caller owns the handle (close()).
   */
  static open(path: string): DirHandle {
    const handle = new DirHandle(fs.openSync(path, OPEN_DIR));
    try {
      const st = fs.fstatSync(handle.fd);
      const viaProc = fs.statSync(handle.path(''));
      if (viaProc.dev !== st.dev || viaProc.ino !== st.ino) throw new Error('/proc/self/fd resolves elsewhere');
    } catch (err) {
      handle.close();
      throw codedError('ERR_TMEM_UNSUPPORTED', `debugfs.mount needs /proc/self/fd (Linux procfs) to work relative to a directory: ${(err as Error).message}`, err);
    }
    return handle;
  }

  /** The path that names `name` inside this directory (the directory itself for ''). */
  path(name: string): string {
    return name ? `/proc/self/fd/${this.fd}/${name}` : `/proc/self/fd/${this.fd}`;
  }

  stat(): fs.Stats {
    return fs.fstatSync(this.fd);
  }

  chmod(mode: number): void {
    fs.fchmodSync(this.fd, mode);
  }

  /** The subdirectory `name`, created (mode 0755 whatever the umask) when `create` and missing. */
  openDir(name: string, create: boolean): DirHandle {
    try {
      return new DirHandle(fs.openSync(this.path(name), OPEN_DIR));
    } catch (err) {
      if (!create || errCode(err) !== 'ENOENT') throw err;
    }
    let made = true;
    try {
      fs.mkdirSync(this.path(name), 0o755);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err;
      made = false;
    }
    const dir = new DirHandle(fs.openSync(this.path(name), OPEN_DIR), made);
    if (made) dir.chmod(0o755);
    return dir;
  }

  /**
   * Replaces file `name` atomically with `content`: written to a new file `tmpName` (created
   * exclusively; a stale one is removed first) and renamed over `name`.
   */
  replaceFile(name: string, tmpName: string, content: string): void {
    let fd: number;
    try {
      fd = fs.openSync(this.path(tmpName), CREATE_FILE, 0o644);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err;
      this.remove(tmpName);
      fd = fs.openSync(this.path(tmpName), CREATE_FILE, 0o644);
    }
    try {
      fs.writeFileSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.renameSync(this.path(tmpName), this.path(name));
    } catch (err) {
      this.remove(tmpName);
      throw err;
    }
  }

  /** Removes file `name`, or with `directory` the subdirectory `name` if empty; false when it could not be. */
  remove(name: string, directory = false): boolean {
    try {
      (directory ? fs.rmdirSync : fs.unlinkSync)(this.path(name));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.fd);
  }
}
