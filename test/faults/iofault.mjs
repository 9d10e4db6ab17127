// Builds the iofault LD_PRELOAD shim (iofault.c) and drives its schedule through the shared control
// file. Plain JavaScript so that the vitest suites, their child processes and `npm run soak` use
// the same helper. The layout constants mirror iofault.c.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'iofault.c');
const MAGIC = 0x544d4649;
const VERSION = 1;
const HEADER = 16;
const RULE = 40;
const CLASSES = { write: 0, read: 1, sync: 2 };
const MODES = { off: 0, eio: 1, enospc: 2, short: 3, mixed: 4 };
const SIZE = HEADER + RULE * 3;

/** Compiles the shim into `dir` with the system C compiler; returns the .so path. */
export function buildIofault(dir) {
  const out = join(dir, 'libiofault.so');
  execFileSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-o', out, SOURCE, '-ldl'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return out;
}

/**
 * The schedule of one shim instance. Rules: { mode: 'off'|'eio'|'enospc'|'short'|'mixed',
 * every?: n (every nth call), ppm?: p (else probability per million), budget?: n (faults
 * left, default unlimited), skip?: n (calls let through first) } for the classes 'write'
 * (pwrite, pwritev), 'read' (pread, preadv) and 'sync' (fsync, fdatasync).
 */
export class FaultControl {
  #fd;

  constructor(path, fd) {
    this.path = path;
    this.#fd = fd;
  }

  /** Creates a control file at `path` with every rule off. */
  static create(path, seed = 1) {
    const fd = openSync(path, 'wx+', 0o600);
    const buf = Buffer.alloc(SIZE);
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt32LE(VERSION, 4);
    buf.writeBigUInt64LE(BigInt(seed), 8);
    writeSync(fd, buf, 0, SIZE, 0);
    return new FaultControl(path, fd);
  }

  /** Opens the control file the shim of this process maps ($TMEM_FAULT_CONTROL). */
  static fromEnv() {
    const path = process.env.TMEM_FAULT_CONTROL;
    if (!path) throw new Error('TMEM_FAULT_CONTROL is not set: run under the iofault shim');
    return new FaultControl(path, openSync(path, 'r+'));
  }

  /**
   * Environment that preloads `lib` and aims it at files whose path starts with `prefix`. An
   * LD_PRELOAD already set (the ASan runtime, which must come first) is kept in front.
   */
  env(lib, prefix) {
    const preload = [process.env.LD_PRELOAD, lib].filter(Boolean).join(':');
    return { LD_PRELOAD: preload, TMEM_FAULT_PREFIX: prefix, TMEM_FAULT_CONTROL: this.path };
  }

  set(cls, rule) {
    const mode = MODES[rule.mode];
    if (!(cls in CLASSES) || mode === undefined) throw new Error(`iofault: bad rule ${cls} ${JSON.stringify(rule)}`);
    const buf = Buffer.alloc(20);
    buf.writeInt32LE(mode, 0);
    buf.writeUInt32LE(rule.every ?? 0, 4);
    buf.writeUInt32LE(rule.ppm ?? 0, 8);
    buf.writeInt32LE(rule.budget ?? -1, 12);
    // skip counts from the calls seen so far, so a rule set mid-run starts where it is set.
    buf.writeUInt32LE(rule.skip === undefined ? 0 : Number(this.counts(cls).calls) + rule.skip, 16);
    // Mode last: the shim must not see the new mode with the old frequency fields.
    const at = HEADER + RULE * CLASSES[cls];
    writeSync(this.#fd, buf, 4, 16, at + 4);
    writeSync(this.#fd, buf, 0, 4, at);
    return this;
  }

  /** Turns every rule off (counters stay). */
  off() {
    for (const cls of Object.keys(CLASSES)) this.set(cls, { mode: 'off' });
    return this;
  }

  /** Calls the shim considered (on watched files) and faults it injected, for one class. */
  counts(cls) {
    const buf = Buffer.alloc(16);
    readSync(this.#fd, buf, 0, 16, HEADER + RULE * CLASSES[cls] + 24);
    return { calls: Number(buf.readBigUInt64LE(0)), faults: Number(buf.readBigUInt64LE(8)) };
  }

  close() {
    closeSync(this.#fd);
  }
}
