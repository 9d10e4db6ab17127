// The memory available to this process, for maxPoolPercent: the cgroup v2 limit when the process
// runs under one (containers, systemd slices), else physical memory.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

function cgroupV2Limit(): number | null {
  try {
    // A cgroup v2 process has exactly one line "0::/path".
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (!line) return null;
    const path = line.slice(3).trim();
    // The nearest limit may be set on an ancestor; walk up to the root and take the smallest.
    let limit: number | null = null;
    for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
      try {
        const text = readFileSync(`/sys/fs/cgroup${dir === '/' ? '' : dir}/memory.max`, 'utf8').trim();
        if (text !== 'max') limit = Math.min(limit ?? Infinity, Number(text));
      } catch {
        // no memory controller at this level
      }
      if (dir === '/' || dir === '') break;
    }
    return limit;
  } catch {
    return null;
  }
}

/** Bytes of memory the process may use: min(cgroup v2 memory.max, physical memory). */
export function availableMemory(): number {
  const limit = cgroupV2Limit();
  return limit !== null && limit > 0 ? Math.min(limit, os.totalmem()) : os.totalmem();
}
