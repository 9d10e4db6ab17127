// When, how much and how fast zcache writes cold pages back to the swap files (DESIGN §6). The
// mechanics (pick LRU frames, decompress, pwrite, free) are the backend's; this file only decides.
//
// Two paths, as in the kernel:
// - background writeback: once the pool passes the high watermark, batches are written back off
//   the caller's path until it is under the low watermark, with a cap on pages in flight and an
//   optional pause between batches;
// - direct reclaim: a store refused because the pool is full writes a few pages back at once, on
//   the caller's thread, so a caller that never yields to the event loop still makes progress.

export interface WritebackMechanics {
  /** Bytes of page frames the pool uses now. */
  poolBytes(): number;
  /** Writes up to `maxPages` least recently used persistent pages back; resolves with how many were written. */
  writeback(maxPages: number): Promise<number>;
  /** The same, synchronously on the caller's thread. */
  writebackSync(maxPages: number): number;
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
  #timer = false;
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
    if (this.#inFlight === 0 && !this.#stopped && this.#mech.poolBytes() >= this.#high) this.#fill();
  }

  /** Call after a store refused because the pool is full. */
  onPoolFull(): void {
    if (this.#stopped) return;
    if (this.#config.directReclaimPages > 0) this.#mech.writebackSync(this.#config.directReclaimPages);
    this.afterStore();
  }

  /** Resolves once no background batch is running. */
  idle(): Promise<void> {
    return this.#idle;
  }

  /** Stops starting new batches; resolves when the running ones have finished. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#idle;
  }

  // Starts batches until the in-flight cap is reached or the pool is under the low watermark.
  // Backends mark frames under writeback, so batches running together never pick the same pages.
  #fill(): void {
    this.#timer = false;
    const { batchPages, maxInFlightPages } = this.#config;
    while (!this.#stopped && this.#inFlight + batchPages <= Math.max(maxInFlightPages, batchPages)) {
      if (this.#mech.poolBytes() < this.#low) break;
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
    if (written > 0 && !this.#stopped && this.#mech.poolBytes() >= this.#low) {
      if (this.#config.intervalMs > 0) {
        if (!this.#timer) {
          this.#timer = true;
          setTimeout(() => this.#fill(), this.#config.intervalMs).unref();
        }
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
