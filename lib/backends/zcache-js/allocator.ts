// What the pure-JS zcache asks of an allocator (the kernel's zpool): place an object of n bytes in
// the pool's frames, read and write it, free it. Two allocators: zsmalloc-class size classes
// (zsmalloc.ts, the default) and zbud (zbud.ts).
//
// Objects may move (zsmalloc compacts), so callers never keep where an object is anywhere but in
// one index entry, its owner: alloc() is told the owner's id (a number of the caller's, per pool)
// and returns the object's location, which the owner stores; when the allocator moves the object
// it calls onMove(pool, owner, location) and the owner stores the new one. The owner's entry is
// the handle, so no separate handle table is needed.
//
// Both pools of zcache, persistent (frontswap pages) and ephemeral (cleancache pages), live in one
// allocator and draw on its one FrameStore, so they share the cap; but they never share a frame, so
// that the frames of each can be counted and the ephemeral ones given up first.
//
// The allocator does not keep an object's exact length (the caller's index does, as zswap's entry
// does): writeback walks the entries' LRU, not the frames.
import type { AllocatorName } from '../options';
import type { CounterSet } from '../types';
import type { FrameStore } from './frames';

/** The pool of persistent (frontswap) pages. */
export const PERS = 0;
/** The pool of ephemeral (cleancache) pages. */
export const EPH = 1;
export type PoolId = typeof PERS | typeof EPH;

/** Tells an object's owner (0..2^31-1, the caller's id within the pool) where the object went. */
export type MoveListener = (pool: PoolId, owner: number, location: number) => void;

export interface Allocator {
  readonly name: AllocatorName;
  readonly frames: FrameStore;
  /** Called for each object moved (by compaction): its owner must store the new location. */
  onMove: MoveListener;
  /**
   * Reserves room for `size` bytes (1..PAGE_SIZE) in pool `pool` for `owner`. Returns the object's
   * location (a u32), or -1 when no frame could be had (frames.lastFail says why).
   */
  alloc(size: number, pool: PoolId, owner: number): number;
  /** Records another owner for the object at `location` (one whose id was not known at alloc). */
  setOwner(location: number, owner: number): void;
  free(location: number): void;
  /**
   * The first `len` bytes of an object, readable at mapOffset of the buffer returned. The buffer
   * may be a scratch copy (an object that straddles two frames), valid until the next map().
   */
  map(location: number, len: number): Uint8Array;
  /** Offset of the bytes map() returned, in the buffer it returned. */
  readonly mapOffset: number;
  /** Writes `len` bytes from src[srcOff..] into the object. */
  write(location: number, src: Uint8Array, srcOff: number, len: number): void;
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
