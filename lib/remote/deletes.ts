// Deleting remote copies (worker side): by key, grouped per master, with a backlog of keys whose
// delete failed or whose write may have landed after the tier gave up on it. The backlog is retried
// in the background (maintenance.ts); anything still in it when the process dies is removed by
// the next process's sweeper, and `close()` purges the namespace anyway. No key is leaked for good.
import { C, type Counters } from './counters';
import { slotOf } from './keys';
import { RemoteFailure, type RemoteStore } from './store';

/** Keys kept for a later retry at most; beyond, the sweeper or the purge at close removes them. */
const BACKLOG_MAX = 1 << 20;

export class DeleteQueue {
  #backlog: string[] = [];

  constructor(
    private readonly store: RemoteStore,
    private readonly counters: Counters,
    private readonly timeoutMs: number,
    /** Called when a delete met MOVED: the slot map is stale. */
    private readonly stale: () => void,
  ) {}

  /** Keys to delete later. */
  queue(keys: readonly string[]): void {
    for (const k of keys) {
      if (this.#backlog.length >= BACKLOG_MAX) break;
      this.#backlog.push(k);
    }
    this.counters.set(C.remote_delete_backlog, this.#backlog.length);
  }

  /** Retries the backlog once; what fails again stays in it. */
  async retry(): Promise<void> {
    if (this.#backlog.length === 0) return;
    this.queue(await this.run(this.#backlog.splice(0)));
  }

  /** Deletes keys on their masters; returns the keys whose delete failed. */
  async run(keys: readonly string[]): Promise<string[]> {
    const byNode = new Map<number, string[]>();
    const failed: string[] = [];
    const topology = this.store.topology;
    for (const k of keys) {
      const node = topology.slotMaster[slotOf(k)];
      if (node < 0) failed.push(k);
      else if (byNode.has(node)) byNode.get(node)!.push(k);
      else byNode.set(node, [k]);
    }
    await Promise.all(
      [...byNode].map(async ([node, list]) => {
        const r = await this.store.del(node, list, this.timeoutMs);
        if (!(r instanceof RemoteFailure)) return;
        failed.push(...list);
        if (r.kind === 'moved') this.stale();
      }),
    );
    return failed;
  }
}
