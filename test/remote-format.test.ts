// The remote tier's building blocks that need no cluster: CRC32C (known answers, and the sliced
// loop against a bit-at-a-time reference), the value header (every corruption and every wrong
// identity is refused), key layout, handles, options and the round-trip histogram.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Counters, COUNTER_BYTES, C } from '../lib/remote/counters';
import { crc32c, crc32cWords } from '../lib/remote/crc32c';
import { HEADER_BYTES, identityOf, identitySeed, Kind, MAX_VERSION, ReadStatus, verifyValue, writeHeader, payloadLength } from '../lib/remote/format';
import { GroupKeys, handleGroup, handleOf, handleVersion, namespaceId, namespaceName, slotOf } from '../lib/remote/keys';
import { parseRemoteOptions, REMOTE_DEFAULTS } from '../lib/remote/options';
import { classify, redirectAddress } from '../lib/remote/store';

/** The definition: one bit at a time, reflected polynomial 0x82F63B78. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('gives the published check values (RFC 3720 B.4 and the CRC catalogue)', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
    const iscsiRead = '01c000000000000000000000000000001400000000000400000000140000001828000000000000000200000000000000';
    expect(crc32c(Buffer.from(iscsiRead, 'hex'))).toBe(0xd9963a56);
  });

  it('matches the bitwise definition for every length, offset and chaining split', () => {
    const data = randomBytes(300);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        const want = crc32cBitwise(data.subarray(start, end));
        expect(crc32c(data, 0, start, end)).toBe(want);
        const mid = (start + end) >> 1;
        expect(crc32c(data, crc32c(data, 0, start, mid), mid, end)).toBe(want);
      }
    }
  });

  it('crc32cWords equals crc32c over the words as little-endian bytes', () => {
    const words = new Uint32Array(randomBytes(64).buffer);
    const bytes = new Uint8Array(words.buffer);
    expect(crc32cWords(words)).toBe(crc32c(bytes));
    expect(crc32cWords(words, 0, 3, 5)).toBe(crc32c(bytes, 0, 12, 32));
    expect(crc32cWords(words, crc32c(bytes, 0, 0, 8), 2, 4)).toBe(crc32c(bytes, 0, 0, 24));
  });
});

describe('value header', () => {
  const seed = identitySeed(0x1234abcd, Kind.Pers);
  const ident = new Uint32Array([3, 777]);
  const identity = identityOf(seed, Kind.Pers, ident, 0);

  function value(payload: Uint8Array, version = 42, kind = Kind.Pers, id = identity): Uint8Array {
    const v = new Uint8Array(HEADER_BYTES + payload.length);
    writeHeader(v, 0, kind, version, id, payload, 0, payload.length);
    v.set(payload, HEADER_BYTES);
    return v;
  }

  it('verifies a value written for the same page and version', () => {
    const payload = randomBytes(1234);
    const v = value(payload);
    expect(verifyValue(v, Kind.Pers, 42, identity)).toBe(ReadStatus.Ok);
    expect(payloadLength(v)).toBe(1234);
    const big = value(randomBytes(4096), MAX_VERSION);
    expect(verifyValue(big, Kind.Pers, MAX_VERSION, identity)).toBe(ReadStatus.Ok);
  });

  it('refuses every single-bit flip, in the header and in the payload', () => {
    const v = value(randomBytes(200));
    for (let bit = 0; bit < v.length * 8; bit++) {
      const w = v.slice();
      w[bit >> 3] ^= 1 << (bit & 7);
      expect(verifyValue(w, Kind.Pers, 42, identity), `bit ${bit}`).not.toBe(ReadStatus.Ok);
    }
  });

  it('refuses truncated, extended and empty values as corrupt', () => {
    const v = value(randomBytes(100));
    expect(verifyValue(v.subarray(0, v.length - 1), Kind.Pers, 42, identity)).toBe(ReadStatus.Corrupt);
    expect(verifyValue(Buffer.concat([v, Buffer.alloc(1)]), Kind.Pers, 42, identity)).toBe(ReadStatus.Corrupt);
    expect(verifyValue(new Uint8Array(0), Kind.Pers, 42, identity)).toBe(ReadStatus.Corrupt);
  });

  it('tells another version, page, kind or namespace from the one asked for', () => {
    const v = value(randomBytes(100));
    expect(verifyValue(v, Kind.Pers, 43, identity)).toBe(ReadStatus.Mismatch);
    expect(verifyValue(v, Kind.Pers, 42 + 2 ** 32, identity)).toBe(ReadStatus.Mismatch);
    expect(verifyValue(v, Kind.Pers, 42, identityOf(seed, Kind.Pers, new Uint32Array([3, 778]), 0))).toBe(ReadStatus.Mismatch);
    expect(verifyValue(v, Kind.Pers, 42, identityOf(identitySeed(0x1234abce, Kind.Pers), Kind.Pers, ident, 0))).toBe(ReadStatus.Mismatch);
    expect(verifyValue(v, Kind.Eph, 42, identity)).toBe(ReadStatus.Mismatch);
  });

  it('binds cleancache pages to all eight identity words', () => {
    const eph = new Uint32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const eseed = identitySeed(99, Kind.Eph);
    const id = identityOf(eseed, Kind.Eph, eph, 0);
    const v = value(randomBytes(64), 7, Kind.Eph, id);
    expect(verifyValue(v, Kind.Eph, 7, id)).toBe(ReadStatus.Ok);
    for (let w = 0; w < 8; w++) {
      const other = eph.slice();
      other[w]++;
      expect(verifyValue(v, Kind.Eph, 7, identityOf(eseed, Kind.Eph, other, 0))).toBe(ReadStatus.Mismatch);
    }
  });
});

describe('keys and handles', () => {
  it('names namespaces in 7 base36 characters and back', () => {
    for (const id of [0, 1, 0xdeadbeef, 0xffffffff]) {
      expect(namespaceName(id)).toMatch(/^[0-9a-z]{7}$/);
      expect(namespaceId(namespaceName(id))).toBe(id);
    }
    expect(namespaceId('zzzzzzz')).toBe(-1); // above 2^32
    expect(namespaceId('ABCDEFG')).toBe(-1);
  });

  it('puts every key of a group in the group slot, and spreads groups over the slots', () => {
    const keys = new GroupKeys(namespaceName(0x5eed));
    for (const g of [0, 1, 128, 255]) {
      expect(slotOf(keys.page(g, 12345))).toBe(keys.slots[g]);
      expect(slotOf(keys.canaries[g])).toBe(keys.slots[g]);
      expect(keys.page(g, 12345).startsWith(keys.prefixes[g])).toBe(true);
    }
    expect(new Set(keys.slots).size).toBeGreaterThan(250);
    expect(keys.page(0, 2 ** 45 - 1).length).toBeLessThanOrEqual(22);
  });

  it('keeps version and group exact in a handle up to the largest version', () => {
    for (const [v, g] of [[1, 0], [123456789, 255], [MAX_VERSION, 17]]) {
      const h = handleOf(v, g);
      expect(Number.isSafeInteger(h)).toBe(true);
      expect([handleVersion(h), handleGroup(h)]).toEqual([v, g]);
    }
  });
});

describe('remote options', () => {
  it('fills in defaults and keeps the nodes', () => {
    const c = parseRemoteOptions({ nodes: [{ host: '127.0.0.1', port: 7000 }], replicas: 0 });
    expect(c).toEqual({ ...REMOTE_DEFAULTS, nodes: [{ host: '127.0.0.1', port: 7000 }], replicas: 0 });
  });

  it('refuses missing nodes, bad addresses, unknown keys and out-of-range numbers', () => {
    expect(() => parseRemoteOptions(undefined)).toThrow(TypeError);
    expect(() => parseRemoteOptions({ nodes: [] })).toThrow(TypeError);
    expect(() => parseRemoteOptions({ nodes: [{ host: '', port: 1 }] })).toThrow(TypeError);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 70000 }] })).toThrow(RangeError);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 1, tls: true }] })).toThrow(/unknown/);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 1 }], replica: 1 })).toThrow(/unknown remote option 'replica'/);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 1 }], replicas: 17 })).toThrow(RangeError);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 1 }], leaseTtlMs: 10 })).toThrow(RangeError);
    expect(() => parseRemoteOptions({ nodes: [{ host: 'h', port: 1 }], batchPages: 1.5 })).toThrow(TypeError);
  });
});

describe('error classification', () => {
  it('names what the tier branches on, from Redis replies and client errors', () => {
    const cases: [string, string][] = [
      ['MOVED 3999 127.0.0.1:6381', 'moved'],
      ['ASK 3999 127.0.0.1:6381', 'ask'],
      ['TRYAGAIN Multiple keys request during rehashing of slot', 'tryagain'],
      ['CLUSTERDOWN The cluster is down', 'clusterdown'],
      ['NOREPLICAS Not enough good replicas to write.', 'noreplicas'],
      ["OOM command not allowed when used memory > 'maxmemory'.", 'nomem'],
      ["READONLY You can't write against a read only replica.", 'readonly'],
      ['LOADING Redis is loading the dataset in memory', 'loading'],
      ['Command timed out', 'timeout'],
      ['connect ECONNREFUSED 127.0.0.1:31001', 'connection'],
      ['Connection is closed.', 'connection'],
      ["Stream isn't writeable and enableOfflineQueue options is false", 'connection'],
      ['ERR unknown command', 'other'],
    ];
    for (const [message, kind] of cases) expect(classify(new Error(message)).kind, message).toBe(kind);
    expect(redirectAddress('MOVED 3999 127.0.0.1:6381')).toBe('127.0.0.1:6381');
    expect(redirectAddress('ASK 1 [::1]:7000')).toBe('[::1]:7000');
    expect(redirectAddress('CLUSTERDOWN The cluster is down')).toBeNull();
  });
});

describe('counters', () => {
  it('estimates round-trip quantiles within a quarter of a power of two', () => {
    const c = new Counters(new SharedArrayBuffer(COUNTER_BYTES), 0);
    expect(c.quantile('get', 0.5)).toBe(0);
    for (let i = 0; i < 99; i++) c.rtt('get', 300);
    c.rtt('get', 50_000);
    const p50 = c.quantile('get', 0.5);
    expect(p50).toBeGreaterThanOrEqual(300);
    expect(p50).toBeLessThanOrEqual(300 * 1.25);
    expect(c.quantile('get', 1)).toBeGreaterThanOrEqual(50_000);
    expect(c.quantile('put', 0.5)).toBe(0);
    c.add(C.pers_pages_remoted, 3);
    expect(c.snapshot()).toMatchObject({ pers_pages_remoted: 3, remote_get_rtt_p50_us: p50 });
  });
});
