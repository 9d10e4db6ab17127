// Option parsing shared by both zcache backends, so `zcache` and `zcache-js` accept exactly the
// same options with the same defaults and the same errors.
import { parseRemoteOptions, type RemoteConfig } from '../remote/options';
import { TmemError } from '../util/errors';
import { checkBoolean, checkInteger, checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
import { availableMemory } from './memory-limit';
import { PAGE_SIZE } from './types';
import { WRITEBACK_DEFAULTS, type WritebackConfig } from './writeback-policy';

/** The allocators that place compressed pages in the pool's frames (like the kernel's zpool drivers). */
export type AllocatorName = 'zsmalloc' | 'z3fold' | 'zbud';

/**
 * Allocators each backend provides, its default first. A backend validates `config.allocator`
 * against its own list with allocatorOf().
 */
export const ALLOCATORS: Readonly<Record<'zcache' | 'zcache-js', readonly AllocatorName[]>> = {
  zcache: ['zsmalloc', 'z3fold', 'zbud'],
  'zcache-js': ['zsmalloc', 'zbud'],
};

/** Every allocator name the option accepts (a backend may have fewer: ALLOCATORS). */
export const ALLOCATOR_NAMES: readonly AllocatorName[] = ['zsmalloc', 'z3fold', 'zbud'];

export interface ZcacheConfig {
  /** The allocator asked for, or null for the backend's default (ALLOCATORS[backend][0]). */
  allocator: AllocatorName | null;
  maxPoolBytes: number;
  maxCompressedBytes: number;
  maxMeanCompressedBytes: number;
  storeIncompressible: boolean;
  exclusiveGets: boolean;
  /** Once full, stores are refused until the pool is back under this percentage of maxPoolBytes. */
  acceptThresholdPercent: number;
  /** Drop cleancache puts of pages that were never active (the wasActive hint). */
  ignoreNonactivePuts: boolean;
  /** null when writeback is disabled: a full pool then simply refuses stores. */
  writeback: WritebackConfig | null;
  /** The remote tier (RAMster on a Redis Cluster), or null without `remote`. */
  remote: { tier: RemoteConfig; writethrough: boolean } | null;
}

export const ZCACHE_OPTION_KEYS = [
  'maxPoolBytes',
  'maxPoolPercent',
  'acceptThresholdPercent',
  'maxCompressedBytes',
  'maxMeanCompressedBytes',
  'storeIncompressible',
  'exclusiveGets',
  'writeback',
  'ignoreNonactivePuts',
  'allocator',
  'remote',
] as const;

const WRITEBACK_KEYS = Object.keys(WRITEBACK_DEFAULTS);

/** zswap's max_pool_percent default: the pool may take a fifth of memory. */
const DEFAULT_POOL_PERCENT = 20;
/** zswap's accept_threshold_percent default. */
const DEFAULT_ACCEPT_PERCENT = 90;

function parseWriteback(value: unknown, maxPoolBytes: number): WritebackConfig | null {
  if (value === false) return null;
  const o = value === undefined || value === true ? {} : checkOptionsObject('zcache writeback', value);
  checkOptionKeys('zcache writeback', o, WRITEBACK_KEYS);
  const pick = (key: keyof typeof WRITEBACK_DEFAULTS, min: number, max: number) =>
    o[key] === undefined ? WRITEBACK_DEFAULTS[key] : checkInteger(`writeback.${key}`, o[key], min, max);
  const config: WritebackConfig = {
    maxPoolBytes,
    highWatermarkPercent: pick('highWatermarkPercent', 1, 100),
    lowWatermarkPercent: pick('lowWatermarkPercent', 0, 100),
    batchPages: pick('batchPages', 1, 4096),
    maxInFlightPages: pick('maxInFlightPages', 1, 1 << 20),
    intervalMs: pick('intervalMs', 0, 60_000),
    directReclaimPages: pick('directReclaimPages', 0, 4096),
  };
  if (config.lowWatermarkPercent >= config.highWatermarkPercent) {
    throw new RangeError(
      `writeback.lowWatermarkPercent (${config.lowWatermarkPercent}) must be below highWatermarkPercent (${config.highWatermarkPercent})`,
    );
  }
  return config;
}

// The tier's own options (lib/remote/options.ts) plus the backend's `writethrough`.
function parseRemote(value: unknown, writeback: WritebackConfig | null): ZcacheConfig['remote'] {
  if (value === undefined) return null;
  const { writethrough, ...tier } = checkOptionsObject('remote', value);
  if (writeback === null) throw new TypeError('remote needs writeback: remotify runs as the first step of writeback');
  return {
    tier: parseRemoteOptions(tier),
    writethrough: writethrough === undefined ? false : checkBoolean('remote.writethrough', writethrough),
  };
}

export function parseZcacheOptions(options: unknown): ZcacheConfig {
  const o = checkOptionsObject('zcache', options);
  checkOptionKeys('zcache', o, ZCACHE_OPTION_KEYS);
  if (o.maxPoolBytes !== undefined && o.maxPoolPercent !== undefined) {
    throw new TypeError('give maxPoolBytes or maxPoolPercent, not both');
  }
  let maxPoolBytes: number;
  if (o.maxPoolBytes !== undefined) {
    maxPoolBytes = checkInteger('maxPoolBytes', o.maxPoolBytes, PAGE_SIZE, 2 ** 46);
  } else {
    const percent = o.maxPoolPercent === undefined ? DEFAULT_POOL_PERCENT : checkInteger('maxPoolPercent', o.maxPoolPercent, 1, 100);
    maxPoolBytes = Math.max(PAGE_SIZE, Math.floor((availableMemory() * percent) / 100 / PAGE_SIZE) * PAGE_SIZE);
  }
  // zcache's limits: refuse above 7/8 of a page outright, above 5/8 while the mean is above it too.
  const maxCompressedBytes =
    o.maxCompressedBytes === undefined ? (PAGE_SIZE / 8) * 7 : checkInteger('maxCompressedBytes', o.maxCompressedBytes, 1, PAGE_SIZE);
  const maxMeanCompressedBytes =
    o.maxMeanCompressedBytes === undefined
      ? (PAGE_SIZE / 8) * 5
      : checkInteger('maxMeanCompressedBytes', o.maxMeanCompressedBytes, 1, PAGE_SIZE);
  const acceptThresholdPercent =
    o.acceptThresholdPercent === undefined
      ? DEFAULT_ACCEPT_PERCENT
      : checkInteger('acceptThresholdPercent', o.acceptThresholdPercent, 1, 100);
  let allocator: AllocatorName | null = null;
  if (o.allocator !== undefined) {
    if (typeof o.allocator !== 'string' || !(ALLOCATOR_NAMES as readonly string[]).includes(o.allocator)) {
      throw new RangeError(`allocator must be one of ${ALLOCATOR_NAMES.join(', ')}, got ${describe(o.allocator)}`);
    }
    allocator = o.allocator as AllocatorName;
  }
  const writeback = parseWriteback(o.writeback, maxPoolBytes);
  return {
    allocator,
    maxPoolBytes,
    maxCompressedBytes,
    maxMeanCompressedBytes,
    storeIncompressible: o.storeIncompressible === undefined ? false : checkBoolean('storeIncompressible', o.storeIncompressible),
    exclusiveGets: o.exclusiveGets === undefined ? true : checkBoolean('exclusiveGets', o.exclusiveGets),
    acceptThresholdPercent,
    ignoreNonactivePuts: o.ignoreNonactivePuts === undefined ? false : checkBoolean('ignoreNonactivePuts', o.ignoreNonactivePuts),
    writeback,
    remote: parseRemote(o.remote, writeback),
  };
}

/**
 * The allocator a backend uses for `config`: the one asked for, or the backend's default. Throws
 * ERR_TMEM_UNSUPPORTED (before the backend creates anything) when the backend does not have it.
 */
export function allocatorOf(backend: keyof typeof ALLOCATORS, config: ZcacheConfig): AllocatorName {
  const available = ALLOCATORS[backend];
  if (config.allocator === null) return available[0];
  if (!available.includes(config.allocator)) {
    throw new TmemError(
      'ERR_TMEM_UNSUPPORTED',
      `${backend} has no '${config.allocator}' allocator (available: ${available.join(', ')})`,
    );
  }
  return config.allocator;
}
