// A zcache backend's remote side (RAMster on a Redis Cluster, lib/remote/): the remote index, the
// delete queue, remotify in front of the writeback mechanics and the remote-aware frontswap ops,
// wired around the backend's own pool. Both backends create one when `remote` is configured and
// pass their pool's RemotePool; without `remote` none of this exists.
import type { RemoteTier } from '../../remote/tier';
import type { CounterSet, FrontswapOps } from '../types';
import type { WritebackMechanics } from '../writeback-policy';
import { DeleteQueue } from './delete-queue';
import { RemoteFrontswap } from './remote-frontswap';
import { RemoteIndex } from './remote-index';
import type { RemotePool, RemoteState } from './remote-pool';
import { Remotify } from './remotify';

/** What the registry hands a backend factory when `remote` is configured. */
export interface RemoteSetup {
  readonly tier: RemoteTier;
  readonly writethrough: boolean;
}

export class RemoteAttachment {
  readonly state: RemoteState;
  readonly #deletes: DeleteQueue;
  #remotify: Remotify | null = null;

  constructor(setup: RemoteSetup, pool: RemotePool) {
    this.state = { tier: setup.tier, pool, index: new RemoteIndex(), areas: [], writethrough: setup.writethrough };
    this.#deletes = new DeleteQueue(setup.tier);
  }

  /** The backend's writeback mechanics with remotify as their first step. */
  mechanics(inner: WritebackMechanics): WritebackMechanics {
    this.#remotify = new Remotify(inner, this.state, this.#deletes);
    return this.#remotify;
  }

  /** The pool's frontswap ops, extended to the pages held remotely. */
  frontswap(ops: FrontswapOps): RemoteFrontswap {
    return new RemoteFrontswap(ops, this.state, this.#deletes);
  }

  /** The `ramster/` counters. */
  stats(): CounterSet {
    return this.state.tier.stats();
  }

  /**
   * Stops remotify and closes the tier (purging this process's keys). The registry has brought
   * every remote page back to its swap file before (frontswap.shrink(0) on unload).
   */
  async close(): Promise<void> {
    if (this.#remotify) await this.#remotify.stop();
    await this.#deletes.flush();
    await this.state.tier.close();
  }
}
