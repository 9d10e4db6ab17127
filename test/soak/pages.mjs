// Page and value contents for the differential workload, derived from an id so that the model
// keeps one number per page instead of a copy of it. Ids map onto the kinds a swap sees: zero and
// other same-filled pages, compressible text, incompressible random bytes and half-and-half
// pages, each stamped with its id so that no two stored pages are alike.
import { rng } from '../support/rng.mjs';

const PAGE = 4096;
const LIB_PAGES = 48;

export class PageSource {
  /** LIB_PAGES pages of text, random and mixed bytes, one buffer; values are windows into it. */
  #lib;
  #scratch = new Uint8Array(PAGE);
  #view;

  constructor(seed) {
    const rand = rng(seed);
    this.#lib = new Uint8Array(LIB_PAGES * PAGE);
    const text = Buffer.from(
      Array.from({ length: 400 }, (_, i) => `{"id":${i * 7919},"user":"u${i % 97}","ok":${i % 3 === 0}},`).join(''),
      'latin1',
    );
    for (let p = 0; p < LIB_PAGES; p++) {
      const base = p * PAGE;
      for (let i = 0; i < PAGE; i++) {
        const kind = p % 3;
        const random = kind === 1 || (kind === 2 && i >= PAGE / 2);
        this.#lib[base + i] = random ? (rand() * 256) | 0 : text[(i + p * 131) % text.length];
      }
    }
    this.#view = new DataView(this.#scratch.buffer);
  }

  /** Writes page `id` into dst[at .. at+4096). */
  fill(id, dst, at = 0) {
    const kind = id % 8;
    if (kind < 2) {
      // Same-filled: zero, or a word derived from the id.
      const word = kind === 0 ? 0 : Math.imul(id, 0x9e3779b1) >>> 0;
      const v = new DataView(dst.buffer, dst.byteOffset + at, PAGE);
      for (let i = 0; i < PAGE; i += 4) v.setUint32(i, word, true);
      return;
    }
    const src = ((id >>> 3) % LIB_PAGES) * PAGE;
    dst.set(this.#lib.subarray(src, src + PAGE), at);
    const v = new DataView(dst.buffer, dst.byteOffset + at, PAGE);
    v.setUint32(0, id, true);
    v.setUint32(PAGE - 4, id, true);
  }

  /** True when src[at .. at+4096) holds page `id`. */
  equals(id, src, at = 0) {
    this.fill(id, this.#scratch, 0);
    return Buffer.compare(this.#scratch, src.subarray(at, at + PAGE)) === 0;
  }

  /** A value of `length` bytes (for SwapCache): a window of the library, stamped with the id. */
  value(id, length) {
    const out = new Uint8Array(length);
    const span = this.#lib.length - length;
    const start = span > 0 ? (Math.imul(id, 2654435761) >>> 0) % span : 0;
    out.set(this.#lib.subarray(start, start + Math.min(length, this.#lib.length)));
    if (length >= 4) new DataView(out.buffer).setUint32(0, id, true);
    return out;
  }

  valueEquals(id, length, got) {
    return got instanceof Uint8Array && got.byteLength === length && Buffer.compare(this.value(id, length), got) === 0;
  }
}
