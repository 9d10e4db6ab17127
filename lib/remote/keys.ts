// Key layout in the cluster. Every key of a process starts with its namespace S (a random 32-bit
// id in base36, claimed with a lease) and a group g (0-255) inside a hash tag, so a group is one
// slot on one master and a batch of pages is one MSET:
//
//   t{S.gg}<v>       a page; v = its version in base36, unique in S, so the key is written once
//   t{S.gg}:c        the group's canary (see canary.ts); ':' never appears in a version
//   t{S}:lease       the namespace lease (PX TTL, refreshed while the process lives)
//   tmem:namespaces  hash S → owner, so a later process can find namespaces whose lease expired
//
// Keys stay short (about 17 bytes) because the cluster pays per key. 256 groups spread one process's
// pages over 256 slots, hence over every master of a cluster of any practical size.
import calculateSlot from 'cluster-key-slot';

export const GROUPS = 256;
export const REGISTRY_KEY = 'tmem:namespaces';

/** The namespace's name: its 32-bit id in base36, 7 characters. */
export function namespaceName(id: number): string {
  return (id >>> 0).toString(36).padStart(7, '0');
}

/** The id of a namespace name, or -1 when `name` is not one. */
export function namespaceId(name: string): number {
  if (!/^[0-9a-z]{7}$/.test(name)) return -1;
  const id = parseInt(name, 36);
  return id <= 0xffffffff ? id : -1;
}

/** `t{S.gg}`: the prefix of every key of group g. */
export function groupPrefix(ns: string, group: number): string {
  return `t{${ns}.${(group + 0x100).toString(16).slice(1)}}`;
}

/** `t{S}:lease`: the namespace's lease. */
export function leaseKey(ns: string): string {
  return `t{${ns}}:lease`;
}

/** The keys of all groups of a namespace, and the slot each lands in. */
export class GroupKeys {
  readonly prefixes: string[];
  readonly canaries: string[];
  readonly slots = new Uint16Array(GROUPS);
  readonly lease: string;

  constructor(readonly ns: string) {
    this.prefixes = [];
    this.canaries = [];
    for (let g = 0; g < GROUPS; g++) {
      const prefix = groupPrefix(ns, g);
      this.prefixes.push(prefix);
      this.canaries.push(`${prefix}:c`);
      this.slots[g] = calculateSlot(prefix);
    }
    this.lease = leaseKey(ns);
  }

  /** Key of the page with `version` in `group`. */
  page(group: number, version: number): string {
    return this.prefixes[group] + version.toString(36);
  }
}

/** Slot of any key (hash tags honoured). */
export function slotOf(key: string): number {
  return calculateSlot(key);
}

/**
 * A remote page's handle, as the local index keeps it: version · 256 + group, an integer below
 * 2^53 (so a double, or a uint64 in the native index, holds it exactly).
 */
export function handleOf(version: number, group: number): number {
  return version * GROUPS + group;
}

export function handleVersion(handle: number): number {
  return Math.floor(handle / GROUPS);
}

export function handleGroup(handle: number): number {
  return handle % GROUPS;
}
