// `tmem demo`: a service-like workload whose data is several times its memory budget. User
// sessions and cached product documents live in a SwapCache with a small resident budget; cold
// values are swapped through frontswap into the zcache pool and, past the pool's limit, the swap
// file. Zipf-distributed gets with some sets; every value read is checked against the SHA-1 of
// what was stored.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALLOCATOR_NAMES, type AllocatorName } from '../backends/options';
import { loadBackend, loadDefaultBackend, unloadBackend, type BackendName } from '../backends/registry';
import { PAGE_SIZE } from '../backends/types';
import { debugfs } from '../debugfs/tree';
import { SwapCache } from '../facade/swap-cache';
import { numberOption, parse } from './args';
import { Ledger, MemoryWatch, settle } from './demo-memory';
import { count, mib, percent, Progress, table, UsageError } from './ui';
import { keyOf, valueOf, Zipf } from './workload';

export const DEMO_USAGE = `Usage: tmem demo [options]

Runs a service-like workload through SwapCache with the zcache backend: sessions and cached
documents several times larger than the resident budget, zipf-distributed gets and some sets,
every value read checked. Prints a summary table (or JSON) on stdout; exit code 1 if any value
read back was wrong, or if the process's RSS ended over its bound: RSS before the first value +
resident budget + pool limit + key index, +15%.

Options:
  --data-mib N        data to store, MiB (default 200)
  --resident-mib N    SwapCache resident budget, MiB (default 32, at most 4096)
  --pool-mib N        zcache pool limit, MiB (default 48)
  --seconds S         length of the workload phase (default 20, unless --ops is given)
  --ops N             number of operations of the workload phase (stops at whichever comes first)
  --set-percent P     share of operations that replace a value (default 10)
  --zipf S            zipf exponent of the key popularity (default 0.99)
  --backend NAME      zcache (native; default) or zcache-js
  --allocator NAME    zsmalloc (default), z3fold or zbud: how the pool places compressed pages
  --mount DIR         keep the counter tree mounted at DIR while running (tmem stat DIR)
  --interval-ms MS    refresh interval of --mount (default 1000)
  --listen [HOST:]PORT  serve /debug/tmem and /metrics while running (PORT 0 picks one)
  --json              print the summary as one JSON object
  -h, --help          show this help
`;

const OPTIONS = {
  'data-mib': { type: 'string' },
  'resident-mib': { type: 'string' },
  'pool-mib': { type: 'string' },
  seconds: { type: 'string' },
  ops: { type: 'string' },
  'set-percent': { type: 'string' },
  zipf: { type: 'string' },
  backend: { type: 'string' },
  allocator: { type: 'string' },
  mount: { type: 'string' },
  'interval-ms': { type: 'string' },
  listen: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function parseListen(value: string): { host: string; port: number } {
  const m = value.match(/^(?:(.+):)?(\d+)$/);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be PORT or HOST:PORT, got '${value}'`);
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}

/** Sessions are at least this long: sizes the demo's ledger before the first value. */
const MIN_VALUE_BYTES = 512;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// Runs the workload's code paths once on a throwaway cache, so that the baseline is of a process
// that has already loaded and compiled what the run uses: once before the backend is loaded
// (values go to the swap file and back), once after (through the pool). Formatting a number
// pages in Node's ICU data, 4 MiB of the binary that the progress lines touch.
function warmUp(): void {
  count(1234567);
  const c = new SwapCache({ residentBytes: 64 << 10, pages: 1024, backend: 'none' });
  const ledger = new Ledger(256);
  try {
    for (let id = 0; id < 256; id++) {
      const value = valueOf(id, 0);
      c.set(keyOf(id), value);
      ledger.record(id, 0, value);
    }
    for (let id = 0; id < 256; id++) ledger.matches(id, c.get(keyOf(id)));
  } finally {
    c.close();
  }
}

export async function demo(argv: string[], io: Io): Promise<number> {
  const { values: v } = parse('demo', argv, OPTIONS, false);
  if (v.help) {
    io.stdout.write(DEMO_USAGE);
    return 0;
  }
  const dataBytes = Math.round(numberOption('data-mib', v['data-mib'], 200, 1, 1 << 20) * 2 ** 20);
  const residentBytes = Math.round(numberOption('resident-mib', v['resident-mib'], 32, 0, 4096) * 2 ** 20);
  const poolBytes = Math.round(numberOption('pool-mib', v['pool-mib'], 48, 1, 1 << 20) * 2 ** 20);
  const maxOps = numberOption('ops', v.ops, Infinity, 1, 2 ** 52, true);
  const seconds = numberOption('seconds', v.seconds, v.ops === undefined ? 20 : Infinity, 0.1, 1e6);
  const setShare = numberOption('set-percent', v['set-percent'], 10, 0, 100) / 100;
  const zipfS = numberOption('zipf', v.zipf, 0.99, 0, 5);
  const intervalMs = numberOption('interval-ms', v['interval-ms'], 1000, 10, 3_600_000, true);
  const chosen = v.backend as BackendName | undefined;
  if (chosen !== undefined && chosen !== 'zcache' && chosen !== 'zcache-js') {
    throw new UsageError(`--backend must be zcache or zcache-js, got '${chosen}'`);
  }
  const allocator = v.allocator as AllocatorName | undefined;
  if (allocator !== undefined && !ALLOCATOR_NAMES.includes(allocator)) {
    throw new UsageError(`--allocator must be ${ALLOCATOR_NAMES.join(', ')}, got '${allocator}'`);
  }
  const listen = v.listen === undefined ? null : parseListen(v.listen);
  if (v['interval-ms'] !== undefined && v.mount === undefined) throw new UsageError('--interval-ms needs --mount');

  warmUp();
  // Without --backend, the default choice: zcache, or zcache-js with a warning where the addon is missing.
  let backend: BackendName;
  const options = { maxPoolBytes: poolBytes, ...(allocator ? { allocator } : {}) };
  if (chosen) {
    backend = chosen;
    await loadBackend(backend, options);
  } else {
    backend = await loadDefaultBackend(options);
  }

  let cache: SwapCache | null = null;
  let server: Server | null = null;
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on('SIGINT', onSigint);
  try {
    warmUp();
    // Room for every value, plus runs left part-used by replaced values.
    const pages = Math.min(2 ** 28, Math.ceil((dataBytes * 3) / PAGE_SIZE) + 4096);
    cache = new SwapCache({ residentBytes, pages });
    if (v.mount !== undefined) {
      debugfs.mount(v.mount, { intervalMs });
      io.stderr.write(`tmem: counters mounted at ${v.mount} (refreshed every ${intervalMs} ms)\n`);
    }
    if (listen) {
      const s = createServer(debugfs.createHandler());
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(listen.port, listen.host, () => resolve());
      });
      const { port } = s.address() as AddressInfo;
      const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
      io.stderr.write(`tmem: serving counters at http://${host}:${port}/debug/tmem (Prometheus: /metrics)\n`);
    }

    // Load: fill the cache with sessions and documents until the data size is reached. The
    // ledger (sizes, versions, digests) is allocated first, so the baseline includes it.
    const ledger = new Ledger(Math.ceil(dataBytes / MIN_VALUE_BYTES) + 1);
    await settle();
    const memory = new MemoryWatch();
    let stored = 0;
    const tLoad = performance.now();
    const loadBar = new Progress(io.stderr, 'load');
    let slice = performance.now();
    while (stored < dataBytes && !stop && !ledger.full) {
      const id = ledger.count;
      const value = valueOf(id, 0);
      cache.set(keyOf(id), value);
      ledger.record(id, 0, value);
      stored += value.length;
      if ((id & 255) === 0 && performance.now() - slice > 20) {
        memory.sample();
        loadBar.update(stored / dataBytes, `${mib(stored)} of ${mib(dataBytes)}, ${count(id + 1)} values`);
        await tick();
        slice = performance.now();
      }
    }
    const loadSeconds = (performance.now() - tLoad) / 1000;
    loadBar.done(`${mib(stored)} in ${count(ledger.count)} values, ${loadSeconds.toFixed(1)} s`);
    const n = ledger.count;
    const loadStats = cache.stats();

    // Run: zipf-distributed gets and sets, every value read checked.
    const zipf = new Zipf(n, zipfS, 0x7e11);
    let gets = 0;
    let sets = 0;
    let mismatches = 0;
    const runBar = new Progress(io.stderr, 'run ');
    const tRun = performance.now();
    const deadline = tRun + seconds * 1000;
    let ops = 0;
    slice = performance.now();
    let now = tRun;
    while (ops < maxOps && !stop) {
      const id = zipf.next();
      const key = keyOf(id);
      if ((Math.imul(ops + 1, 0x9e3779b1) >>> 0) / 2 ** 32 < setShare) {
        const version = ledger.versions[id] + 1;
        const value = valueOf(id, version);
        cache.set(key, value);
        stored += value.length - ledger.lengths[id];
        ledger.record(id, version, value);
        sets++;
      } else {
        const value = cache.get(key);
        if (!ledger.matches(id, value)) mismatches++;
        gets++;
      }
      ops++;
      if ((ops & 255) === 0) {
        now = performance.now();
        if (now >= deadline) break;
        if (now - slice > 20) {
          memory.sample();
          const elapsed = (now - tRun) / 1000;
          const fraction = Math.max(Number.isFinite(maxOps) ? ops / maxOps : 0, Number.isFinite(seconds) ? elapsed / seconds : 0);
          runBar.update(fraction, `${count(ops)} ops, ${count(ops / elapsed)} ops/s, ${mismatches} mismatches`);
          await tick();
          slice = performance.now();
        }
      }
    }
    const runSeconds = (performance.now() - tRun) / 1000;
    runBar.done(`${count(ops)} ops in ${runSeconds.toFixed(1)} s`);

    // Summary.
    const snap = debugfs.snapshot();
    const c = cache.stats();
    const type = cache.area.type;
    const poolTotal = snap['zcache/pool_total_size'] ?? 0;
    const storedPages = snap['zcache/stored_pages'] ?? 0;
    // The allocator in use is the one whose counter directory the backend shows.
    const allocatorInUse = ALLOCATOR_NAMES.find((a) => snap[`${a}/pages`] !== undefined) ?? 'unknown';
    const runGets = {
      resident: c.gets_resident - loadStats.gets_resident,
      pool: c.gets_pool - loadStats.gets_pool,
      file: c.gets_file - loadStats.gets_file,
    };
    const mem = await memory.verdict(residentBytes, poolBytes, cache.indexBytes);
    const summary = {
      backend,
      allocator: allocatorInUse,
      values: n,
      dataBytes: stored,
      residentBudgetBytes: residentBytes,
      residentBytes: c.resident_bytes,
      poolLimitBytes: poolBytes,
      poolBytes: poolTotal,
      poolStoredPages: storedPages,
      swapFileBytes: snap[`swap/${type}/file_allocated_bytes`] ?? 0,
      swapFilePages: snap[`swap/${type}/file_writes`] ?? 0,
      compressionRatio: poolTotal > 0 ? +((storedPages * PAGE_SIZE) / poolTotal).toFixed(2) : 0,
      // Of what the codec achieved, the share the allocator keeps (same-filled pages take no room).
      poolDensity: poolTotal > 0 ? +((snap['zcache/compressed_bytes'] ?? 0) / poolTotal).toFixed(3) : 0,
      hitRates: {
        resident: gets > 0 ? +(runGets.resident / gets).toFixed(4) : 0,
        pool: gets > 0 ? +(runGets.pool / gets).toFixed(4) : 0,
        file: gets > 0 ? +(runGets.file / gets).toFixed(4) : 0,
      },
      writtenBackPages: snap['zcache/written_back_pages'] ?? 0,
      rejectedStores: snap['frontswap/failed_stores'] ?? 0,
      ...mem,
      heapUsedBytes: process.memoryUsage().heapUsed,
      loadSeconds: +loadSeconds.toFixed(2),
      runSeconds: +runSeconds.toFixed(2),
      ops,
      gets,
      sets,
      opsPerSecond: Math.round(ops / Math.max(runSeconds, 1e-9)),
      verified: gets,
      mismatches,
      interrupted: stop,
    };
    if (v.json) {
      io.stdout.write(JSON.stringify(summary) + '\n');
    } else {
      const rows = [
        ['', 'value', 'where from'],
        ['data size', mib(summary.dataBytes), `${count(n)} values: sessions and cached documents`],
        ['resident size', mib(summary.residentBytes), `SwapCache resident ring (budget ${mib(residentBytes)})`],
        ['pool size', mib(summary.poolBytes), `zcache/pool_total_size (limit ${mib(poolBytes)}), ${count(storedPages)} pages`],
        ['swap file size', mib(summary.swapFileBytes), `swap/${type}/file_allocated_bytes`],
        ['compression ratio', summary.compressionRatio.toFixed(2), `stored page bytes / pool bytes, pool allocator ${summary.allocator}`],
        ['pool density', summary.poolDensity.toFixed(3), 'zcache/compressed_bytes / pool_total_size: what the allocator keeps of LZ4\'s work'],
        ['hit rate: resident', percent(runGets.resident, gets), 'gets served from the resident ring'],
        ['hit rate: pool', percent(runGets.pool, gets), 'gets served from the compressed pool'],
        ['hit rate: file', percent(runGets.file, gets), 'gets that read the swap file'],
        ['pages written back', count(summary.writtenBackPages), 'zcache/written_back_pages'],
        ['stores refused', count(summary.rejectedStores), 'frontswap/failed_stores (went to the file)'],
        ['process RSS', mib(mem.rssBytes), `at the end, after a full GC (peak ${mib(mem.peakRssBytes)}); V8 heap in use ${mib(summary.heapUsedBytes)}`],
        [
          'RSS bound',
          mib(mem.rssBoundBytes),
          `${mem.withinBound ? 'kept' : 'EXCEEDED'}: baseline ${mib(mem.baselineRssBytes)} + resident ${mib(residentBytes)} + pool ${mib(poolBytes)} + key index ${mib(mem.indexBytes)}, +15%`,
        ],
        ['throughput', `${count(summary.opsPerSecond)} ops/s`, `${count(gets)} gets + ${count(sets)} sets in ${runSeconds.toFixed(1)} s`],
        ['verified', `${count(gets)} values`, `${mismatches} mismatches`],
      ];
      io.stdout.write(`\ntmem demo (${backend}, ${summary.allocator}): ${mib(summary.dataBytes)} of data, ${mib(residentBytes)} resident budget, ${mib(poolBytes)} pool limit${stop ? ' (interrupted)' : ''}\n\n`);
      io.stdout.write(table(rows, [false, true, false]));
    }
    if (mismatches > 0) {
      io.stderr.write(`tmem: ${mismatches} of ${gets} values read back wrong\n`);
      return 1;
    }
    if (!mem.withinBound) {
      io.stderr.write(`tmem: RSS ${mib(mem.rssBytes)} ended over the bound of ${mib(mem.rssBoundBytes)}\n`);
      return 1;
    }
    return stop ? 130 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    debugfs.unmount();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    cache?.close();
    await unloadBackend(backend);
  }
}
