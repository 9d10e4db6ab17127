// Type-checked (not run) with tsc --noEmit: tmem's types resolve for a CommonJS TypeScript consumer.
import { loadBackend, swapon, SwapCache, type SwapArea, type TmemError, type ZcacheOptions } from 'tmem';

export async function store(path: string, page: Uint8Array): Promise<number> {
  const options: ZcacheOptions = { maxPoolBytes: 1 << 20, writeback: { batchPages: 32 } };
  await loadBackend('zcache', options);
  const area: SwapArea = swapon(path, { pages: 16 });
  const cache = new SwapCache({ residentBytes: 4096 });
  cache.set('k', page);
  const err: TmemError | null = null;
  void err;
  return area.writePage(page);
}

// @ts-expect-error: no such backend; if tmem's types did not resolve, this line would not error
void loadBackend('no-such-backend');
