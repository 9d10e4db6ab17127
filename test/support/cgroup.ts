// Runs a command inside a fresh cgroup-v1 memory cgroup (root only): the limit a container
// enforces, a process over it OOM-killed. Cgroups are named tmem-swapcache-<pid>-<n> and removed
// after the run.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup/memory';
let seq = 0;

/** Whether memory cgroups can be made here (cgroup v1 mounted and writable, running as root). */
export function canUseMemoryCgroups(): boolean {
  try {
    accessSync(join(ROOT, 'cgroup.procs'), constants.W_OK);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export interface CgroupRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** memory.max_usage_in_bytes: the peak charge (page cache included). */
  maxUsageBytes: number;
  /** OOM kills in the cgroup. */
  oomKills: number;
}

/** Runs `command args` in a memory cgroup limited to `limitBytes`; resolves when it exits. */
export async function runInMemoryCgroup(limitBytes: number, command: string, args: string[], cwd: string): Promise<CgroupRun> {
  const dir = join(ROOT, `tmem-swapcache-${process.pid}-${seq++}`);
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    // The shell moves itself into the cgroup before it becomes the command.
    const child = spawn('sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$0" "$@"`, command, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    const oom = /oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.oom_control'), 'utf8'));
    return {
      code,
      signal,
      stdout,
      stderr,
      maxUsageBytes: Number(readFileSync(join(dir, 'memory.max_usage_in_bytes'), 'utf8')),
      oomKills: oom ? Number(oom[1]) : 0,
    };
  } finally {
    rmdirSync(dir);
  }
}
