// What a worker measures around a phase besides time: GC pauses (PerformanceObserver 'gc'),
// event-loop delay (monitorEventLoopDelay), memory (process.memoryUsage, peak RSS from
// /proc/self/status), and latency percentiles from preallocated Float64Arrays.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export function gc() {
  if (!globalThis.gc) throw new Error('run the worker with --expose-gc');
  globalThis.gc();
  globalThis.gc();
}

/** Lets timers, I/O callbacks (writeback completions) and GC observers run. */
export const yieldLoop = () => new Promise((resolve) => setImmediate(resolve));

/** p in [0, 1] of the first `count` samples (sorted in place). */
export function percentiles(samples, count) {
  const s = samples.subarray(0, count).sort();
  const at = (p) => (count ? s[Math.min(count - 1, Math.floor(p * count))] : NaN);
  return { count, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: count ? s[count - 1] : NaN };
}

/** kB fields of /proc/<pid>/status, in bytes. */
export function procStatus(pid = 'self') {
  const out = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]) * 1024;
    }
  } catch {
    // the process is gone
  }
  return out;
}

export function memory() {
  const m = process.memoryUsage();
  const st = procStatus();
  return { rss: m.rss, peakRss: st.VmHWM, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/**
 * Starts watching GC and the event loop; `stop()` (after a yield, so pending GC entries are
 * delivered) returns { gcCount, gcMs, gcMaxMs, loopP50Ms, loopP99Ms, loopMaxMs }.
 */
export function watch() {
  const g = { count: 0, ms: 0, max: 0 };
  const add = (entries) => {
    for (const e of entries) {
      g.count++;
      g.ms += e.duration;
      if (e.duration > g.max) g.max = e.duration;
    }
  };
  const obs = new PerformanceObserver((list) => add(list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  return async () => {
    await yieldLoop();
    loop.disable();
    add(obs.takeRecords());
    obs.disconnect();
    const ms = (ns) => (Number.isFinite(ns) ? ns / 1e6 : null);
    return {
      gcCount: g.count,
      gcMs: g.ms,
      gcMaxMs: g.max,
      loopP50Ms: ms(loop.percentile(50)),
      loopP99Ms: ms(loop.percentile(99)),
      loopMaxMs: ms(loop.max),
    };
  };
}
