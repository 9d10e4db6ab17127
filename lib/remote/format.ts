// The value of one remote page: a 24-byte header and the payload (the page as the pool keeps it,
// LZ4-compressed or raw: opaque bytes here). Everything a load could get wrong is in the header and checked on every
// load: the key a value was fetched under only says where to look, not what came back.
//
//   0  u16  magic 0x5274 ('tR')
//   2  u8   format (1)
//   3  u8   flags: bit 0 ephemeral (cleancache) page; the others 0
//   4  u32  payload length
//   8  u32  version, low 32 bits         versions are unique per process namespace: a key is
//  12  u32  version, high bits            written once and never overwritten
//  16  u32  identity: CRC32C of (namespace id, kind, the page's identity words)
//  20  u32  CRC32C of bytes 0-19 and the payload
//
// All little-endian. A value that is missing (lost write, rolled-back failover, wiped master) is a
// miss; one whose CRC, identity, version or length disagrees is counted and also a miss. Either way
// the caller never sees bytes that are not the page it stored.
import { crc32c, crc32cWords } from './crc32c';

export const HEADER_BYTES = 24;
export const FORMAT = 1;
const MAGIC = 0x5274;

/** Largest payload: a page stored raw. */
export const MAX_PAYLOAD = 4096;

/** Whose page: frontswap (persistent) or cleancache (ephemeral). */
export enum Kind {
  Pers = 0,
  Eph = 1,
}

/** Identity words per page: frontswap (type, offset); cleancache (pool, 6 key words, index). */
export const IDENT_WORDS: readonly [number, number] = [2, 8];

const FLAG_EPH = 1;

/** Versions fit 45 bits so a handle (version · 256 + group) stays an exact double. */
export const MAX_VERSION = 2 ** 45 - 1;

/** The part of the identity field that is the same for every page of one namespace and kind. */
export function identitySeed(namespace: number, kind: Kind): number {
  return crc32cWords([namespace, kind]);
}

/** The identity field of the page whose identity words start at `idents[start]`: binds a value to its namespace and page. */
export function identityOf(seed: number, kind: Kind, idents: ArrayLike<number>, start: number): number {
  return crc32cWords(idents, seed, start, IDENT_WORDS[kind]);
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

function get32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Writes the header for `payload[start, start + length)` into `out[at, at + 24)`. The CRC covers
 * header and payload, so the two can live in different buffers (the header is sent as its own
 * part of the value).
 */
export function writeHeader(
  out: Uint8Array,
  at: number,
  kind: Kind,
  version: number,
  identity: number,
  payload: Uint8Array,
  start: number,
  length: number,
): void {
  out[at] = MAGIC & 0xff;
  out[at + 1] = MAGIC >>> 8;
  out[at + 2] = FORMAT;
  out[at + 3] = kind === Kind.Eph ? FLAG_EPH : 0;
  put32(out, at + 4, length);
  put32(out, at + 8, version >>> 0);
  put32(out, at + 12, Math.floor(version / 2 ** 32));
  put32(out, at + 16, identity);
  const crc = crc32c(payload, crc32c(out, 0, at, at + 20), start, start + length);
  put32(out, at + 20, crc);
}

/** What a load found. Shared by the worker and the main thread (results travel as these bytes). */
export enum ReadStatus {
  /** The page, verified. */
  Ok = 0,
  /** No value under the key on the master: lost or rolled back. */
  Missing = 1,
  /** No copy could be reached before the deadline. */
  Unavailable = 2,
  /** A value whose CRC does not match its bytes. */
  Corrupt = 3,
  /** A well-formed value for another page, version or namespace, or of another format. */
  Mismatch = 4,
  /** Its group was wiped (the canary was gone): known lost without asking. */
  Lost = 5,
}

/**
 * Checks a fetched value against what the local index says it must be. Returns Ok, Corrupt or
 * Mismatch; on Ok the payload is `value[HEADER_BYTES, HEADER_BYTES + payloadLength(value))`.
 */
export function verifyValue(value: Uint8Array, kind: Kind, version: number, identity: number): ReadStatus {
  if (value.length < HEADER_BYTES) return ReadStatus.Corrupt;
  const length = get32(value, 4);
  if (length > MAX_PAYLOAD || HEADER_BYTES + length !== value.length) return ReadStatus.Corrupt;
  if (crc32c(value, crc32c(value, 0, 0, 20), HEADER_BYTES, value.length) !== get32(value, 20)) return ReadStatus.Corrupt;
  if ((value[0] | (value[1] << 8)) !== MAGIC || value[2] !== FORMAT) return ReadStatus.Mismatch;
  if (value[3] !== (kind === Kind.Eph ? FLAG_EPH : 0)) return ReadStatus.Mismatch;
  if (get32(value, 8) !== version >>> 0 || get32(value, 12) !== Math.floor(version / 2 ** 32)) return ReadStatus.Mismatch;
  if (get32(value, 16) !== identity) return ReadStatus.Mismatch;
  return ReadStatus.Ok;
}

/** Payload length of a verified value. */
export function payloadLength(value: Uint8Array): number {
  return get32(value, 4);
}
