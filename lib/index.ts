// tmem: transcendent memory for Node.js. See README.md for a tour.
export { PAGE_SIZE } from './backends/types';
export type { AreaInfo, Backend, CleancacheOps, FrontswapOps, WritebackOptions, ZcacheOptions } from './backends/types';
export { compactBackend, loadBackend, loadDefaultBackend, unloadBackend, loadedBackend, type BackendChoice, type BackendName } from './backends/registry';
export { ALLOCATORS, type AllocatorName } from './backends/options';
export { frontswap, Frontswap, MAX_AREAS } from './frontswap/frontswap';
export {
  createHandler,
  debugfs,
  DebugfsTree,
  type CounterProvider,
  type DebugfsMount,
  type HandlerOptions,
  type MountOptions,
  type RequestListener,
} from './debugfs/tree';
export { swapon, SwapArea, MAX_AREA_PAGES, type SwaponOptions } from './swap/area';
export { TmemError, type TmemErrorCode } from './util/errors';
export { versions, type Versions } from './versions';
export {
  SwapCache,
  type DisposeReason,
  type FetchMethod,
  type FetchOptions,
  type FetcherOptions,
  type GetOptionsArg,
  type SetOptions,
  type SwapCacheOptions,
} from './facade/swap-cache';
export type { Serializer, SerializerOption } from './facade/serializer';
export { cleancache, Cleancache, FILEKEY_WORDS, type FileKey } from './cleancache/cleancache';
export { PageCache, CachedFile, type PageCacheOptions } from './facade/page-cache';
