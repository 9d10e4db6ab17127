// How a facade turns values into bytes. The default keeps bytes as bytes (and copies them, so
// neither side can change the other's buffer later).
import * as v8 from 'node:v8';
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
