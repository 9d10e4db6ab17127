// SwapCache's key index: key → a fixed record { run, start, length, flags, expires, ttl }, kept
// outside the V8 heap so that a key whose value is swapped out costs no JS object. The native
// one (native/key_index.h, 20 B per record) is used when the addon loads; KeyIndexJs is the same
// structure in typed arrays for zcache-js and installs without the addon.
//
// A call that looks at a record reports its fields in `meta` (no object per call):
// meta[M_RUN], meta[M_START], ... ; put() sets meta[M_EXISTED] to 1 when the key was there.
import { swapCacheAddon } from './addon';
import { KeyIndexJs } from './key-index-js';

export const M_RUN = 0;
export const M_START = 1;
export const M_LENGTH = 2;
export const M_FLAGS = 3;
export const M_EXPIRES = 4;
export const M_TTL = 5;
export const M_EXISTED = 6;
export const META_LENGTH = 8;

/** Record flag: the value is in the resident tier, and `run` is its resident slot. */
export const RESIDENT = 1;
/** Runs and resident slots are numbered below this. */
export const MAX_RUN = 2 ** 30 - 1;
/** Longest key in UTF-8 bytes either index accepts. */
export const MAX_KEY_BYTES = 1 << 18;

export interface KeyIndex {
  readonly meta: Uint32Array;
  /** Number of keys. */
  readonly size: number;
  /** The id of `key`, or -1; meta holds its record. */
  find(key: string): number;
  /** Whether `id` is a live key; meta holds its record when it is. */
  findId(id: number): boolean;
  /**
   * Sets the record of `key` (added if absent) and returns its id; meta holds the old record.
   * run ≤ MAX_RUN, start ≤ 65535, and a value of 64 KiB or more starts at 0 (RangeError else).
   */
  put(key: string, run: number, start: number, length: number, flags: number, expires: number, ttl: number): number;
  update(id: number, run: number, start: number, length: number, flags: number, expires: number, ttl: number): void;
  /** entries: n × [id, start, length, expires, ttl]; each becomes a swapped value of `run`. */
  relocate(entries: Uint32Array, n: number, run: number): void;
  remove(id: number): void;
  /** Removes `key`; its id or -1, meta holds the removed record. */
  removeKey(key: string): number;
  /**
   * Removes each of ids[0..n) that is a swapped value of `run`; the removed ids are packed to the
   * front of `ids` and their lengths written to `lengths`. Returns how many.
   */
  removeIfRun(ids: Uint32Array, n: number, run: number, lengths: Uint32Array): number;
  keyOf(id: number): string;
  /** The lowest live id ≥ from, or -1; meta holds its record. */
  next(from: number): number;
  clear(): void;
  /** Moves every expiry time back by `delta` (times that would reach 0 become 1: expired). */
  rebaseExpiry(delta: number): void;
  /** Bytes of memory the index holds. */
  memoryBytes(): number;
  close(): void;
}

export type KeyIndexKind = 'native' | 'js';

/** The native index when the addon loads, else the typed-array one. */
export function defaultKeyIndexKind(): KeyIndexKind {
  return swapCacheAddon() ? 'native' : 'js';
}

export function createKeyIndex(kind: KeyIndexKind, maxKeyBytes: number): KeyIndex {
  const meta = new Uint32Array(META_LENGTH);
  if (kind === 'js') return new KeyIndexJs(meta, maxKeyBytes);
  const addon = swapCacheAddon();
  if (!addon) throw new TypeError("keyIndex 'native' needs the native addon, which could not be loaded");
  const index = new addon.KeyIndex(meta, maxKeyBytes) as KeyIndex;
  Object.defineProperty(index, 'meta', { value: meta });
  return index;
}
