// The Buffers get() hands out. A value is copied out of the resident ring or a run buffer because
// that memory is reused; the copy is the caller's. Node's Buffer.allocUnsafe already carves values
// under 4 KiB out of a shared 8 KiB pool, but gives every larger one an ArrayBuffer of its own: a
// malloc, fresh pages faulted in, and an ArrayBuffer the GC must sweep (at 4 KiB, profiled: malloc
// and free 23 %, page faults 24 %, the ArrayBuffer sweeper and glibc's arena lock 9 %, the copy
// itself 13 %). So copies from 4 KiB up to SLAB / 4 are carved out of a slab of SLAB bytes here,
// as Node's pool does for the small ones. The price is the pool's too: a copy the caller keeps
// keeps its slab alive (at most SLAB / 4 KiB = 16 times its size, when every other copy carved
// from that slab is gone), and its `.buffer` spans other copies handed out before and after it.
const SLAB = 64 * 1024;
const LARGEST = SLAB / 4;
/** Node's own pool takes sizes below this (Buffer.poolSize >>> 1, with the default poolSize). */
const NODE_POOLED = 4096;

let slab = Buffer.allocUnsafeSlow(0);
let used = 0;

/** A copy of `src` in a Buffer of its own length. */
export function copyValue(src: Uint8Array): Buffer {
  const n = src.byteLength;
  let out: Buffer;
  if (n < NODE_POOLED || n > LARGEST) {
    out = Buffer.allocUnsafe(n);
  } else {
    if (used + n > slab.length) {
      slab = Buffer.allocUnsafeSlow(SLAB);
      used = 0;
    }
    out = slab.subarray(used, used + n);
    used += (n + 7) & ~7;
  }
  out.set(src);
  return out;
}
