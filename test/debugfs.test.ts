import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALLOCATORS, debugfs, DebugfsTree, loadBackend, SwapCache, swapon, unloadBackend } from '../lib/index';
import { COUNTER_DESCRIPTIONS, descriptionKey } from '../lib/debugfs/descriptions';
import { comparePaths, prometheusName } from '../lib/debugfs/format';
import { readCounterFile } from '../lib/cli/stat';
import { backendsUnderTest } from './support/backends';

// The counters each allocator's directory must have (DESIGN §7, issue 11).
const ALLOCATOR_COUNTERS: Record<string, string[]> = {
  zsmalloc: ['zsmalloc/compactions', 'zsmalloc/pages_compacted', 'zsmalloc/pages'],
  z3fold: ['z3fold/pages', 'z3fold/buddied', 'z3fold/unbuddied', 'z3fold/headless', 'z3fold/zbytes'],
  zbud: ['zbud/pages', 'zbud/buddied', 'zbud/unbuddied', 'zbud/zbytes'],
};

function sampleTree(): { tree: DebugfsTree; state: Record<string, number>; calls: { native: number } } {
  const tree = new DebugfsTree();
  const state: Record<string, number> = { loads: 3, succ_stores: 7 };
  const calls = { native: 0 };
  tree.register('frontswap', () => ({ ...state }));
  tree.register('swap/10', () => ({ used_pages: 2, file_size: 8192 }));
  tree.register('swap/2', () => ({ used_pages: 1, file_size: 4096 }));
  // Like the backend registry: one provider for several directories, counted per call.
  tree.register('', () => {
    calls.native++;
    return { 'zcache/stored_pages': 5, 'zcache/mean_compressed_size': 1234.5, 'zbud/pages': 2 };
  });
  return { tree, state, calls };
}

/** Parses the Prometheus text format strictly enough to catch malformed lines. */
function parseExposition(text: string) {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/))) {
      expect(help.has(m[1])).toBe(false);
      help.set(m[1], m[2]);
    } else if ((m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped)$/))) {
      expect(type.has(m[1])).toBe(false);
      // TYPE comes before the metric's first sample.
      expect(samples.some((s) => s.name === m![1])).toBe(false);
      type.set(m[1], m[2]);
    } else if ((m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/))) {
      const labels: Record<string, string> = {};
      if (m[2]) {
        for (const pair of m[2].split(',')) {
          const lm = pair.match(/^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/);
          expect(lm, `label ${pair}`).not.toBeNull();
          labels[lm![1]] = lm![2];
        }
      }
      const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
      expect(Number.isNaN(value) && m[3] !== 'NaN').toBe(false);
      expect(type.has(m[1]), `TYPE before ${m[1]}`).toBe(true);
      samples.push({ name: m[1], labels, value });
    } else {
      throw new Error(`malformed exposition line: ${JSON.stringify(line)}`);
    }
  }
  // Samples of one metric are contiguous.
  const order = samples.map((s) => s.name).filter((n, i, a) => i === 0 || a[i - 1] !== n);
  expect(new Set(order).size).toBe(order.length);
  return { help, type, samples };
}

describe('debugfs tree formats', () => {
  it('read, list, snapshot and format agree, in a stable natural order', () => {
    const { tree } = sampleTree();
    const snap = tree.snapshot();
    expect(Object.keys(snap)).toEqual([
      'frontswap/loads',
      'frontswap/succ_stores',
      'swap/2/file_size',
      'swap/2/used_pages',
      'swap/10/file_size',
      'swap/10/used_pages',
      'zbud/pages',
      'zcache/mean_compressed_size',
      'zcache/stored_pages',
    ]);
    expect(tree.snapshot()).toEqual(snap);
    expect(tree.read('frontswap/loads')).toBe(3);
    expect(tree.read('/swap/10/used_pages/')).toBe(2);
    expect(tree.read('zcache/stored_pages')).toBe(5);
    expect(() => tree.read('zcache/nope')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NO_COUNTER' }));
    expect(() => tree.read('swap')).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NO_COUNTER' }));
    expect(tree.list('swap')).toEqual(['swap/2/file_size', 'swap/2/used_pages', 'swap/10/file_size', 'swap/10/used_pages']);
    expect(tree.list('swap/2')).toEqual(['swap/2/file_size', 'swap/2/used_pages']);
    expect(tree.list('nothing')).toEqual([]);
    expect(tree.list()).toEqual(Object.keys(snap));
    const lines = tree.format().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(Object.entries(snap).map(([p, v]) => `${p} ${v}`));
    expect(tree.format('zcache')).toBe('zcache/mean_compressed_size 1234.5\nzcache/stored_pages 5\n');
  });

  it('comparePaths is a total order with numbered segments by number', () => {
    const paths = ['swap/10/a', 'swap/9/b', 'swap/9/a', 'swapcache/0/keys', 'swap/09/a', 'a', 'a/b', 'zcache/x'];
    const sorted = [...paths].sort(comparePaths);
    expect(sorted).toEqual(['a', 'a/b', 'swap/09/a', 'swap/9/a', 'swap/9/b', 'swap/10/a', 'swapcache/0/keys', 'zcache/x']);
    for (const a of paths) for (const b of paths) expect(Math.sign(comparePaths(a, b)) + Math.sign(comparePaths(b, a))).toBe(0);
  });

  it('a snapshot calls each provider once, however many counters it has', () => {
    const tree = new DebugfsTree();
    let calls = 0;
    tree.register('', () => {
      calls++;
      return Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`zcache/c${i}`, i]));
    });
    expect(Object.keys(tree.snapshot())).toHaveLength(500);
    expect(calls).toBe(1);
    tree.format();
    tree.prometheus();
    expect(calls).toBe(3);
  });

  it('prometheus(): valid exposition, tmem_ names, labels for numbered directories, HELP and TYPE', () => {
    const { tree } = sampleTree();
    const { help, type, samples } = parseExposition(tree.prometheus());
    expect(samples.every((s) => s.name.startsWith('tmem_'))).toBe(true);
    expect(samples).toHaveLength(Object.keys(tree.snapshot()).length);
    expect(samples.filter((s) => s.name === 'tmem_swap_used_pages')).toEqual([
      { name: 'tmem_swap_used_pages', labels: { type: '2' }, value: 1 },
      { name: 'tmem_swap_used_pages', labels: { type: '10' }, value: 2 },
    ]);
    expect(samples.find((s) => s.name === 'tmem_zcache_mean_compressed_size')!.value).toBe(1234.5);
    expect(type.get('tmem_frontswap_succ_stores')).toBe('counter');
    expect(type.get('tmem_zcache_stored_pages')).toBe('gauge');
    expect(help.get('tmem_zcache_stored_pages')).toMatch(/pool/);
    expect(prometheusName('swapcache/3/keys')).toEqual({ name: 'tmem_swapcache_keys', labels: '{id="3"}' });
    expect(prometheusName('zsmalloc/class/1504/obj_used')).toEqual({ name: 'tmem_zsmalloc_class_obj_used', labels: '{size="1504"}' });
    expect(descriptionKey('zsmalloc/class/32/obj_used')).toBe('zsmalloc/class/<size>/obj_used');
    expect(prometheusName('weird-dir/x.y')).toEqual({ name: 'tmem_weird_dir_x_y', labels: '' });
  });

  it('non-finite and large values are written in a parseable form', () => {
    const tree = new DebugfsTree();
    tree.register('x', () => ({ nan: NaN, inf: Infinity, big: 2 ** 60, neg: -3 }));
    expect(tree.format()).toBe(`x/big ${BigInt(2 ** 60)}\nx/inf +Inf\nx/nan NaN\nx/neg -3\n`);
    const { samples } = parseExposition(tree.prometheus());
    expect(samples.map((s) => s.value)).toEqual([2 ** 60, Infinity, NaN, -3]);
  });

  it('a name that could leave the tree or start a line of its own is refused or left out', () => {
    const tree = new DebugfsTree();
    for (const dir of ['..', '../up', 'a/../../up', '.', 'a//b', 'new\nline', 'nul\0', 'sp ace', 'x{y="1"}']) {
      expect(() => tree.register(dir, () => ({ v: 1 })), dir).toThrow(RangeError);
    }
    tree.register('ok', () => ({
      v: 1,
      '../up': 2,
      'a/../b': 3,
      'fake 9\ntmem_injected': 4,
      '': 5,
      'sub/.': 6,
      text: '7\ninjected 8' as unknown as number,
    }));
    expect(tree.snapshot()).toEqual({ 'ok/v': 1 });
    expect(tree.format()).toBe('ok/v 1\n');
    expect(tree.prometheus()).not.toMatch(/injected|up/);
    for (const path of ['ok/../up', 'ok/a/../b', 'ok/text', 'ok/fake 9\ntmem_injected']) {
      expect(() => tree.read(path), path).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NO_COUNTER' }));
    }
    const base = mkdtempSync(join(tmpdir(), 'tmem-names-'));
    try {
      tree.mount(join(base, 'm'), { intervalMs: 0 });
      expect(walk(base)).toEqual(['m/ok/v']);
      tree.unmount();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('the real layers register documented counters', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tmem-debugfs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(backendsUnderTest)('$label: every counter has a description, the issue’s names are there', async ({ backend: name, allocator }) => {
    try {
      await loadBackend(name, { maxPoolBytes: 1 << 20, allocator });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_TMEM_NATIVE_UNAVAILABLE') return;
      throw err;
    }
    const area = swapon(join(dir, `swap-${name}`), { pages: 64 });
    const cache = new SwapCache({ residentBytes: 4096, pages: 64 });
    try {
      area.writePage(new Uint8Array(4096).fill(7));
      const paths = Object.keys(debugfs.snapshot());
      const undocumented = paths.filter((p) => !COUNTER_DESCRIPTIONS[descriptionKey(p)]);
      expect(undocumented).toEqual([]);
      for (const p of [
        'frontswap/loads', 'frontswap/succ_stores', 'frontswap/failed_stores', 'frontswap/invalidates',
        'cleancache/succ_gets', 'cleancache/failed_gets', 'cleancache/puts', 'cleancache/invalidates',
        `swap/${area.type}/pages`, `swap/${area.type}/used_pages`, `swap/${area.type}/file_size`,
        `swap/${area.type}/file_reads`, `swap/${area.type}/file_writes`,
        'zcache/stored_pages', 'zcache/pool_total_size', 'zcache/pool_limit_hit', 'zcache/reject_compress_poor',
        'zcache/reject_compress_fail', 'zcache/reject_alloc_fail', 'zcache/reject_reclaim_fail',
        'zcache/written_back_pages', 'zcache/same_filled_pages', 'zcache/duplicate_entry', 'zcache/decompress_fail',
        'zcache/stored_incompressible_pages', 'zcache/eph_pageframes', 'zcache/pers_pageframes',
        'zcache/evicted_eph_pageframes', 'zcache/outstanding_writeback_pages',
        ...ALLOCATOR_COUNTERS[allocator],
      ]) {
        expect(paths, p).toContain(p);
      }
      // Only the directory of the allocator in use.
      const dirs = new Set(paths.map((p) => p.split('/')[0]));
      for (const other of Object.keys(ALLOCATOR_COUNTERS)) expect(dirs.has(other), other).toBe(other === allocator);
      if (allocator === 'zsmalloc') {
        // The per-class table: every column for every class, named by its slot size.
        const columns = ['objs_per_zspage', 'pages_per_zspage', 'zspages', 'obj_allocated', 'obj_used', 'pages_used'];
        const sizes = new Set(paths.filter((p) => p.startsWith('zsmalloc/class/')).map((p) => p.split('/')[2]));
        expect(sizes.size).toBeGreaterThan(10);
        for (const size of sizes) for (const c of columns) expect(paths).toContain(`zsmalloc/class/${size}/${c}`);
        expect(debugfs.read(`zsmalloc/class/${Math.max(...[...sizes].map(Number))}/objs_per_zspage`)).toBe(1);
      }
      expect(debugfs.read('zcache/same_filled_pages')).toBe(1);
    } finally {
      cache.close();
      area.swapoff();
      await unloadBackend(name);
    }
  });

  it('the README has a line for every described counter', () => {
    const doc = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    for (const key of Object.keys(COUNTER_DESCRIPTIONS)) expect(doc, key).toContain(`\`${key}\``);
  });
});

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(root, p));
    else out.push(p);
  }
  return out.sort();
}

describe('debugfs.mount', () => {
  let base: string;
  const trees: DebugfsTree[] = [];
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'tmem-mount-'));
  });
  afterEach(() => {
    for (const t of trees.splice(0)) t.unmount();
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('writes one file per counter, refreshes changed values, removes gone counters, unmount removes the tree', () => {
    const { tree, state } = sampleTree();
    trees.push(tree);
    const extra: Record<string, number> = { keys: 1 };
    const unregister = tree.register('swapcache/0', () => ({ ...extra }));
    const dir = join(base, 'a', 'tree'); // parents are created
    const m = tree.mount(dir, { intervalMs: 0 });
    expect(tree.mounts).toEqual([m]);
    expect(walk(dir)).toEqual(Object.keys(tree.snapshot()).sort());
    expect(readFileSync(join(dir, 'frontswap/loads'), 'utf8')).toBe('3\n');
    expect(readFileSync(join(dir, 'zcache/mean_compressed_size'), 'utf8')).toBe('1234.5\n');
    state.loads = 42;
    m.refresh();
    expect(readFileSync(join(dir, 'frontswap/loads'), 'utf8')).toBe('42\n');
    unregister();
    m.refresh();
    expect(existsSync(join(dir, 'swapcache'))).toBe(false); // its directory went with its last file
    expect(walk(dir)).toEqual(Object.keys(tree.snapshot()).sort());
    tree.unmount();
    expect(m.mounted).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(tree.mounts).toEqual([]);
    expect(() => m.refresh()).toThrow(expect.objectContaining({ code: 'ERR_TMEM_NOT_MOUNTED' }));
  });

  it('refreshes on its interval with an unref’d timer', async () => {
    const { tree, state } = sampleTree();
    trees.push(tree);
    const dir = join(base, 'timed');
    const m = tree.mount(dir, { intervalMs: 20 });
    state.loads = 99;
    const deadline = Date.now() + 5000;
    while (readFileSync(join(dir, 'frontswap/loads'), 'utf8') !== '99\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(join(dir, 'frontswap/loads'), 'utf8')).toBe('99\n');
    expect(m.refreshes).toBeGreaterThan(1);
    m.unmount();
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a non-empty directory and bad options; accepts an empty one', () => {
    const tree = new DebugfsTree();
    trees.push(tree);
    const busy = join(base, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'x'), 'mine');
    expect(() => tree.mount(busy)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_MOUNT_BUSY' }));
    expect(readFileSync(join(busy, 'x'), 'utf8')).toBe('mine');
    expect(() => tree.mount(join(busy, 'x'))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_MOUNT_BUSY' }));
    expect(() => tree.mount(join(base, 'o'), { intervalMs: -1 })).toThrow(RangeError);
    expect(() => tree.mount(join(base, 'o'), { interval: 5 } as never)).toThrow(TypeError);
    expect(() => tree.mount('')).toThrow(TypeError);
    const empty = join(base, 'empty');
    mkdirSync(empty);
    tree.register('a', () => ({ b: 1 }));
    tree.mount(empty, { intervalMs: 0 });
    expect(readFileSync(join(empty, 'a/b'), 'utf8')).toBe('1\n');
    tree.unmount(empty);
    // Emptied, but not removed: the mount did not create it.
    expect(readdirSync(empty)).toEqual([]);
  });

  it('a reader polling the files during refreshes never sees a partial or empty value', async () => {
    const tree = new DebugfsTree();
    trees.push(tree);
    // Values whose length changes on every refresh, so a torn write would show.
    let n = 0;
    const N = 40;
    tree.register('r', () => Object.fromEntries(Array.from({ length: N }, (_, i) => [`c${i}`, n % 2 ? 10 ** 15 + n : n])));
    const dir = join(base, 'atomic');
    const m = tree.mount(dir, { intervalMs: 0 });
    // The reader runs on another thread, so it reads while this one is in the middle of refreshes.
    const worker = new Worker(
      `
      const { readFileSync, readdirSync } = require('node:fs');
      const { parentPort, workerData } = require('node:worker_threads');
      const bad = []; let reads = 0; let stop = false;
      parentPort.on('message', () => { stop = true; });
      (function loop() {
        for (let k = 0; k < 200; k++) {
          for (let i = 0; i < workerData.n; i++) {
            const text = readFileSync(workerData.dir + '/r/c' + i, 'utf8');
            reads++;
            if (!/^\\d+\\n$/.test(text)) bad.push(text);
          }
        }
        const strays = readdirSync(workerData.dir + '/r').filter((f) => !/^c\\d+$/.test(f) && !/\\.tmp-\\d+$/.test(f));
        if (stop) parentPort.postMessage({ bad, reads, strays }); else setImmediate(loop);
      })();
      `,
      { eval: true, workerData: { dir, n: N } },
    );
    const done = new Promise<{ bad: string[]; reads: number; strays: string[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const until = Date.now() + 1500;
    let refreshes = 0;
    while (Date.now() < until || refreshes < 50) {
      n++;
      m.refresh();
      refreshes++;
      if (refreshes % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    worker.postMessage('stop');
    const result = await done;
    await worker.terminate();
    expect(result.reads).toBeGreaterThan(N * 20);
    expect(refreshes).toBeGreaterThanOrEqual(50);
    expect(result.bad).toEqual([]);
    expect(result.strays).toEqual([]);
    // No temporary file is left behind.
    expect(walk(dir).filter((p) => /\.tmp-/.test(p))).toEqual([]);
    m.unmount();
  });

  it('removes the files of a swap area that is swapped off', () => {
    const dir = join(base, 'areas');
    const area = swapon(join(base, 'area.swap'), { pages: 16 });
    const m = debugfs.mount(dir, { intervalMs: 0 });
    try {
      expect(readFileSync(join(dir, `swap/${area.type}/pages`), 'utf8')).toBe('16\n');
      area.swapoff();
      m.refresh();
      expect(existsSync(join(dir, `swap/${area.type}`))).toBe(false);
      expect(readFileSync(join(dir, 'frontswap/loads'), 'utf8')).toMatch(/^\d+\n$/);
    } finally {
      if (area.active) area.swapoff();
      debugfs.unmount(dir);
    }
    expect(existsSync(dir)).toBe(false);
  });
});

describe('debugfs.mount where others can write', () => {
  let base: string;
  const trees: DebugfsTree[] = [];
  const isRoot = process.getuid?.() === 0;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'tmem-mount-'));
  });
  afterEach(() => {
    for (const t of trees.splice(0)) t.unmount();
    rmSync(base, { recursive: true, force: true });
  });
  let storedPages = 5;
  /** A tree with zcache/stored_pages = storedPages (and a few more counters). */
  const tree = (): DebugfsTree => {
    const t = new DebugfsTree();
    t.register('frontswap', () => ({ loads: 1 }));
    t.register('zcache', () => ({ stored_pages: storedPages, pool_pages: 2 }));
    trees.push(t);
    return t;
  };
  /** A directory standing for someone else's files, with a file named like a counter. */
  const victim = (): string => {
    const v = join(base, 'victim');
    mkdirSync(join(v, 'zcache'), { recursive: true });
    writeFileSync(join(v, 'zcache', 'stored_pages'), 'precious');
    return v;
  };
  const expectVictimUntouched = (v: string): void => {
    expect(readFileSync(join(v, 'zcache', 'stored_pages'), 'utf8')).toBe('precious');
    expect(walk(v)).toEqual(['zcache/stored_pages']);
  };

  it('refuses a root that is a symlink, writable by others, or (as root) owned by another user', () => {
    const t = tree();
    const v = victim();
    symlinkSync(v, join(base, 'link'));
    expect(() => t.mount(join(base, 'link'))).toThrow(expect.objectContaining({ code: 'ERR_TMEM_MOUNT_UNSAFE' }));
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o1777);
    expect(() => t.mount(open)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_MOUNT_UNSAFE' }));
    if (isRoot) {
      const theirs = join(base, 'theirs');
      mkdirSync(theirs, 0o755);
      chownSync(theirs, 65534, 65534);
      expect(() => t.mount(theirs)).toThrow(expect.objectContaining({ code: 'ERR_TMEM_MOUNT_UNSAFE' }));
      expect(readdirSync(theirs)).toEqual([]);
    }
    expect(readdirSync(open)).toEqual([]);
    expectVictimUntouched(v);
    expect(t.mounts).toEqual([]);
  });

  it('a root moved away and replaced by a symlink: writes stay in the tree it holds', () => {
    const t = tree();
    const v = victim();
    chmodSync(base, 0o777); // a parent anyone can write, without the sticky bit
    const dir = join(base, 'tree');
    const m = t.mount(dir, { intervalMs: 0 });
    renameSync(dir, join(base, 'moved'));
    symlinkSync(v, dir);
    storedPages = 6;
    m.refresh();
    expect(readFileSync(join(base, 'moved', 'zcache', 'stored_pages'), 'utf8')).toBe('6\n');
    m.unmount();
    expectVictimUntouched(v);
    expect(lstatSync(dir).isSymbolicLink()).toBe(true);
    expect(walk(join(base, 'moved'))).toEqual([]);
  });

  it('tmem stat reads a counter file without following a symlink or blocking on a FIFO', () => {
    const file = join(base, 'counter');
    writeFileSync(file, '42\n');
    expect(readCounterFile(file)).toBe('42\n');
    execFileSync('mkfifo', [join(base, 'fifo')]);
    symlinkSync(join(base, 'fifo'), join(base, 'to-fifo'));
    symlinkSync('/dev/zero', join(base, 'to-zero'));
    expect(readCounterFile(join(base, 'fifo'))).toBe(null);
    expect(readCounterFile(join(base, 'to-fifo'))).toBe(null);
    expect(readCounterFile(join(base, 'to-zero'))).toBe(null);
    expect(readCounterFile(join(base, 'missing'))).toBe(null);
  });

  it('a directory of the tree swapped for a symlink: nothing written, replaced or removed through it', () => {
    const t = tree();
    const v = victim();
    const dir = join(base, 'tree');
    const m = t.mount(dir, { intervalMs: 0 });
    rmSync(join(dir, 'zcache'), { recursive: true });
    symlinkSync(join(v, 'zcache'), join(dir, 'zcache'));
    storedPages = 7;
    m.refresh();
    expect(m.lastError).toMatchObject({ code: 'ERR_TMEM_MOUNT_IO' });
    m.unmount();
    expectVictimUntouched(v);
  });
});

describe('debugfs.createHandler over node:http', () => {
  let server: Server;
  let base: string;
  const { tree } = sampleTree();
  beforeAll(async () => {
    server = createServer(tree.createHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('GET /debug/tmem serves format()', async () => {
    for (const p of ['/debug/tmem', '/debug/tmem/', '/debug/tmem?x=1']) {
      const res = await fetch(base + p);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe(tree.format());
    }
  });

  it('GET /debug/tmem/<dir> serves the subtree, /debug/tmem/<path> the value', async () => {
    let res = await fetch(`${base}/debug/tmem/swap/10`);
    expect(await res.text()).toBe('swap/10/file_size 8192\nswap/10/used_pages 2\n');
    res = await fetch(`${base}/debug/tmem/swap`);
    expect((await res.text()).split('\n')).toHaveLength(5);
    res = await fetch(`${base}/debug/tmem/zcache/stored_pages`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('5\n');
  });

  it('GET /metrics serves prometheus() with the exposition content type', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toBe(tree.prometheus());
    expect(parseExposition(text).samples.length).toBe(9);
  });

  it('404 for unknown paths, 405 for other methods', async () => {
    for (const p of ['/debug/tmem/nope', '/debug/tmem/zcache/nope', '/', '/debug', '/debug/tmemx', '/metrics/x']) {
      const res = await fetch(base + p);
      expect(res.status, p).toBe(404);
      await res.text();
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}/debug/tmem`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      await res.text();
    }
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('405 before anything else, nosniff on every response, no request path in any body', async () => {
    for (const p of ['/nowhere', '/debug/tmem/zcache', '/metrics']) {
      const res = await fetch(base + p, { method: 'POST', body: 'x' });
      expect(res.status, p).toBe(405);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await res.text();
    }
    const probe = '<script>alert(1)</script>';
    for (const p of ['/', `/debug/tmem/${encodeURIComponent(probe)}`, `/${encodeURIComponent(probe)}`, '/debug/tmem', '/metrics', '/debug/%E0%A4%A']) {
      const res = await fetch(base + p);
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      const body = await res.text();
      expect(body).not.toContain('<script');
      expect(body).not.toContain('alert');
    }
  });

  it('a provider that throws gives 500, not a crash', async () => {
    const broken = new DebugfsTree();
    broken.register('x', () => {
      throw new Error('boom');
    });
    const s = createServer(broken.createHandler({ prefix: '/stats', metricsPath: null }));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      const res = await fetch(`${url}/stats`);
      expect(res.status).toBe(500);
      expect(await res.text()).toMatch(/boom/);
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
