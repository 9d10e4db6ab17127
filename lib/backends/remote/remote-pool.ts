// What a pool offers the remote tier (both zcache backends implement it; pool.h "Remote tier" has
// the protocol and its races), and the state the remote frontswap ops and remotify share.
import type { RemoteTier } from '../../remote/tier';
import type { AreaInfo } from '../types';
import type { RemoteIndex } from './remote-index';

export interface RemotePool {
  /**
   * Picks up to lengths.length coldest persistent objects (second chance), copies each one's stored
   * bytes to payloads[i * 4096 ...] with lengths[i], types[i] and offsets[i], and marks them picked:
   * still loadable, but a store, invalidate or exclusive load drops them without waiting. Returns
   * how many were picked; 0 while an earlier pick is not finished. Same-filled pages are never picked.
   */
  remotePick(payloads: Uint8Array, lengths: Uint32Array, types: Uint32Array, offsets: Uint32Array): number;
  /**
   * Finishes the picked batch: entry i still as picked is dropped when ok[i] is 1 (committed[i] =
   * 1) or goes back to the cold end of the LRU. Entries changed meanwhile stay as they are with
   * committed[i] = 0. Returns the pages committed.
   */
  remoteFinish(ok: Uint8Array, committed: Uint8Array): number;
  /** Turns stored bytes (an LZ4 block, or a raw page of 4096) back into the page; false if corrupt. */
  decompress(payload: Uint8Array, into: Uint8Array): boolean;
}

/** Everything the remote side of a backend shares. */
export interface RemoteState {
  readonly tier: RemoteTier;
  readonly pool: RemotePool;
  readonly index: RemoteIndex;
  /** Each area's swap file (fd and page seals; writethrough writes there), by type; null once gone. */
  readonly areas: (AreaInfo | null)[];
  /** Remotify also writes each page to its swap-file slot, so a lost shard costs a file read. */
  readonly writethrough: boolean;
}
