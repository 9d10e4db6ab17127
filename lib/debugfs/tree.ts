// One tree of named counters, like /sys/kernel/debug/{frontswap,zswap}. Each layer registers a
// *provider* for a directory: a function that returns all of that directory's counters at once. That
// keeps a native backend's snapshot to one call however many counters it has, and means a counter
// is never stale: it is read from its owner when asked for.
import { TmemError } from '../util/errors';

/** Counter values keyed by path relative to the provider's directory ('stored_pages', 'zbud/pages', ...). */
export type CounterProvider = () => Record<string, number>;

interface Mount {
  dir: string;
  provider: CounterProvider;
}

function normalizeDir(dir: string): string {
  return dir.replace(/^\/+|\/+$/g, '');
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

export class DebugfsTree {
  #mounts: Mount[] = [];

  /**
   * Registers `provider` under `dir` (may be '' for providers that return full paths).
   * Returns a function that removes it again.
   */
  register(dir: string, provider: CounterProvider): () => void {
    if (typeof dir !== 'string') throw new TypeError('debugfs dir must be a string');
    if (typeof provider !== 'function') throw new TypeError('debugfs provider must be a function');
    const mount = { dir: normalizeDir(dir), provider };
    this.#mounts.push(mount);
    return () => {
      const i = this.#mounts.indexOf(mount);
      if (i >= 0) this.#mounts.splice(i, 1);
    };
  }

  /** All counters as one flat object of `path: value`, sorted by path. */
  snapshot(): Record<string, number> {
    const entries: [string, number][] = [];
    for (const { dir, provider } of this.#mounts) {
      for (const [name, value] of Object.entries(provider())) entries.push([join(dir, name), value]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return Object.fromEntries(entries);
  }

  /** One counter; throws a coded error for a path that names no counter. */
  read(path: string): number {
    if (typeof path !== 'string') throw new TypeError(`debugfs path must be a string, got ${typeof path}`);
    const want = normalizeDir(path);
    for (const { dir, provider } of this.#mounts) {
      if (dir && !want.startsWith(dir + '/')) continue;
      const value = provider()[dir ? want.slice(dir.length + 1) : want];
      if (value !== undefined) return value;
    }
    throw new TmemError('ERR_TMEM_NO_COUNTER', `no counter at debugfs path '${path}'`);
  }

  /** Paths of the counters under `dir` ('' for all), sorted. */
  list(dir = ''): string[] {
    const prefix = normalizeDir(dir);
    return Object.keys(this.snapshot()).filter((p) => !prefix || p.startsWith(prefix + '/'));
  }

  /** `path value` lines, like `grep -r . /sys/kernel/debug/zswap`. */
  format(): string {
    return Object.entries(this.snapshot())
      .map(([path, value]) => `${path} ${value}\n`)
      .join('');
  }

  /** Prometheus text exposition format; every counter becomes a `tmem_`-prefixed gauge. */
  prometheus(): string {
    let out = '';
    for (const [path, value] of Object.entries(this.snapshot())) {
      const name = 'tmem_' + path.replace(/[^a-zA-Z0-9_]/g, '_');
      out += `# TYPE ${name} gauge\n${name} ${value}\n`;
    }
    return out;
  }
}

/** The process-wide tree every layer registers in. */
export const debugfs = new DebugfsTree();
