// A debugfs tree mounted as a real directory: one small file per counter holding `value\n`, so
// operators can `grep -r . DIR`, `cat`, or `watch` it from outside the process.
//
// Every file is replaced atomically: the new value is written to `name.tmp-<pid>` next to it and
// renamed over it, so a reader sees the old value or the new one, never a partial or empty file.
// A refresh rewrites only the counters whose value changed (a file's mtime is when it last
// changed), removes the files of counters that went away (an area swapped off, a cache closed)
// and the directories they leave empty.
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
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

function mountError(code: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** The counter path as relative file-system segments, or null if it cannot name a file safely. */
function segments(path: string): string[] | null {
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\') || TMP_PATTERN.test(p)) return null;
  }
  return parts;
}

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
  #mounted = true;
  #onUnmount: () => void;
  #onExit = () => this.unmount();

  /** @internal use debugfs.mount() */
  constructor(tree: DebugfsTree, dir: string, options: MountOptions, onUnmount: () => void) {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`mount dir must be a non-empty string, got ${describe(dir)}`);
    const o = checkOptionsObject('mount', options);
    checkOptionKeys('mount', o, ['intervalMs']);
    this.intervalMs = o.intervalMs === undefined ? 1000 : checkInteger('intervalMs', o.intervalMs, 0, 2 ** 31 - 1);
    this.dir = resolve(dir);
    this.#tree = tree;
    this.#onUnmount = onUnmount;
    this.#prepareRoot();
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
    process.on('exit', this.#onExit);
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
   * counters that are gone are removed. Throws on an I/O error of the directory itself; a counter
   * whose file cannot be written (a path clash) is skipped and remembered in lastError.
   */
  refresh(): void {
    if (!this.#mounted) throw mountError('ERR_TMEM_NOT_MOUNTED', `debugfs is no longer mounted at ${this.dir}`);
    if (!existsSync(this.dir)) {
      // Removed from outside: start over.
      mkdirSync(this.dir, { recursive: true });
      this.#written.clear();
      this.#dirs.clear();
    }
    const snapshot = this.#tree.snapshot();
    const seen = new Set<string>();
    for (const [path, value] of Object.entries(snapshot)) {
      const parts = segments(path);
      if (!parts) continue;
      const rel = parts.join('/');
      seen.add(rel);
      const content = `${formatValue(value)}\n`;
      if (this.#written.get(rel) === content) continue;
      try {
        this.#makeDirs(parts);
        this.#replace(rel, content);
        this.#written.set(rel, content);
      } catch (err) {
        this.lastError = mountError('ERR_TMEM_MOUNT_IO', `cannot write ${join(this.dir, rel)}: ${(err as Error).message}`, err);
      }
    }
    for (const rel of [...this.#written.keys()]) {
      if (seen.has(rel)) continue;
      this.#written.delete(rel);
      this.#unlink(join(this.dir, rel));
      this.#pruneDirs(dirname(rel));
    }
    this.refreshes++;
  }

  /** Stops refreshing and removes the files, the directories it created, and the root when empty. */
  unmount(): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    process.removeListener('exit', this.#onExit);
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

  #prepareRoot(): void {
    let entries: string[];
    try {
      if (!statSync(this.dir).isDirectory()) throw mountError('ERR_TMEM_MOUNT_BUSY', `cannot mount debugfs at ${this.dir}: not a directory`);
      entries = readdirSync(this.dir);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
      mkdirSync(this.dir, { recursive: true });
      return;
    }
    if (entries.length > 0) {
      throw mountError('ERR_TMEM_MOUNT_BUSY', `cannot mount debugfs at ${this.dir}: the directory is not empty`);
    }
  }

  #makeDirs(parts: string[]): void {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i];
      if (this.#dirs.has(rel)) continue;
      try {
        mkdirSync(join(this.dir, rel));
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
      }
      this.#dirs.add(rel);
    }
  }

  #replace(rel: string, content: string): void {
    const file = join(this.dir, rel);
    const tmp = file + TMP_SUFFIX;
    try {
      writeFileSync(tmp, content, { mode: 0o644 });
      renameSync(tmp, file);
    } catch (err) {
      this.#unlink(tmp);
      throw err;
    }
  }

  #unlink(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }

  /** Removes `rel` and its parents while they are empty directories this mount created. */
  #pruneDirs(rel: string): void {
    while (rel !== '.' && rel !== '' && this.#dirs.has(rel)) {
      try {
        rmdirSync(join(this.dir, rel));
      } catch {
        return; // not empty
      }
      this.#dirs.delete(rel);
      rel = dirname(rel);
    }
  }

  #removeAll(): void {
    for (const rel of this.#written.keys()) this.#unlink(join(this.dir, rel));
    this.#written.clear();
    const dirs = [...this.#dirs].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const rel of dirs) {
      try {
        rmdirSync(join(this.dir, rel));
      } catch {
        // holds files that are not ours
      }
    }
    this.#dirs.clear();
    try {
      rmdirSync(this.dir);
    } catch {
      // gone already, or holds files that are not ours
    }
  }
}
