// Argument checks shared by every public entry point. They run before any state is touched, so a
// rejected call leaves everything exactly as it was.
//
// Typed arrays are checked through the intrinsic accessors of %TypedArray%.prototype, which read
// the object's internal slots: a subclass or an own property that lies about `byteLength`, a
// Proxy around a Uint8Array, or an object that merely inherits from Uint8Array.prototype cannot
// pass for memory it does not view. What the checks hand back is a plain view (or, for offsets,
// a private copy) made from those slots, so no code further down ever calls a method or getter of
// the caller's object: nothing a caller defines runs in the middle of a call, and a buffer that
// another thread changes (a SharedArrayBuffer) is read once where reading twice would matter.
//
// The one exception is checkPage, for the single-page hot paths: it returns the caller's own
// array, which may then only reach code that reads internal slots (N-API calls of a backend that
// says so with `inPlaceViews`); frontswap, cleancache and the swap file make a plain view
// (plainBytes) before any JavaScript touches it. A view costs ~450 instructions, a few percent
// of a single-page load.
import { types } from 'node:util';
import { PAGE_SIZE } from '../backends/types';

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;

function intrinsicGetter<T>(key: string | symbol): (this: unknown) => T {
  return Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get as (this: unknown) => T;
}

// toStringTag answers undefined for anything that is not a typed array (it never throws); the
// other three throw a TypeError for such objects, so they are only called after it.
const kindOf = intrinsicGetter<string | undefined>(Symbol.toStringTag);
const bufferOf = intrinsicGetter<ArrayBufferLike>('buffer');
const byteOffsetOf = intrinsicGetter<number>('byteOffset');
const byteLengthOf = intrinsicGetter<number>('byteLength');

/** 'Uint8Array', 'Uint32Array', ... for a real typed array (Buffer included), undefined for anything else. */
export function typedArrayKind(value: unknown): string | undefined {
  return kindOf.call(value);
}

/**
 * Pages to be stored, as bytes nobody else can change: a page in a SharedArrayBuffer is copied
 * first, since another thread could change it while a compressor reads it or between the two
 * reads of a writethrough store (pool and file would then hold different pages for one slot).
 * Anything else is used in place.
 */
export function unshared(view: Uint8Array): Uint8Array {
  return types.isSharedArrayBuffer(view.buffer) ? view.slice() : view;
}

/** A Uint32Array of any length, as a plain view of the same memory (for outputs; inputs get checkOffsets' copy). */
export function checkWords(name: string, value: unknown): Uint32Array {
  if (kindOf.call(value) !== 'Uint32Array') throw new TypeError(`${name} must be a Uint32Array, got ${describe(value)}`);
  const buffer = bufferOf.call(value);
  const offset = byteOffsetOf.call(value);
  const length = byteLengthOf.call(value) / 4;
  try {
    return new Uint32Array(buffer, offset, length);
  } catch (err) {
    throw detachedError(name, err);
  }
}

/** A Uint8Array (Buffer included) of any length, as a plain view of the same memory. */
export function checkBytes(name: string, value: unknown): Uint8Array {
  if (kindOf.call(value) !== 'Uint8Array') throw new TypeError(`${name} must be a Uint8Array or Buffer, got ${describe(value)}`);
  const buffer = bufferOf.call(value);
  const offset = byteOffsetOf.call(value);
  const length = byteLengthOf.call(value);
  try {
    return new Uint8Array(buffer, offset, length);
  } catch (err) {
    throw detachedError(name, err);
  }
}

// The only way a view of real memory cannot be re-made: its buffer was detached.
function detachedError(name: string, cause: unknown): TypeError {
  return new TypeError(`${name} views a detached ArrayBuffer`, { cause });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const kind = kindOf.call(value);
  if (kind !== undefined) return `a ${kind}`;
  if (ArrayBuffer.isView(value)) return 'a DataView';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** An integer in [min, max]; TypeError when not an integer number, RangeError when out of range. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * A Uint8Array (Buffer included) of exactly one page, checked through its internal slots and
 * returned as is: see the header for where it may go before plainBytes() makes a view of it.
 */
export function checkPage(name: string, value: unknown): Uint8Array {
  if (kindOf.call(value) !== 'Uint8Array') throw new TypeError(`${name} must be a Uint8Array or Buffer, got ${describe(value)}`);
  const length = byteLengthOf.call(value);
  if (length !== PAGE_SIZE) throw new RangeError(`${name} must be ${PAGE_SIZE} bytes (1 page of ${PAGE_SIZE}), got ${length}`);
  return value as Uint8Array;
}

/** A plain view of what checkPage (or a check before it) let through. */
export function plainBytes(value: Uint8Array): Uint8Array {
  return checkBytes('page', value);
}

/** A Uint8Array (Buffer included) of exactly `pages` pages, as a plain view of the same memory. */
export function checkPages(name: string, value: unknown, pages = 1): Uint8Array {
  const view = checkBytes(name, value);
  if (view.byteLength !== pages * PAGE_SIZE) {
    throw new RangeError(
      `${name} must be ${pages * PAGE_SIZE} bytes (${pages} page${pages === 1 ? '' : 's'} of ${PAGE_SIZE}), got ${view.byteLength}`,
    );
  }
  return view;
}

/**
 * A private copy of a Uint32Array of offsets, each in [min, limit). Batch calls work on the copy
 * only: the caller's array may share memory with a page buffer the call writes, or be changed by
 * another thread meanwhile, and neither may change which slots the call touches.
 */
export function checkOffsets(name: string, value: unknown, limit: number, min = 0): Uint32Array {
  const view = checkWords(name, value);
  const copy = new Uint32Array(view.length);
  copy.set(view);
  for (let i = 0; i < copy.length; i++) {
    if (copy[i] < min || copy[i] >= limit) {
      throw new RangeError(`${name}[${i}] = ${copy[i]} is out of range (valid: ${min} to ${limit - 1})`);
    }
  }
  return copy;
}

/** RangeError unless `offsets` (a private copy) holds no offset twice. */
export function checkDistinct(name: string, offsets: Uint32Array): void {
  if (offsets.length < 2) return;
  const sorted = offsets.slice().sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new RangeError(`${name} must be distinct; ${sorted[i]} appears twice`);
  }
}

/**
 * An output array of flags for an n-entry batch (at least n entries), as a plain view. Batch calls
 * fill a private array and copy it here only at the end, so an output that shares memory with an
 * input cannot change what the call reads.
 */
export function checkFlags(name: string, value: unknown, n: number): Uint8Array {
  const view = checkBytes(name, value);
  if (view.length < n) throw new RangeError(`${name} must be a Uint8Array of at least ${n} entries, got ${view.length}`);
  return view;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/** Rejects keys that are not in `known`, so a misspelt option fails loudly instead of being ignored. */
export function checkOptionKeys(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`unknown ${what} option '${key}' (known: ${known.join(', ')})`);
    }
  }
}

/**
 * The options as a snapshot: each own enumerable property read exactly once (a getter cannot
 * answer one thing to the check and another to the use), nothing inherited (a polluted
 * Object.prototype adds no options).
 */
export function checkOptionsObject(what: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return Object.create(null) as Record<string, unknown>;
  if (
    options === null ||
    typeof options !== 'object' ||
    Array.isArray(options) ||
    ArrayBuffer.isView(options) ||
    options instanceof ArrayBuffer ||
    options instanceof SharedArrayBuffer
  ) {
    throw new TypeError(`${what} options must be an object, got ${describe(options)}`);
  }
  return Object.assign(Object.create(null) as Record<string, unknown>, options);
}
