// Where the next batch goes (worker side): a healthy master, round robin, and one of the groups
// of the current namespace whose slot it serves, round robin too. A master whose batch failed
// (unreachable, OOM, NOREPLICAS, WAIT short) is skipped for a while, 250 ms doubling to 8 s; a
// success clears that. Writes thereby drain to the shards that acknowledge them.
import { performance } from 'node:perf_hooks';
import { GROUPS } from './keys';
import type { Namespace } from './namespace';
import type { Topology } from './store';

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 8000;

export class Placement {
  #backoff = new Map<number, { until: number; ms: number }>();
  #epoch = -1;
  #ns: Namespace | null = null;
  #groupsOf = new Map<number, number[]>();
  #masterTurn = 0;
  #groupTurn = new Map<number, number>();

  /** A healthy master and one of its groups; null when every master is backed off (or none serves a group). */
  next(topology: Topology, ns: Namespace): { node: number; group: number } | null {
    if (this.#epoch !== topology.epoch || this.#ns !== ns) {
      this.#groupsOf.clear();
      for (let g = 0; g < GROUPS; g++) {
        const m = topology.slotMaster[ns.keys.slots[g]];
        if (m < 0) continue;
        const list = this.#groupsOf.get(m);
        if (list) list.push(g);
        else this.#groupsOf.set(m, [g]);
      }
      this.#epoch = topology.epoch;
      this.#ns = ns;
    }
    const masters = [...this.#groupsOf.keys()];
    const now = performance.now();
    for (let k = 0; k < masters.length; k++) {
      const node = masters[(this.#masterTurn + k) % masters.length];
      const b = this.#backoff.get(node);
      if (b && b.until > now) continue;
      this.#masterTurn = (this.#masterTurn + k + 1) % masters.length;
      const groups = this.#groupsOf.get(node)!;
      const turn = this.#groupTurn.get(node) ?? 0;
      this.#groupTurn.set(node, turn + 1);
      return { node, group: groups[turn % groups.length] };
    }
    return null;
  }

  succeeded(node: number): void {
    this.#backoff.delete(node);
  }

  failed(node: number): void {
    const b = this.#backoff.get(node);
    const ms = b ? Math.min(b.ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
    this.#backoff.set(node, { until: performance.now() + ms, ms });
  }
}
