// How a facade turns values into bytes. The default keeps bytes as bytes (and copies them, so
// neither side can change the other's buffer later).
import * as v8 from 'node:v8';
import { TmemError } from '../util/errors';
import { describe } from '../util/validate';

export interface Serializer<V> {
  serialize(value: V): Uint8Array;
  deserialize(bytes: Uint8Array): V;
}

export type SerializerOption<V> = 'v8' | 'json' | Serializer<V>;

const bytesSerializer: Serializer<Uint8Array> = {
  serialize(value) {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`value must be a Uint8Array or Buffer (or set a serializer), got ${describe(value)}`);
    }
    return value;
  },
  deserialize: (bytes) => Buffer.from(bytes),
};

const v8Serializer: Serializer<unknown> = {
  serialize: (value) => v8.serialize(value),
  deserialize: (bytes) => v8.deserialize(bytes),
};

const jsonSerializer: Serializer<unknown> = {
  serialize(value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`value is not JSON-serializable: ${describe(value)}`);
    return Buffer.from(text);
  },
  deserialize: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')),
};

export function resolveSerializer<V>(option: SerializerOption<V> | undefined): Serializer<V> {
  if (option === undefined) return bytesSerializer as unknown as Serializer<V>;
  if (option === 'v8') return v8Serializer as Serializer<V>;
  if (option === 'json') return jsonSerializer as Serializer<V>;
  if (typeof option === 'object' && option !== null && typeof option.serialize === 'function' && typeof option.deserialize === 'function') {
    return option;
  }
  throw new TypeError(`serializer must be 'v8', 'json' or { serialize, deserialize }, got ${describe(option)}`);
}

const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsic = (name: string) => Object.getOwnPropertyDescriptor(typedArrayProto, name)!.get!;
const realBuffer = intrinsic('buffer');
const realOffset = intrinsic('byteOffset');
const realLength = intrinsic('byteLength');

/**
 * A plain Uint8Array over exactly the memory `bytes` covers, read through the intrinsic getters:
 * a subclass that overrides byteLength (or buffer, byteOffset) cannot make a copy read or write
 * past the value.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(realBuffer.call(bytes) as ArrayBuffer, realOffset.call(bytes) as number, realLength.call(bytes) as number);
}

/**
 * serialize() with its failures coded: ERR_TMEM_SERIALIZE with the serializer's error as the
 * cause. A TypeError from the built-in checks (bytes mode given a non-Uint8Array, JSON given
 * undefined) is bad input and stays a TypeError.
 */
export function serializeValue<V>(s: Serializer<V>, value: V): Uint8Array {
  let bytes: unknown;
  try {
    bytes = s.serialize(value);
  } catch (err) {
    if (err instanceof TypeError && (s === (bytesSerializer as unknown) || s === (jsonSerializer as unknown))) throw err;
    throw new TmemError('ERR_TMEM_SERIALIZE', `serializer failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new TmemError('ERR_TMEM_SERIALIZE', `serializer must return a Uint8Array, returned ${describe(bytes)}`);
  }
  return plainBytes(bytes);
}

/** deserialize() with its failures coded ERR_TMEM_DESERIALIZE, the serializer's error as the cause. */
export function deserializeValue<V>(s: Serializer<V>, bytes: Uint8Array): V {
  try {
    return s.deserialize(bytes);
  } catch (err) {
    throw new TmemError('ERR_TMEM_DESERIALIZE', `deserializer failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
