// What the parts of the pure-JS zcache (persistent.ts, ephemeral.ts, writeback.ts) all change: the
// one allocator whose frames both pools share under one cap, the counters, the codec (its output
// buffer is only used until the op that filled it returns) and whether the backend is closed. One
// small object passed to each part, so that none of them owns what the others also change.
import { TmemError } from '../../util/errors';
import { allocatorOf, type ZcacheConfig } from '../options';
import { PAGE_SIZE } from '../types';
import type { Allocator } from './allocator';
import { PageCodec } from './codec';
import { ZcacheCounters } from './counters';
import { Zbud } from './zbud';
import { Zsmalloc } from './zsmalloc';

export class ZcacheContext {
  readonly counters = new ZcacheCounters();
  readonly alloc: Allocator;
  readonly codec = new PageCodec();
  closed = false;

  constructor(config: ZcacheConfig) {
    const maxFrames = Math.floor(config.maxPoolBytes / PAGE_SIZE);
    this.alloc = allocatorOf('zcache-js', config) === 'zbud' ? new Zbud(maxFrames) : new Zsmalloc(maxFrames);
  }

  checkOpen(): void {
    if (this.closed) throw new TmemError('ERR_TMEM_CLOSED', 'the zcache-js backend is closed');
  }
}
