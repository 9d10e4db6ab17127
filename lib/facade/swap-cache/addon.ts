// The parts of the native addon that SwapCache uses (native/napi/key_index_wrap.cc,
// mapped_buffer.cc, malloc_info.cc, file_cache.cc), typed; each is null where the addon cannot be loaded, and
// SwapCache falls back to plain JavaScript.
import { loadNative } from '../../native/binding';

export interface NativeKeyIndex {
  new (meta: Uint32Array, maxKeyBytes: number): object;
}

export interface SwapCacheAddon {
  KeyIndex: NativeKeyIndex;
  /** An ArrayBuffer over anonymous mmap'd memory, committed as it is touched. */
  mapBuffer(bytes: number): ArrayBuffer;
  /** Gives the whole pages inside [offset, offset + length) back to the OS (they read as zeros). */
  discardBuffer(buffer: ArrayBuffer, offset: number, length: number): void;
  /** Gives all of a mapped buffer back and detaches it. */
  releaseBuffer(buffer: ArrayBuffer): void;
  /** glibc's mallinfo2: the C heap's size, bytes in use and free in it, bytes in mmap'd chunks. */
  mallocInfo(): { heapBytes: number; inUseBytes: number; freeBytes: number; mmappedBytes: number };
  /** glibc's malloc_trim(0): free pages of the C heap go back to the OS. */
  trimMalloc(): boolean;
  /** posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED): the file's clean cached pages are dropped. */
  dropFileCache(fd: number): boolean;
}

let addon: SwapCacheAddon | null | undefined;

/** The addon's SwapCache parts, or null without the addon. */
export function swapCacheAddon(): SwapCacheAddon | null {
  if (addon === undefined) {
    try {
      addon = loadNative() as unknown as SwapCacheAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
}
