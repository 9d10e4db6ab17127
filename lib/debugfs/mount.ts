// A debugfs tree mounted as a real directory: one small file per counter holding `value\n`, so
// operators can `grep -r . DIR`, `cat`, or `watch` it from outside the process.
//
// Every file is replaced atomically: the new value is written to `name.tmp-<pid>` next to it and
// renamed over it, so a reader sees the old value or the new one, never a partial or empty file.
// A refresh rewrites only the counters whose value changed (a file's mtime is when it last
// changed), removes the files of counters that went away (an area swapped off, a cache closed)
// and the directories they leave empty.
//
// Safety when the mount point is somewhere others can write (the README's `/tmp/tmem`): the root
// must be the caller's own and not writable by group or others (else ERR_TMEM_MOUNT_UNSAFE), and
// a symlink in its place is refused. The mount then holds the root open and does everything
// relative to that descriptor, component by component without following symlinks
// (dir-handle.ts): swapping a directory of the tree for a symlink, or moving the root away, can
// no longer make the mount write, overwrite or delete anything outside the tree it created.
// Unmount removes the files it wrote, the directories it created, and the root only if the mount
// created it and the path still names it.
import { mkdirSync, readdirSync, rmdirSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
import { codedError, DirHandle, errCode } from './dir-handle';
import { formatValue } from './format';
import type { DebugfsTree } from './tree';

export interface MountOptions {
  /** Milliseconds between refreshes; 0 refreshes only when refresh() is called. Default 1000. */
  intervalMs?: number;
}

/** Suffix of the temporary files a refresh renames into place; readers walking the tree skip them. */
export const TMP_SUFFIX = `.tmp-${process.pid}`;
/** Matches the temporary file of any process. */
export const TMP_PATTERN = /\.tmp-\d+$/;

/** The counter path as relative file-system segments, or null if it cannot name a file safely. */
function segments(path: string): string[] | null {
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\') || TMP_PATTERN.test(p)) return null;
  }
  return parts;
}

const parentOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
const nameOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);

/**
 * Opens (creating it, and missing parents, when absent) the mount root at `dir`: refused when it
 * is a symlink, not a directory, not empty, not the caller's, or writable by group or others.
 */
function openRoot(dir: string): { root: DirHandle; created: boolean } {
  mkdirSync(dirname(dir), { recursive: true });
  let created = false;
  try {
    mkdirSync(dir, 0o755);
    created = true;
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
  }
  let root: DirHandle;
  try {
    root = DirHandle.open(dir);
  } catch (err) {
    // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR or ELOOP, depending on its target.
    if (errCode(err) !== 'ENOTDIR' && errCode(err) !== 'ELOOP') throw err;
    if (lstatSync(dir).isSymbolicLink()) throw codedError('ERR_TMEM_MOUNT_UNSAFE', `cannot mount debugfs at ${dir}: it is a symbolic link`, err);
    throw codedError('ERR_TMEM_MOUNT_BUSY', `cannot mount debugfs at ${dir}: not a directory`, err);
  }
  try {
    // Our own mode, whatever the umask; a directory that was there keeps its own and is judged by it.
    if (created) root.chmod(0o755);
    const st = root.stat();
    const uid = process.geteuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw codedError('ERR_TMEM_MOUNT_UNSAFE', `cannot mount debugfs at ${dir}: owned by uid ${st.uid}, not by this process (uid ${uid})`);
    }
    if ((st.mode & 0o022) !== 0) {
      throw codedError('ERR_TMEM_MOUNT_UNSAFE', `cannot mount debugfs at ${dir}: writable by others (mode ${(st.mode & 0o7777).toString(8)})`);
    }
    if (!created && readdirSync(root.path('')).length > 0) {
      throw codedError('ERR_TMEM_MOUNT_BUSY', `cannot mount debugfs at ${dir}: the directory is not empty`);
    }
  } catch (err) {
    root.close();
    if (created) rmdirSync(dir);
    throw err;
  }
  return { root, created };
}

// One 'exit' listener for every mount of the process, however many there are.
const liveMounts = new Set<DebugfsMount>();
const unmountAll = (): void => {
  for (const m of [...liveMounts]) m.unmount();
};

export class DebugfsMount {
  /** Absolute path of the mounted directory. */
  readonly dir: string;
  readonly intervalMs: number;
  /** Refreshes done so far (the first one happens in mount()). */
  refreshes = 0;
  /** The last error a timed refresh ran into (timed refreshes never throw), or null. */
  lastError: Error | null = null;
  #tree: DebugfsTree;
  #timer: NodeJS.Timeout | null = null;
  /** File (relative path) → the content last written to it. */
  #written = new Map<string, string>();
  /** Directories (relative paths) this mount created below its root. */
  #dirs = new Set<string>();
  #root: DirHandle;
  #createdRoot: boolean;
  #mounted = true;
  #onUnmount: () => void;

  /** @internal use debugfs.mount() */
  constructor(tree: DebugfsTree, dir: string, options: MountOptions, onUnmount: () => void) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`mount dir must be a non-empty string, got ${describe(dir)}`);
    const o = checkOptionsObject('mount', options);
    checkOptionKeys('mount', o, ['intervalMs']);
    this.intervalMs = o.intervalMs === undefined ? 1000 : checkInteger('intervalMs', o.intervalMs, 0, 2 ** 31 - 1);
    this.dir = resolve(dir);
    this.#tree = tree;
    this.#onUnmount = onUnmount;
    ({ root: this.#root, created: this.#createdRoot } = openRoot(this.dir));
    try {
      this.refresh();
    } catch (err) {
      this.#removeAll();
      throw err;
    }
    if (this.intervalMs > 0) {
      this.#timer = setInterval(() => this.#tick(), this.intervalMs);
      this.#timer.unref();
    }
    if (liveMounts.size === 0) process.on('exit', unmountAll);
    liveMounts.add(this);
  }

  /** False after unmount(). */
  get mounted(): boolean {
    return this.#mounted;
  }

  /** Whether this mount is at `dir`. */
  matches(dir: string): boolean {
    return resolve(dir) === this.dir;
  }

  /**
   * Brings the files up to date with the tree now: changed values are replaced atomically, files of
   * counters that are gone are removed. Throws on an I/O error of the root itself; a counter whose
   * file cannot be written (a path clash, a symlink where a directory should be) is skipped and
   * remembered in lastError.
   */
  refresh(): void {
    if (!this.#mounted) throw codedError('ERR_TMEM_NOT_MOUNTED', `debugfs is no longer mounted at ${this.dir}`);
    if (this.#root.stat().nlink === 0) {
      // Removed from outside: start over, with the same checks as mount().
      this.#root.close();
      ({ root: this.#root, created: this.#createdRoot } = openRoot(this.dir));
      this.#written.clear();
      this.#dirs.clear();
    }
    const snapshot = this.#tree.snapshot();
    const seen = new Set<string>();
    const changed = new Map<string, string[]>(); // directory → relative paths of its changed files
    for (const path of Object.keys(snapshot)) {
      const parts = segments(path);
      if (!parts) continue;
      const rel = parts.join('/');
      seen.add(rel);
      if (this.#written.get(rel) === `${formatValue(snapshot[path])}\n`) continue;
      const dir = parentOf(rel);
      const list = changed.get(dir);
      if (list) list.push(rel);
      else changed.set(dir, [rel]);
    }
    const handles = new Map<string, DirHandle>();
    try {
      for (const [dir, rels] of changed) {
        let handle: DirHandle;
        try {
          handle = this.#openDir(dir, true, handles);
        } catch (err) {
          this.lastError = codedError('ERR_TMEM_MOUNT_IO', `cannot create ${join(this.dir, dir)}: ${(err as Error).message}`, err);
          continue;
        }
        for (const rel of rels) {
          const content = `${formatValue(snapshot[rel])}\n`;
          try {
            handle.replaceFile(nameOf(rel), nameOf(rel) + TMP_SUFFIX, content);
            this.#written.set(rel, content);
          } catch (err) {
            this.lastError = codedError('ERR_TMEM_MOUNT_IO', `cannot write ${join(this.dir, rel)}: ${(err as Error).message}`, err);
          }
        }
      }
      const emptied = new Set<string>();
      for (const rel of [...this.#written.keys()]) {
        if (seen.has(rel)) continue;
        this.#written.delete(rel);
        this.#unlink(rel, handles);
        emptied.add(parentOf(rel));
      }
      for (const dir of emptied) this.#pruneDirs(dir, handles);
    } finally {
      for (const h of handles.values()) h.close();
    }
    this.refreshes++;
  }

  /** Stops refreshing and removes the files it wrote, the directories it created, and the root if it created it. */
  unmount(): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    liveMounts.delete(this);
    if (liveMounts.size === 0) process.removeListener('exit', unmountAll);
    this.#removeAll();
    this.#onUnmount();
  }

  #tick(): void {
    try {
      this.refresh();
    } catch (err) {
      this.lastError = err as Error;
    }
  }

  // The directory `rel` below the root, opened one component at a time from the root handle
  // (created where missing when `create`); handles opened on the way are kept in `handles`.
  #openDir(rel: string, create: boolean, handles: Map<string, DirHandle>): DirHandle {
    if (rel === '') return this.#root;
    const open = handles.get(rel);
    if (open) return open;
    const parent = this.#openDir(parentOf(rel), create, handles);
    const handle = parent.openDir(nameOf(rel), create);
    handles.set(rel, handle);
    if (handle.made) this.#dirs.add(rel);
    return handle;
  }

  #unlink(rel: string, handles: Map<string, DirHandle>): void {
    try {
      this.#openDir(parentOf(rel), false, handles).remove(nameOf(rel));
    } catch {
      // its directory is gone already
    }
  }

  /** Removes `rel` and its parents while they are empty directories this mount created. */
  #pruneDirs(rel: string, handles: Map<string, DirHandle>): void {
    while (rel !== '' && this.#dirs.has(rel)) {
      handles.get(rel)?.close();
      handles.delete(rel);
      let removed = false;
      try {
        removed = this.#openDir(parentOf(rel), false, handles).remove(nameOf(rel), true);
      } catch {
        // its parent is gone already
      }
      if (!removed) return; // not empty
      this.#dirs.delete(rel);
      rel = parentOf(rel);
    }
  }

  #removeAll(): void {
    const handles = new Map<string, DirHandle>();
    try {
      for (const rel of this.#written.keys()) this.#unlink(rel, handles);
      this.#written.clear();
      // Deepest first, so that each directory is empty when its turn comes (or holds what is not ours).
      const dirs = [...this.#dirs].sort((a, b) => b.split('/').length - a.split('/').length);
      for (const rel of dirs) {
        handles.get(rel)?.close();
        handles.delete(rel);
        try {
          this.#openDir(parentOf(rel), false, handles).remove(nameOf(rel), true);
        } catch {
          // its parent is gone already
        }
      }
      this.#dirs.clear();
    } finally {
      for (const h of handles.values()) h.close();
    }
    if (this.#createdRoot && this.#rootStillAtPath()) {
      try {
        rmdirSync(this.dir);
      } catch {
        // holds files that are not ours
      }
    }
    this.#root.close();
  }

  #rootStillAtPath(): boolean {
    try {
      const st = lstatSync(this.dir);
      const held = this.#root.stat();
      return st.dev === held.dev && st.ino === held.ino;
    } catch {
      return false;
    }
  }
}
