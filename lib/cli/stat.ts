// `tmem stat DIR|URL`: prints a mounted counter tree (walking its files) or a served one
// (GET /debug/tmem); --watch redraws it, with per-second rates of the counters that changed.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { comparePaths, toPrometheus } from '../debugfs/format';
import { TMP_PATTERN } from '../debugfs/mount';
import { numberOption, parse } from './args';
import type { Io } from './demo';
import { UsageError } from './ui';

export const STAT_USAGE = `Usage: tmem stat DIR|URL [PREFIX...] [options]

Prints the counters of a running tmem: a tree mounted with debugfs.mount() or 'tmem demo --mount
DIR', or one served with debugfs.createHandler() or 'tmem demo --listen PORT' (URL like
http://127.0.0.1:9464). PREFIX limits the output to counters under those directories.

Options:
  -w, --watch [SECONDS]  redraw every SECONDS (default 2), with rates of counters that changed
  --prometheus           print the Prometheus text format instead of 'path value' lines
  -h, --help             show this help
`;

const OPTIONS = {
  watch: { type: 'string', short: 'w' },
  prometheus: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads a tree: a directory of counter files, or a server's /debug/tmem. */
export async function readTree(source: string): Promise<Record<string, number>> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/debug/tmem';
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${url.href}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${url.href}: HTTP ${res.status} ${text.split('\n')[0]}`);
    return parseLines(text, url.href);
  }
  const out: Record<string, number> = {};
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(source, rel), { withFileTypes: true });
    } catch (err) {
      if (rel === '') {
        const code = (err as { code?: string }).code;
        throw new Error(code === 'ENOENT' ? `${source}: no such directory (is the tree mounted?)` : `${source}: ${(err as Error).message}`);
      }
      return; // removed while walking
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && !TMP_PATTERN.test(e.name)) {
        const text = readCounterFile(join(source, path));
        if (text === null) continue; // removed (or replaced) while walking
        const value = parseValue(text.trim());
        if (value !== null) out[path] = value;
      }
    }
  };
  walk('');
  return sorted(out);
}

/**
 * @internal The text of one counter file, or null when it is not a regular file any more. Someone who can
 * write the tree could swap a file for a symlink to a FIFO or /dev/zero between the directory
 * walk and the read: no symlink is followed, nothing blocks, and no more than a counter is read.
 */
export function readCounterFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function parseValue(text: string): number | null {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : null;
}

function parseLines(text: string, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n').filter((l) => l !== '');
  // A single counter's URL answers with the bare value.
  if (lines.length === 1 && !lines[0].includes(' ')) {
    const value = parseValue(lines[0]);
    if (value === null) throw new Error(`${where}: not a counter tree`);
    out[new URL(where).pathname.replace(/^\/debug\/tmem\/?/, '')] = value;
    return out;
  }
  for (const line of lines) {
    const sp = line.lastIndexOf(' ');
    const value = sp > 0 ? parseValue(line.slice(sp + 1)) : null;
    if (value === null) throw new Error(`${where}: not a counter tree (line '${line.slice(0, 60)}')`);
    out[line.slice(0, sp)] = value;
  }
  return sorted(out);
}

function sorted(snap: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(snap).sort((a, b) => comparePaths(a[0], b[0])));
}

function filter(snap: Record<string, number>, prefixes: string[]): Record<string, number> {
  if (prefixes.length === 0) return snap;
  const ps = prefixes.map((p) => p.replace(/^\/+|\/+$/g, ''));
  return Object.fromEntries(Object.entries(snap).filter(([path]) => ps.some((p) => path === p || path.startsWith(p + '/'))));
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toFixed(0) : String(value);
}

/** Aligned `path value` lines; with `rates`, a `+N/s` column for the counters that changed. */
export function render(snap: Record<string, number>, rates?: Map<string, number>): string {
  const entries = Object.entries(snap);
  const pw = Math.max(0, ...entries.map(([p]) => p.length));
  const vw = Math.max(0, ...entries.map(([, v]) => formatValue(v).length));
  let out = '';
  for (const [path, value] of entries) {
    let line = `${path.padEnd(pw)}  ${formatValue(value).padStart(vw)}`;
    const rate = rates?.get(path);
    if (rate !== undefined && rate !== 0) {
      const r = Math.abs(rate) >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
      line += `  ${rate > 0 ? '+' : ''}${r}/s`;
    }
    out += line + '\n';
  }
  return out;
}

export async function stat(argv: string[], io: Io): Promise<number> {
  // --watch takes an optional number: `--watch`, `--watch 5`, `-w 5`, `--watch=5`.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '--watch' || argv[i] === '-w') && (i + 1 >= argv.length || !/^\d+(\.\d+)?$/.test(argv[i + 1]))) args.push('--watch=2');
    else args.push(argv[i]);
  }
  const { values: v, positionals } = parse('stat', args, OPTIONS, true);
  if (v.help) {
    io.stdout.write(STAT_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('stat: give a mounted directory or a URL (tmem stat --help)');
  const [source, ...prefixes] = positionals;
  const show = (snap: Record<string, number>, rates?: Map<string, number>) =>
    v.prometheus ? toPrometheus(snap) : render(snap, rates);

  if (v.watch === undefined) {
    const snap = filter(await readTree(source), prefixes);
    if (Object.keys(snap).length === 0) throw new Error(`${source}: no counters${prefixes.length ? ` under ${prefixes.join(', ')}` : ''}`);
    io.stdout.write(show(snap));
    return 0;
  }

  const seconds = numberOption('watch', v.watch, 2, 0.1, 86400);
  const tty = Boolean(io.stdout.isTTY);
  let prev: { snap: Record<string, number>; at: number } | null = null;
  let stopped = false;
  const onSigint = () => (stopped = true);
  process.on('SIGINT', onSigint);
  try {
    while (!stopped) {
      const at = performance.now();
      const snap = filter(await readTree(source), prefixes);
      const rates = new Map<string, number>();
      if (prev) {
        const dt = (at - prev.at) / 1000;
        for (const [path, value] of Object.entries(snap)) {
          const before = prev.snap[path];
          if (before !== undefined && before !== value) rates.set(path, (value - before) / dt);
        }
      }
      const header = `${source}  ${new Date().toISOString().slice(11, 19)}  every ${seconds} s${prev ? '' : ' (rates from the next refresh)'}\n\n`;
      io.stdout.write((tty ? '\x1b[H\x1b[2J' : prev ? '\n' : '') + header + show(snap, rates));
      prev = { snap, at };
      const until = Date.now() + seconds * 1000;
      while (!stopped && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  return 0;
}
