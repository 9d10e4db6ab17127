// Seals of the pages in one swap file: every page that leaves RAM for the file carries a CRC32C
// (and, on an encrypted area, is AES-256-GCM ciphertext with its tag) kept here, in memory, per
// slot; every read from the file is checked against it, so a flipped bit, a truncated and regrown
// file or a slot never written comes back as ERR_TMEM_CORRUPT, never as wrong bytes or zeros.
//
// Layout: flat typed arrays indexed by slot, no JS object per slot. `crcs` (4 B per slot) holds the
// CRC32C of the bytes on disk (the ciphertext when encrypted) XOR UNWRITTEN, so that a slot with no
// page in the file holds 0 and expects UNWRITTEN, which is not the CRC of the all-zero page a
// sparse or regrown file reads as; and a fresh table is all zeros, memory the kernel hands out
// untouched (a 2^28-slot area does not commit 1 GiB at swapon).
// With encryption, `tags` (16 B per slot) holds the GCM tag and `counters` (two words per slot, a
// 64-bit little-endian count) the number of times the slot was sealed; the nonce of a seal is
// (slot, count) in 12 bytes, so no nonce repeats under the area's key. The key is made here at
// swapon from crypto.randomBytes and never written anywhere (dm-crypt's random-key swap).
//
// Three writers seal pages: SwapFile (refused stores, writethrough, pages frontswap hands back),
// zcache-js writeback (sealPages) and the native pool's writeback (native/page_seal.cc), which
// gets these same arrays at initArea and writes their slots from its writeback thread. A slot is
// written by one of them at a time: the native pool seals a slot only while its entry is under
// writeback, and every JS mutation of that slot (store over it, invalidate, release) first waits
// for the batch (pool.h); reads of a slot under writeback hit the pool, never the file.
import * as crypto from 'node:crypto';
import { PAGE_SIZE } from '../backends/types';
import { crc32c } from '../util/crc32c';
import { TmemError } from '../util/errors';

const KEY_BYTES = 32;
const TAG_BYTES = 16;
const NONCE_BYTES = 12;

/**
 * The CRC a slot with no page in the file expects: ~CRC32C(4096 zero bytes). native/page_seal.cc
 * has the same constant.
 */
export const UNWRITTEN = ~crc32c(new Uint8Array(PAGE_SIZE)) >>> 0;

export class PageSeals {
  /** Area type, named in errors. */
  readonly type: number;
  readonly crcs: Uint32Array;
  /** GCM tag per slot, or null without encryption. */
  readonly tags: Uint8Array | null;
  /** Seal count per slot (low word, high word), or null without encryption. */
  readonly counters: Uint32Array | null;
  /** The area's AES-256 key, or null without encryption. */
  readonly key: Buffer | null;
  /** Reads that failed their check. */
  failures = 0;
  readonly #nonce = Buffer.alloc(NONCE_BYTES);
  #stage = new Uint8Array(0);

  constructor(type: number, pages: number, encrypt: boolean) {
    this.type = type;
    this.crcs = new Uint32Array(pages);
    this.tags = encrypt ? new Uint8Array(pages * TAG_BYTES) : null;
    this.counters = encrypt ? new Uint32Array(pages * 2) : null;
    this.key = encrypt ? crypto.randomBytes(KEY_BYTES) : null;
  }

  get encrypted(): boolean {
    return this.key !== null;
  }

  /**
   * Seals `count` pages of `src` (from page `first`) bound for slots `offset` onward and returns
   * the bytes to write: `src` itself, or (encrypted) the ciphertext in a staging buffer at page 0.
   * The seals are recorded at once: if the write then fails, the caller frees or rewrites the slots.
   */
  seal(offset: number, src: Uint8Array, first: number, count: number): { bytes: Uint8Array; first: number } {
    if (this.key === null) {
      for (let i = 0; i < count; i++) {
        const at = (first + i) * PAGE_SIZE;
        this.crcs[offset + i] = crc32c(src, 0, at, at + PAGE_SIZE) ^ UNWRITTEN;
      }
      return { bytes: src, first };
    }
    if (this.#stage.length < count * PAGE_SIZE) this.#stage = new Uint8Array(Math.max(count, 16) * PAGE_SIZE);
    for (let i = 0; i < count; i++) {
      const slot = offset + i;
      const cipher = crypto.createCipheriv('aes-256-gcm', this.key, this.#nextNonce(slot));
      const out = cipher.update(src.subarray((first + i) * PAGE_SIZE, (first + i + 1) * PAGE_SIZE));
      cipher.final();
      this.#stage.set(out, i * PAGE_SIZE);
      this.tags!.set(cipher.getAuthTag(), slot * TAG_BYTES);
      this.crcs[slot] = crc32c(this.#stage, 0, i * PAGE_SIZE, (i + 1) * PAGE_SIZE) ^ UNWRITTEN;
    }
    return { bytes: this.#stage, first: 0 };
  }

  /**
   * Checks the page read from slot `offset` into page `index` of `buf` and, when encrypted,
   * replaces it with the plaintext. On a failed check the page's bytes are zeroed (nothing read
   * stays behind) and ERR_TMEM_CORRUPT is thrown.
   */
  open(offset: number, buf: Uint8Array, index: number): void {
    const at = index * PAGE_SIZE;
    if (crc32c(buf, 0, at, at + PAGE_SIZE) !== (this.crcs[offset] ^ UNWRITTEN) >>> 0) {
      throw this.corrupt(offset, buf, index, 'checksum mismatch');
    }
    if (this.key === null) return;
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, this.#nonceOf(offset));
    decipher.setAuthTag(this.tags!.subarray(offset * TAG_BYTES, (offset + 1) * TAG_BYTES));
    const plain = decipher.update(buf.subarray(at, at + PAGE_SIZE));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      throw this.corrupt(offset, buf, index, 'authentication failed');
    }
    buf.set(plain, at);
    plain.fill(0);
  }

  /** The slot no longer has a page in the file (freed, or its page is elsewhere). */
  forget(offset: number): void {
    this.crcs[offset] = 0;
  }

  /** Counts a failed check, scrubs the page and makes the error (also for a short read). */
  corrupt(offset: number, buf: Uint8Array, index: number, why: string): TmemError {
    this.failures++;
    buf.fill(0, index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
    const err = new TmemError('ERR_TMEM_CORRUPT', `swap area ${this.type}: slot ${offset} failed its check (${why})`);
    return Object.assign(err, { area: this.type, offset });
  }

  #nextNonce(slot: number): Buffer {
    const c = this.counters!;
    c[slot * 2] = (c[slot * 2] + 1) >>> 0;
    if (c[slot * 2] === 0) c[slot * 2 + 1]++;
    return this.#nonceOf(slot);
  }

  #nonceOf(slot: number): Buffer {
    const c = this.counters!;
    this.#nonce.writeUInt32LE(slot, 0);
    this.#nonce.writeUInt32LE(c[slot * 2], 4);
    this.#nonce.writeUInt32LE(c[slot * 2 + 1], 8);
    return this.#nonce;
  }
}
