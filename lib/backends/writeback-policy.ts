// When, how much and how fast zcache writes cold pages back to the swap files (DESIGN §6). The
// mechanics (pick LRU frames, decompress, pwrite, free) are the backend's; this file only decides.
//
// Two paths, as in the kernel:
// - background writeback: once the pool passes the high watermark, batches are written back off
//   the caller's path until it is under the low watermark, with a cap on pages in flight and an
//   optional pause between batches (the native backend runs them on the libuv thread pool);
// - direct reclaim: a store refused because the pool is full writes a few pages back at once, on
//   the caller's thread, so a caller that never yields to the event loop still makes progress.
import { PAGE_SIZE } from './types';

export interface WritebackMechanics {
  /** Bytes of page frames the pool uses now. */
  poolBytes(): number;
  /** Writes up to `maxPages` least recently used persistent pages back; resolves with how many were written. */
  writeback(maxPages: number): Promise<number>;
  /** The same, synchronously on the caller's thread. */
  writebackSync(maxPages: number): number;
  /**
   * Compacts the pool (no I/O); returns the frames given back. Tried before writeback starts: when
   * holes left by freed pages are what fills the pool, compaction alone brings it back down.
   */
  compact?(): number;
}

export interface WritebackConfig {
  /** The pool's cap in bytes; watermarks are percentages of it. */
  maxPoolBytes: number;
  /** Background writeback starts at this fill level. */
  highWatermarkPercent: number;
  /** ... and stops once the pool is back under this one. */
  lowWatermarkPercent: number;
  /** Pages one background batch writes back. */
  batchPages: number;
  /** Upper bound on pages being written back at once (several batches may run together). */
  maxInFlightPages: number;
  /** Pause between background batches, to leave I/O bandwidth to the service. 0: none. */
  intervalMs: number;
  /** Pages written back synchronously when a store finds the pool full. 0 disables direct reclaim. */
  directReclaimPages: number;
}

export const WRITEBACK_DEFAULTS: Omit<WritebackConfig, 'maxPoolBytes'> = {
  highWatermarkPercent: 90,
  lowWatermarkPercent: 80,
  batchPages: 64,
  maxInFlightPages: 256,
  intervalMs: 0,
  directReclaimPages: 32,
};

export class WritebackPolicy {
  readonly #mech: WritebackMechanics;
  readonly #config: WritebackConfig;
  readonly #high: number;
  readonly #low: number;
  #inFlight = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  /** Refused stores left before direct reclaim is tried again after it wrote nothing. */
  #reclaimBackoff = 0;
  #reclaimSkip = 0;
  /** After a background batch that wrote nothing (a full or failing swap file), no new batch before this time. */
  #retryAt = 0;
  #retryDelayMs = 0;
  #idle: Promise<void> = Promise.resolve();
  #resolveIdle: (() => void) | null = null;
  /** Background batches that failed outright (not page-level I/O errors, which the backend counts). */
  errors = 0;

  constructor(mech: WritebackMechanics, config: WritebackConfig) {
    this.#mech = mech;
    this.#config = config;
    this.#high = (config.maxPoolBytes * config.highWatermarkPercent) / 100;
    this.#low = (config.maxPoolBytes * config.lowWatermarkPercent) / 100;
  }

  /** Pages being written back by background batches right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Call after a store that the pool accepted. */
  afterStore(): void {
    if (this.#inFlight !== 0 || this.#stopped || this.#mech.poolBytes() < this.#high) return;
    if (this.#retryDelayMs > 0 && performance.now() < this.#retryAt) return;
    this.#fill();
  }

  /** Call after a store refused because the pool is full. */
  onPoolFull(): void {
    if (this.#stopped) return;
    if (this.#config.directReclaimPages > 0) {
      if (this.#reclaimSkip > 0) {
        this.#reclaimSkip--;
      } else if (this.#mech.writebackSync(this.#config.directReclaimPages) > 0) {
        this.#reclaimBackoff = 0;
      } else {
        // Nothing could be written (a full or failing swap file): back off exponentially rather
        // than retry a failing pwrite on every refused store.
        this.#reclaimBackoff = Math.min(1024, this.#reclaimBackoff * 2 || 1);
        this.#reclaimSkip = this.#reclaimBackoff;
      }
    }
    this.afterStore();
  }

  /** Resolves once no background batch is running. */
  idle(): Promise<void> {
    return this.#idle;
  }

  /** Stops starting new batches; resolves when the running ones have finished. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#maybeIdle();
    return this.#idle;
  }

  // Compacts first (when the mechanics can) and stops there if that was enough. Then starts
  // batches until the in-flight cap is reached or the pages already in flight will bring the pool
  // under the low watermark (counting half a frame per page written back, zbud's worst case; the
  // denser allocators free less per page, so the estimate errs towards fewer batches in flight):
  // poolBytes() only drops once a batch lands.
  #fill(): void {
    this.#timer = null;
    if (this.#inFlight === 0 && this.#mech.compact && this.#mech.compact() > 0 && this.#mech.poolBytes() < this.#low) {
      this.#maybeIdle();
      return;
    }
    const { batchPages, maxInFlightPages } = this.#config;
    while (!this.#stopped && this.#inFlight + batchPages <= Math.max(maxInFlightPages, batchPages)) {
      if ((this.#inFlight * PAGE_SIZE) / 2 >= this.#mech.poolBytes() - this.#low) break;
      this.#busy();
      this.#inFlight += batchPages;
      this.#mech.writeback(batchPages).then(
        (written) => this.#done(written),
        () => {
          this.errors++;
          this.#done(0);
        },
      );
    }
    this.#maybeIdle();
  }

  #done(written: number): void {
    this.#inFlight -= this.#config.batchPages;
    if (written > 0) {
      this.#retryDelayMs = 0;
    } else {
      // Nothing written: the swap files cannot take writes right now. Retrying on every store
      // would only repeat failing pwrites, so wait, doubling up to 5 s.
      this.#retryDelayMs = Math.min(5000, this.#retryDelayMs * 2 || 10);
      this.#retryAt = performance.now() + this.#retryDelayMs;
    }
    if (written > 0 && !this.#stopped && this.#mech.poolBytes() >= this.#low) {
      if (this.#config.intervalMs > 0) {
        this.#timer ??= setTimeout(() => this.#fill(), this.#config.intervalMs).unref();
      } else {
        this.#fill();
      }
    }
    this.#maybeIdle();
  }

  #busy(): void {
    if (this.#resolveIdle) return;
    this.#idle = new Promise((resolve) => (this.#resolveIdle = resolve));
  }

  #maybeIdle(): void {
    if (this.#inFlight > 0 || this.#timer || !this.#resolveIdle) return;
    this.#resolveIdle();
    this.#resolveIdle = null;
  }
}
