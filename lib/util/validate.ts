// Argument checks shared by every public entry point. They run before any state is touched, so a
// rejected call leaves everything exactly as it was.
import { PAGE_SIZE } from '../backends/types';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
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

/** A Uint8Array (Buffer included) of exactly `pages` pages. */
export function checkPages(name: string, value: unknown, pages = 1): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array or Buffer, got ${describe(value)}`);
  }
  if (value.byteLength !== pages * PAGE_SIZE) {
    throw new RangeError(
      `${name} must be ${pages * PAGE_SIZE} bytes (${pages} page${pages === 1 ? '' : 's'} of ${PAGE_SIZE}), got ${value.byteLength}`,
    );
  }
  return value;
}

/** A Uint32Array of offsets, each below `limit`. */
export function checkOffsets(name: string, value: unknown, limit: number): Uint32Array {
  if (!(value instanceof Uint32Array)) {
    throw new TypeError(`${name} must be a Uint32Array, got ${describe(value)}`);
  }
  for (let i = 0; i < value.length; i++) {
    if (value[i] >= limit) throw new RangeError(`${name}[${i}] = ${value[i]} is out of range (area has ${limit} slots)`);
  }
  return value;
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

export function checkOptionsObject(what: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what} options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}
