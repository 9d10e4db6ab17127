// A process namespace and what the tier knows about its groups (worker side).
//
// Canaries. Each group gets a small canary key, written (with WAIT) by the first batch into the
// group, and after that every batch checks it exists in the same pipeline as its MSET. A master
// that restarted empty, or a FLUSHALL, removes the canary with the pages; the next batch or the
// periodic check (canary.ts) then finds it missing. Then every page acknowledged in that group so
// far is lost: it was written before the wipe (a batch after the wipe fails its EXISTS on the
// same connection). The loss is recorded as a version watermark — pages of the group with a
// version below it are lost — in a table the main thread reads too, and the group starts over
// with a fresh canary. `epoch` tells a late reply of an older batch or check from a new loss.
import { GROUPS, GroupKeys, namespaceName } from './keys';
import { identitySeed, Kind } from './format';

export class Namespace {
  readonly name: string;
  readonly keys: GroupKeys;
  /** identitySeed per Kind. */
  readonly seeds: readonly [number, number];
  /** 1 once the group's canary is known written and replicated. */
  readonly canary = new Uint8Array(GROUPS);
  /** Bumped at every loss of the group. */
  readonly epoch = new Uint32Array(GROUPS);

  constructor(
    readonly id: number,
    /** Versions from here on are written under this namespace. */
    readonly fromVersion: number,
  ) {
    this.name = namespaceName(id);
    this.keys = new GroupKeys(this.name);
    this.seeds = [identitySeed(id, Kind.Pers), identitySeed(id, Kind.Eph)];
  }
}

/** Per group: pages with floor[g] <= version < below[g] are lost. Lives in shared memory. */
export class LossTable {
  static readonly BYTES = GROUPS * 2 * 8;
  readonly #floor: Float64Array;
  readonly #below: Float64Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    this.#floor = new Float64Array(buffer, byteOffset, GROUPS);
    this.#below = new Float64Array(buffer, byteOffset + GROUPS * 8, GROUPS);
  }

  record(group: number, floor: number, below: number): void {
    // floor first: a reader between the two stores sees the old (narrower or empty) range.
    this.#floor[group] = floor;
    this.#below[group] = below;
  }

  lost(group: number, version: number): boolean {
    return version < this.#below[group] && version >= this.#floor[group];
  }
}
