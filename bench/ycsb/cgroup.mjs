// A real memory cgroup (v1, /sys/fs/cgroup/memory) for one bench worker: created with a name
// starting `tmem-bench-`, a hard limit in memory.limit_in_bytes, the worker put in it before it
// runs any JavaScript (a shell that writes its own pid to cgroup.procs, then execs node; children
// such as redis-server inherit it). Over the limit the kernel's OOM killer ends a process in the
// group: the worker's exit signal and memory.oom_control's oom_kill count tell it. remove() ends
// whatever of ours is left in the group and removes it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = process.env.TMEM_CGROUP_ROOT || '/sys/fs/cgroup/memory';

/** Why memory cgroups cannot be used here, or null when they can. */
export function cgroupUnavailable() {
  if (!existsSync(join(CGROUP_ROOT, 'memory.limit_in_bytes'))) return `no cgroup v1 memory controller at ${CGROUP_ROOT}`;
  if (process.getuid?.() !== 0) return 'creating memory cgroups needs root';
  return null;
}

function read(dir, file) {
  return readFileSync(join(dir, file), 'utf8');
}

export class MemoryCgroup {
  constructor(tag, limitBytes) {
    const why = cgroupUnavailable();
    if (why) throw new Error(why);
    this.name = `tmem-bench-${process.pid}-${tag}`;
    this.dir = join(CGROUP_ROOT, this.name);
    if (existsSync(this.dir)) this.remove();
    mkdirSync(this.dir);
    writeFileSync(join(this.dir, 'memory.limit_in_bytes'), String(limitBytes));
    this.limitBytes = Number(read(this.dir, 'memory.limit_in_bytes'));
  }

  /** spawn() whose process starts inside the group (argv[0] is exec'd by a shell). */
  spawn(argv, options) {
    const procs = join(this.dir, 'cgroup.procs');
    return spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, ...argv], options);
  }

  /** Peak charge, OOM kills so far, and the charge split (rss/cache) from memory.stat. */
  stats() {
    const oom = Object.fromEntries(read(this.dir, 'memory.oom_control').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
    const stat = Object.fromEntries(read(this.dir, 'memory.stat').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
    return {
      limitBytes: this.limitBytes,
      peakBytes: Number(read(this.dir, 'memory.max_usage_in_bytes')),
      usageBytes: Number(read(this.dir, 'memory.usage_in_bytes')),
      oomKills: oom.oom_kill ?? null,
      rssBytes: stat.total_rss ?? stat.rss,
      cacheBytes: stat.total_cache ?? stat.cache,
    };
  }

  /** Kills what is left in the group (only our worker and its children can be there) and removes it. */
  remove() {
    for (let i = 0; i < 50; i++) {
      let pids = [];
      try {
        pids = read(this.dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
      } catch {
        return;
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      try {
        rmdirSync(this.dir);
        return;
      } catch (err) {
        if (err.code === 'ENOENT') return;
        if (err.code !== 'EBUSY') throw err;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    throw new Error(`could not remove ${this.dir}`);
  }
}
