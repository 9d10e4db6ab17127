// fetch() with a fetchMethod, as lru-cache does it: concurrent fetches of one key share one call;
// a rejection caches nothing; a set, delete or eviction of the key while its fetch runs aborts the
// fetch (its signal fires, its result is not cached, its promise rejects with the abort reason).
import { TmemError } from '../../util/errors';
import type { FetchMethod, FetchOptions } from './options';

interface InFlight<V> {
  controller: AbortController;
  promise: Promise<V | undefined>;
}

export interface FetchHost<V> {
  /** Stores a fetched value (called only while the fetch is still current). */
  store(key: string, value: V, options: FetchOptions<V>): void;
  /** A fetch for a stale entry failed or returned undefined: the stale entry goes. */
  dropStale(key: string): void;
  /** Called whenever the number of fetches in flight changes. */
  onChange(inFlight: number): void;
}

const ignore = (): void => {};

export class Fetches<V> {
  #method: FetchMethod<V>;
  #host: FetchHost<V>;
  #inFlight = new Map<string, InFlight<V>>();

  constructor(method: FetchMethod<V>, host: FetchHost<V>) {
    this.#method = method;
    this.#host = host;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  /** The fetch of `key` in flight, or a new one. `stale` is the expired value, if there is one. */
  start(key: string, stale: V | undefined, hadStale: boolean, options: FetchOptions<V>): Promise<V | undefined> {
    const running = this.#inFlight.get(key);
    if (running) return running.promise;
    const controller = new AbortController();
    const outer = options.signal;
    if (outer) {
      if (outer.aborted) controller.abort(outer.reason);
      else outer.addEventListener('abort', () => this.abort(key, outer.reason), { once: true });
    }
    const record = { controller } as InFlight<V>;
    record.promise = this.#run(key, stale, hadStale, options, record);
    // Nobody may await a background refresh: its rejection must not be an unhandled one.
    record.promise.catch(ignore);
    this.#inFlight.set(key, record);
    this.#host.onChange(this.#inFlight.size);
    return record.promise;
  }

  async #run(key: string, stale: V | undefined, hadStale: boolean, options: FetchOptions<V>, record: InFlight<V>): Promise<V | undefined> {
    const signal = record.controller.signal;
    let value: V | undefined;
    try {
      value = await this.#method(key, stale, { signal, options, context: options.context });
    } catch (err) {
      if (this.#finish(key, record) && hadStale) this.#host.dropStale(key);
      throw err;
    }
    if (signal.aborted) throw signal.reason;
    if (!this.#finish(key, record)) throw new TmemError('ERR_TMEM_CLOSED', 'the fetch was superseded');
    if (value === undefined) {
      if (hadStale) this.#host.dropStale(key);
      return undefined;
    }
    this.#host.store(key, value, options);
    return value;
  }

  // Forgets a finished fetch; false when it was no longer the current one.
  #finish(key: string, record: InFlight<V>): boolean {
    if (this.#inFlight.get(key) !== record) return false;
    this.#inFlight.delete(key);
    this.#host.onChange(this.#inFlight.size);
    return true;
  }

  /** Aborts the fetch of `key`, if one runs. */
  abort(key: string, reason: unknown): void {
    const record = this.#inFlight.get(key);
    if (!record) return;
    this.#inFlight.delete(key);
    this.#host.onChange(this.#inFlight.size);
    record.controller.abort(reason);
  }

  abortAll(reason: unknown): void {
    for (const key of [...this.#inFlight.keys()]) this.abort(key, reason);
  }
}
