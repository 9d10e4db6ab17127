// Size classes of the zsmalloc-class allocator (after mm/zsmalloc.c). An object of n bytes takes a
// slot of the smallest class size >= n; sizes run from 32 B in 16 B steps to 4096. A class packs its
// slots back to back into zspages: chains of 1..maxChain frames, so that a slot may straddle the
// boundary between two frames. Each class picks its chain length once, here:
//   - the best chain is the one whose slots use the largest share of its frames;
//   - a shorter chain within CHAIN_TOLERANCE of that share is preferred, since every class keeps up
//     to one partly used zspage, and a long chain makes that tail cost more frames.
// maxChain is MAX_CHAIN but for small pools (chainFor): with ~100 classes each keeping a partly
// used zspage, chains of 8 frames would take much of a pool of a few hundred frames.
// Adjacent sizes whose (frames, slots) come out the same are merged into the largest of them, as
// the kernel does: they would use frames the same way, and fewer classes mean fewer partly used
// zspages. The sizes above the huge watermark (HUGE_SIZE) all come out as one slot per frame, so
// they merge into the 4096 class: such an object takes a whole frame.
import { PAGE_SIZE } from '../types';

export const MIN_SIZE = 32;
export const SIZE_STEP = 16;
export const MAX_CHAIN = 8;
const CHAIN_TOLERANCE = 0.02;
/** Frames of pool cap per frame of chain: the partly used zspages take at most ~1/20 of the cap. */
const FRAMES_PER_CHAIN_FRAME = 1024;
const NSIZES = (PAGE_SIZE - MIN_SIZE) / SIZE_STEP + 1;

/** Geometry of one (merged) class. */
export interface ClassGeometry {
  /** Slot size in bytes: objects up to this size go here. */
  readonly size: number;
  /** Frames per zspage. */
  readonly pages: number;
  /** Slots per zspage. */
  readonly objs: number;
}

/** A pool's classes: ascending sizes (a class id indexes `classes`), and the class of a size. */
export interface SizeClasses {
  readonly classes: readonly ClassGeometry[];
  /** Class id of an object of `size` bytes (1..PAGE_SIZE). */
  classOf(size: number): number;
  /** Largest size packed more than one object per frame; bigger objects take a whole frame. */
  readonly hugeSize: number;
}

/** The longest chain for a pool of `maxFrames` frames. */
export function chainFor(maxFrames: number): number {
  return Math.max(1, Math.min(MAX_CHAIN, Math.floor(maxFrames / FRAMES_PER_CHAIN_FRAME)));
}

function pick(size: number, maxChain: number): { pages: number; objs: number } {
  let best = 0;
  const use = new Float64Array(maxChain + 1);
  for (let k = 1; k <= maxChain; k++) {
    use[k] = (Math.floor((k * PAGE_SIZE) / size) * size) / (k * PAGE_SIZE);
    if (use[k] > best) best = use[k];
  }
  let k = 1;
  while (use[k] < best - CHAIN_TOLERANCE) k++;
  return { pages: k, objs: Math.floor((k * PAGE_SIZE) / size) };
}

function build(maxChain: number): SizeClasses {
  const bySize: ClassGeometry[] = [];
  // From the largest size down, so that a merged class keeps the largest size of its group.
  const indexOfSize = new Int32Array(NSIZES);
  for (let i = NSIZES - 1; i >= 0; i--) {
    const size = MIN_SIZE + i * SIZE_STEP;
    const g = pick(size, maxChain);
    const prev = bySize[bySize.length - 1];
    if (!prev || prev.pages !== g.pages || prev.objs !== g.objs) bySize.push({ size, ...g });
    indexOfSize[i] = bySize.length - 1;
  }
  // Ascending order of size for the class ids.
  const n = bySize.length;
  const of = new Uint8Array(NSIZES);
  for (let i = 0; i < NSIZES; i++) of[i] = n - 1 - indexOfSize[i];
  const classes = bySize.reverse();
  return {
    classes,
    classOf: (size) => of[size <= MIN_SIZE ? 0 : (size - MIN_SIZE + SIZE_STEP - 1) >> 4],
    hugeSize: classes[n - 2].size,
  };
}

const built: SizeClasses[] = [];

/** The classes with chains of at most `maxChain` frames (made once per chain length). */
export function sizeClasses(maxChain: number): SizeClasses {
  return (built[maxChain] ??= build(maxChain));
}
