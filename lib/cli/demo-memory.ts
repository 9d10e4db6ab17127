// What `tmem demo` checks besides the values: that the process stays within its memory promise.
// The bound is the demo's RSS before the first value (Node, tmem, the demo's own bookkeeping,
// all allocated up front) plus the SwapCache's resident budget, the pool limit and the key index,
// plus 15%.
//
// Three things about the measurement. The baseline is taken once the demo has run its code paths
// on a throwaway cache (JIT-compiled code and the pages of Node's own binary that the run touches
// are part of any warmed-up service, not of the data), after a full collection. V8 sizes its young generation from the memory it sees: on a
// large host it lets up to 2 x 16 MiB of short-lived garbage pile up, in a container of a few
// hundred MiB Node gives it 2 x 1 MiB; the demo runs with the container's size (V8 takes it only
// as a command-line flag, so `tmem demo` starts itself again with it), which is where such a
// bound is enforced. And the final figure is taken after a full garbage collection and
// malloc_trim, so it is what the process holds, not what a collector has yet to sweep; the peak
// is reported as sampled, without either.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { swapCacheAddon } from '../facade/swap-cache/addon';

const SLACK = 0.15;

/** The demo's record of what it stored: length, version and SHA-1 per value, in typed arrays. */
export class Ledger {
  readonly lengths: Uint32Array;
  readonly versions: Uint32Array;
  #digests: Uint8Array;
  #count = 0;

  /** Room for `capacity` values, all of it touched now so that it is part of the baseline. */
  constructor(capacity: number) {
    this.lengths = new Uint32Array(capacity).fill(0);
    this.versions = new Uint32Array(capacity).fill(0);
    this.#digests = new Uint8Array(capacity * 20).fill(0);
  }

  get count(): number {
    return this.#count;
  }

  get full(): boolean {
    return this.#count === this.lengths.length;
  }

  /** Records the value of `id` (the next id when id === count). */
  record(id: number, version: number, value: Uint8Array): void {
    if (id === this.#count) this.#count++;
    this.lengths[id] = value.byteLength;
    this.versions[id] = version;
    this.#digests.set(createHash('sha1').update(value).digest(), id * 20);
  }

  /** Whether `value` is exactly what was recorded for `id`. */
  matches(id: number, value: Uint8Array | undefined): boolean {
    if (value === undefined || value.byteLength !== this.lengths[id]) return false;
    const d = createHash('sha1').update(value).digest();
    for (let i = 0; i < 20; i++) if (d[i] !== this.#digests[id * 20 + i]) return false;
    return true;
  }
}

export interface MemoryVerdict {
  baselineRssBytes: number;
  peakRssBytes: number;
  rssBytes: number;
  indexBytes: number;
  rssBoundBytes: number;
  withinBound: boolean;
}

const YOUNG_CAP = '--max-semi-space-size=1';

/**
 * Runs this command again in a child whose young generation is what Node picks in a container
 * of a few hundred MiB, forwarding SIGINT and SIGTERM; resolves to its exit code. Null when this
 * process already runs that way.
 */
export function rerunWithYoungCap(script: string, argv: string[]): Promise<number> | null {
  if (process.execArgv.includes(YOUNG_CAP)) return null;
  const child = spawn(process.execPath, [...process.execArgv, YOUNG_CAP, script, ...argv], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

/**
 * A full GC (V8's gc(), exposed at run time for a fresh context) and malloc_trim. V8 frees dead
 * ArrayBuffers' memory and unmaps empty pages on background threads after the collection, so
 * the trim waits for them.
 */
export async function settle(): Promise<void> {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  await new Promise((resolve) => setTimeout(resolve, 200));
  swapCacheAddon()?.trimMalloc();
}

/** Tracks RSS from just before the first value on (construct it after settle()). */
export class MemoryWatch {
  readonly baseline = process.memoryUsage.rss();
  #peak = this.baseline;

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
  }

  async verdict(residentBytes: number, poolBytes: number, indexBytes: number): Promise<MemoryVerdict> {
    this.sample();
    await settle();
    const rss = process.memoryUsage.rss();
    const bound = Math.round((this.baseline + residentBytes + poolBytes + indexBytes) * (1 + SLACK));
    return { baselineRssBytes: this.baseline, peakRssBytes: this.#peak, rssBytes: rss, indexBytes, rssBoundBytes: bound, withinBound: rss <= bound };
  }
}
