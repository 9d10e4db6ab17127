// What the pure-JS zcache asks of an allocator (the kernel's zpool): place an object of n bytes in
// the pool's frames and name it by a handle, read and write it through the handle, free it. Two
// allocators: zsmalloc-class size classes (zsmalloc.ts, the default) and zbud (zbud.ts).
//
// Both pools of zcache, persistent (frontswap pages) and ephemeral (cleancache pages), live in one
// allocator and draw on its one FrameStore, so they share the cap; but they never share a frame, so
// that the frames of each can be counted and the ephemeral ones given up first.
//
// The allocator does not keep an object's exact length (the caller's index does, as zswap's entry
// does), nor who owns it: writeback walks the entries' LRU, not the frames.
import type { AllocatorName } from '../options';
import type { CounterSet } from '../types';
import type { FrameStore } from './frames';

/** The pool of persistent (frontswap) pages. */
export const PERS = 0;
/** The pool of ephemeral (cleancache) pages. */
export const EPH = 1;
export type PoolId = typeof PERS | typeof EPH;

export interface Allocator {
  readonly name: AllocatorName;
  readonly frames: FrameStore;
  /**
   * Reserves room for `size` bytes (1..PAGE_SIZE) in pool `pool`. Returns the handle, or -1 when no
   * frame could be had (frames.lastFail says why).
   */
  alloc(size: number, pool: PoolId): number;
  free(handle: number): void;
  /**
   * The first `len` bytes of an object, readable at mapOffset of the buffer returned. The buffer
   * may be a scratch copy (an object that straddles two frames), valid until the next map().
   */
  map(handle: number, len: number): Uint8Array;
  /** Offset of the bytes map() returned, in the buffer it returned. */
  readonly mapOffset: number;
  /** Writes `len` bytes from src[srcOff..] into the object. */
  write(handle: number, src: Uint8Array, srcOff: number, len: number): void;
  /** Frames held by a pool. */
  framesOf(pool: PoolId): number;
  /** Bytes the objects of a pool take in their frames (their slot or chunk sizes). */
  zbytesOf(pool: PoolId): number;
  /** Moves objects out of sparsely used frames and frees the frames emptied; returns how many. */
  compact(): number;
  /** Bytes of bookkeeping held (frame metadata, handle tables, per-slot arrays). */
  readonly metadataBytes: number;
  /** The allocator's own debugfs directories (e.g. { zsmalloc: {...} }). */
  stats(): Record<string, CounterSet>;
  /** Drops every object and all storage. */
  release(): void;
}
