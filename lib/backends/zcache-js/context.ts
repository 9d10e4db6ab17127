// What the parts of the pure-JS zcache (persistent.ts, ephemeral.ts, writeback.ts) all change: the
// one zbud frame pool that both pools share under one cap, the counters, the codec (its output
// buffer is only used until the op that filled it returns) and whether the backend is closed. One
// small object passed to each part, so that none of them owns what the others also change.
import { TmemError } from '../../util/errors';
import type { ZcacheConfig } from '../options';
import { PAGE_SIZE } from '../types';
import { PageCodec } from './codec';
import { ZcacheCounters } from './counters';
import { Zbud } from './zbud';

export class ZcacheContext {
  readonly counters = new ZcacheCounters();
  readonly zbud: Zbud;
  readonly codec = new PageCodec();
  closed = false;

  constructor(config: ZcacheConfig) {
    this.zbud = new Zbud(Math.floor(config.maxPoolBytes / PAGE_SIZE));
  }

  checkOpen(): void {
    if (this.closed) throw new TmemError('ERR_TMEM_CLOSED', 'the zcache-js backend is closed');
  }
}
