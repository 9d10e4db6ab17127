// Remote copies to delete (invalidations, exclusive loads, stores over a remote page, batches
// that landed for pages changed meanwhile), sent to the tier in batches: one message per
// BATCH handles, or at the end of the current tick for fewer. The tier retries failed deletes
// itself, and whatever a crash leaves behind is the next process's sweeper's.
import { Kind } from '../../remote/format';
import type { RemoteTier } from '../../remote/tier';

const BATCH = 256;

export class DeleteQueue {
  readonly #tier: RemoteTier;
  #handles = new Float64Array(BATCH);
  #n = 0;
  #scheduled = false;
  #sending: Promise<void> = Promise.resolve();

  constructor(tier: RemoteTier) {
    this.#tier = tier;
  }

  push(handle: number): void {
    this.#handles[this.#n++] = handle;
    if (this.#n === BATCH) this.#send();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#send());
    }
  }

  /** Sends what is queued; resolves when every delete sent so far was handled. */
  flush(): Promise<void> {
    this.#send();
    return this.#sending;
  }

  #send(): void {
    this.#scheduled = false;
    if (this.#n === 0) return;
    const handles = this.#handles.slice(0, this.#n);
    this.#n = 0;
    // A closed tier purges the namespace anyway: nothing to retry then.
    const sent = this.#tier.deletePages(Kind.Pers, handles).catch(() => {});
    this.#sending = Promise.all([this.#sending, sent]).then(() => {});
  }
}
