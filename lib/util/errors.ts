// Errors carry a stable `code` (Node's convention) so callers can branch on them without parsing text.

export type TmemErrorCode =
  | 'ERR_TMEM_CLOSED'
  | 'ERR_TMEM_SWAPPED_OFF'
  | 'ERR_TMEM_UNKNOWN_AREA'
  | 'ERR_TMEM_SWAP_FULL'
  | 'ERR_TMEM_TOO_MANY_AREAS'
  | 'ERR_TMEM_SLOT_NOT_IN_USE'
  | 'ERR_TMEM_IO'
  | 'ERR_TMEM_UNKNOWN_BACKEND'
  | 'ERR_TMEM_BACKEND_LOADED'
  | 'ERR_TMEM_BACKEND_NOT_LOADED'
  | 'ERR_TMEM_NATIVE_UNAVAILABLE'
  | 'ERR_TMEM_NO_COUNTER'
  | 'ERR_TMEM_UNKNOWN_POOL'
  | 'ERR_TMEM_DECOMPRESS'
  | 'ERR_TMEM_UNSUPPORTED'
  | 'ERR_TMEM_CORRUPT'
  | 'ERR_TMEM_REMOTE_LOST'
  | 'ERR_TMEM_NO_MEMORY'
  | 'ERR_TMEM_SERIALIZE'
  | 'ERR_TMEM_DESERIALIZE';

export class TmemError extends Error {
  readonly code: TmemErrorCode;

  constructor(code: TmemErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TmemError';
    this.code = code;
  }
}
