// One tree of named counters, like /sys/kernel/debug/{frontswap,zswap}. Each layer registers a
// *provider* for a directory: a function that returns all of that directory's counters at once. That
// keeps a native backend's snapshot to one call however many counters it has, and means a counter
// is never stale: it is read from its owner when asked for.
//
// The tree can be read as an object, as `path value` lines, in Prometheus text format, mounted as
// a real directory of one file per counter (mount.ts), and served over HTTP (http.ts).
import { TmemError } from '../util/errors';
import { describe } from '../util/validate';
import { comparePaths, formatLines, toPrometheus } from './format';
import { createTreeHandler, type HandlerOptions, type RequestListener } from './http';
import { DebugfsMount, type MountOptions } from './mount';

export type { HandlerOptions, RequestListener } from './http';
export type { DebugfsMount, MountOptions } from './mount';
export { comparePaths, formatLines, formatValue, prometheusName, toPrometheus } from './format';

/** Counter values keyed by path relative to the provider's directory ('stored_pages', 'zbud/pages', ...). */
export type CounterProvider = () => Record<string, number>;

interface Registration {
  dir: string;
  provider: CounterProvider;
}

function normalizeDir(what: string, dir: unknown): string {
  if (typeof dir !== 'string') throw new TypeError(`debugfs ${what} must be a string, got ${describe(dir)}`);
  return dir.replace(/^\/+|\/+$/g, '');
}

// A counter path is '/'-separated segments of letters, digits, '_', '.' and '-', none of them '.'
// or '..'. It becomes a file name under a mount, a line of format() and a Prometheus name, so a
// name that a provider makes up cannot point outside the tree or start a line of its own.
const SEGMENT = /^(?!\.\.?$)[A-Za-z0-9_.-]+$/;

/** Whether `path` can name a counter (or, for register, a directory). */
export function isCounterPath(path: string): boolean {
  return path.split('/').every((segment) => SEGMENT.test(segment));
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

export class DebugfsTree {
  #registrations: Registration[] = [];
  #mounts = new Set<DebugfsMount>();
  #snapshotId = 0;
  #nextSnapshotId = 1;

  /**
   * While snapshot() calls the providers, a number naming that snapshot (the same for every
   * provider it calls); 0 otherwise. Providers whose counters must agree with each other (the
   * native pool's totals and its per-area usage) use it to answer all from one read.
   */
  get snapshotId(): number {
    return this.#snapshotId;
  }

  /**
   * Registers `provider` under `dir` (may be '' for providers that return full paths).
   * Returns a function that removes it again.
   */
  register(dir: string, provider: CounterProvider): () => void {
    const normalized = normalizeDir('dir', dir);
    if (typeof provider !== 'function') throw new TypeError('debugfs provider must be a function');
    if (normalized !== '' && !isCounterPath(normalized)) {
      throw new RangeError(`debugfs dir must be segments of letters, digits, '_', '.' and '-' (not '.' or '..'), got ${JSON.stringify(dir)}`);
    }
    const registration = { dir: normalized, provider };
    this.#registrations.push(registration);
    return () => {
      const i = this.#registrations.indexOf(registration);
      if (i >= 0) this.#registrations.splice(i, 1);
    };
  }

  /**
   * All counters as one flat object of `path: value`, sorted by path (see comparePaths). Each
   * provider is called once, so a native backend's counters cost one call however many there are.
   * What a provider returns that is not a number under a counter path (isCounterPath) is left out.
   */
  snapshot(): Record<string, number> {
    const outer = this.#snapshotId;
    if (outer === 0) this.#snapshotId = this.#nextSnapshotId++;
    const entries: [string, number][] = [];
    try {
      for (const { dir, provider } of this.#registrations) {
        for (const [name, value] of Object.entries(provider())) {
          if (typeof value === 'number' && isCounterPath(name)) entries.push([join(dir, name), value]);
        }
      }
    } finally {
      this.#snapshotId = outer;
    }
    entries.sort((a, b) => comparePaths(a[0], b[0]));
    return Object.fromEntries(entries);
  }

  /** One counter; throws a coded error for a path that names no counter. */
  read(path: string): number {
    const want = normalizeDir('path', path);
    // What snapshot() leaves out cannot be read either.
    for (const { dir, provider } of isCounterPath(want) ? this.#registrations : []) {
      if (dir && !want.startsWith(dir + '/')) continue;
      const counters = provider();
      const name = dir ? want.slice(dir.length + 1) : want;
      // Own properties only: 'toString' names no counter.
      if (Object.hasOwn(counters, name) && typeof counters[name] === 'number') return counters[name];
    }
    throw new TmemError('ERR_TMEM_NO_COUNTER', `no counter at debugfs path '${path}'`);
  }

  /** Paths of the counters under `dir` ('' for all), sorted. */
  list(dir = ''): string[] {
    const prefix = normalizeDir('dir', dir);
    return Object.keys(this.snapshot()).filter((p) => !prefix || p.startsWith(prefix + '/'));
  }

  /**
   * `path value` lines, like `grep -r . /sys/kernel/debug/zswap`: all counters, or those under
   * `dir`, sorted by path.
   */
  format(dir = ''): string {
    const prefix = normalizeDir('dir', dir);
    const snap = this.snapshot();
    if (!prefix) return formatLines(snap);
    return formatLines(Object.fromEntries(Object.entries(snap).filter(([p]) => p.startsWith(prefix + '/'))));
  }

  /**
   * Prometheus text exposition format (0.0.4). Names are `tmem_` + the path's segments joined with
   * `_`; numbered directories become labels: `swap/0/used_pages` → `tmem_swap_used_pages{type="0"}`.
   */
  prometheus(): string {
    return toPrometheus(this.snapshot());
  }

  /**
   * Keeps a real directory tree at `dir` with one small file per counter (`value\n`), refreshed
   * every `intervalMs` (default 1000) with atomic renames, so `grep -r . dir` or `watch` work from
   * outside the process. The directory must not exist or be empty. The timer never keeps the
   * process alive. Returns the mount; `unmount()` removes the tree.
   */
  mount(dir: string, options: MountOptions = {}): DebugfsMount {
    const m = new DebugfsMount(this, dir, options, () => this.#mounts.delete(m));
    this.#mounts.add(m);
    return m;
  }

  /** Unmounts the tree mounted at `dir`, or every mount of this tree when no `dir` is given. */
  unmount(dir?: string): void {
    if (dir !== undefined) normalizeDir('dir', dir);
    for (const m of [...this.#mounts]) {
      if (dir === undefined || m.matches(dir)) m.unmount();
    }
  }

  /**
   * A request listener for `http.createServer()`: `GET /debug/tmem` → every counter as `path value`
   * lines, `GET /debug/tmem/<dir>` → that subtree, `GET /debug/tmem/<path>` → the value alone,
   * `GET /metrics` → prometheus(). 404 for unknown paths, 405 for methods other than GET/HEAD.
   */
  createHandler(options: HandlerOptions = {}): RequestListener {
    return createTreeHandler(this, options);
  }

  /** The active mounts of this tree. */
  get mounts(): DebugfsMount[] {
    return [...this.#mounts];
  }
}

/** The process-wide tree every layer registers in. */
export const debugfs = new DebugfsTree();

/** `debugfs.createHandler(options)`: a node:http request listener serving the process-wide tree. */
export function createHandler(options: HandlerOptions = {}): RequestListener {
  return debugfs.createHandler(options);
}
