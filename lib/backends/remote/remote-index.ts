// Where each remote page of a swap area is: RAMster's "remote pampd", kept next to the pool's own
// index. A page lives either in the pool or remotely, never both: remotify drops the pool entry in
// the same synchronous step that records the handle here, and every store, invalidate and
// exclusive load clears the handle. Handles (version · 256 + group, lib/remote/keys.ts) are exact
// integers in a double; 0 means "not remote". Chunks of CHUNK slots are allocated when their first
// page goes remote and freed with their last, so an area that keeps everything local costs one
// array of pointers.
const CHUNK_SHIFT = 12;
const CHUNK = 1 << CHUNK_SHIFT;

class AreaHandles {
  readonly chunks: (Float64Array | null)[];
  readonly counts: Uint16Array;
  pages = 0;

  constructor(slots: number) {
    const n = Math.ceil(slots / CHUNK);
    this.chunks = new Array<Float64Array | null>(n).fill(null);
    this.counts = new Uint16Array(n);
  }
}

export class RemoteIndex {
  readonly #areas: (AreaHandles | null)[] = [];
  /** Remote pages over all areas. */
  pages = 0;

  initArea(type: number, slots: number): void {
    this.#areas[type] = new AreaHandles(slots);
  }

  /** Remote pages of one area. */
  pagesOf(type: number): number {
    return this.#areas[type]?.pages ?? 0;
  }

  get(type: number, offset: number): number {
    const a = this.#areas[type];
    const chunk = a ? a.chunks[offset >>> CHUNK_SHIFT] : null;
    return chunk ? chunk[offset & (CHUNK - 1)] : 0;
  }

  set(type: number, offset: number, handle: number): void {
    const a = this.#areas[type]!;
    const c = offset >>> CHUNK_SHIFT;
    const chunk = (a.chunks[c] ??= new Float64Array(CHUNK));
    if (chunk[offset & (CHUNK - 1)] === 0) {
      a.counts[c]++;
      a.pages++;
      this.pages++;
    }
    chunk[offset & (CHUNK - 1)] = handle;
  }

  /** Clears the slot and returns its handle (0 when the page was not remote). */
  take(type: number, offset: number): number {
    const a = this.#areas[type];
    const c = offset >>> CHUNK_SHIFT;
    const chunk = a ? a.chunks[c] : null;
    if (!chunk) return 0;
    const h = chunk[offset & (CHUNK - 1)];
    if (h === 0) return 0;
    chunk[offset & (CHUNK - 1)] = 0;
    a!.pages--;
    this.pages--;
    if (--a!.counts[c] === 0) a!.chunks[c] = null;
    return h;
  }

  /** Calls `each(offset, handle)` for every remote page of the area, then forgets the area. */
  dropArea(type: number, each: (offset: number, handle: number) => void): void {
    const a = this.#areas[type];
    if (!a) return;
    for (let c = 0; c < a.chunks.length; c++) {
      const chunk = a.chunks[c];
      if (!chunk) continue;
      for (let i = 0; i < CHUNK; i++) if (chunk[i] !== 0) each((c << CHUNK_SHIFT) + i, chunk[i]);
    }
    this.pages -= a.pages;
    this.#areas[type] = null;
  }
}
