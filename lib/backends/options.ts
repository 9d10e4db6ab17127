// Option parsing shared by both zcache backends, so `zcache` and `zcache-js` accept exactly the
// same options with the same defaults and the same errors.
import * as os from 'node:os';
import { checkBoolean, checkInteger, checkOptionKeys, checkOptionsObject } from '../util/validate';
import { PAGE_SIZE } from './types';

export interface ZcacheConfig {
  maxPoolBytes: number;
  maxCompressedBytes: number;
  maxMeanCompressedBytes: number;
  storeIncompressible: boolean;
  exclusiveGets: boolean;
}

export const ZCACHE_OPTION_KEYS = [
  'maxPoolBytes',
  'maxCompressedBytes',
  'maxMeanCompressedBytes',
  'storeIncompressible',
  'exclusiveGets',
] as const;

/** zswap's max_pool_percent default: the pool may take a fifth of memory. */
const DEFAULT_POOL_PERCENT = 20;

export function parseZcacheOptions(options: unknown): ZcacheConfig {
  const o = checkOptionsObject('zcache', options);
  checkOptionKeys('zcache', o, ZCACHE_OPTION_KEYS);
  const maxPoolBytes =
    o.maxPoolBytes === undefined
      ? Math.floor((os.totalmem() * DEFAULT_POOL_PERCENT) / 100 / PAGE_SIZE) * PAGE_SIZE
      : checkInteger('maxPoolBytes', o.maxPoolBytes, PAGE_SIZE, 2 ** 46);
  // zcache's limits: refuse above 7/8 of a page outright, above 5/8 while the mean is above it too.
  const maxCompressedBytes =
    o.maxCompressedBytes === undefined ? (PAGE_SIZE / 8) * 7 : checkInteger('maxCompressedBytes', o.maxCompressedBytes, 1, PAGE_SIZE);
  const maxMeanCompressedBytes =
    o.maxMeanCompressedBytes === undefined
      ? (PAGE_SIZE / 8) * 5
      : checkInteger('maxMeanCompressedBytes', o.maxMeanCompressedBytes, 1, PAGE_SIZE);
  const storeIncompressible = o.storeIncompressible === undefined ? false : checkBoolean('storeIncompressible', o.storeIncompressible);
  const exclusiveGets = o.exclusiveGets === undefined ? true : checkBoolean('exclusiveGets', o.exclusiveGets);
  return { maxPoolBytes, maxCompressedBytes, maxMeanCompressedBytes, storeIncompressible, exclusiveGets };
}
