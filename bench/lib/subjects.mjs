// Everything the bench stores pages in, behind one small interface, so every subject runs the
// exact same loops over the exact same page views:
//
//   const s = await SUBJECTS[name].open({ n, tmp })   // room for offsets/keys 0..n-1
//   s.store(i, page) → truthy when kept     s.load(i, into) → truthy on a hit (fills `into`)
//   s.storeBatch?(b) / s.loadBatch?(b, into)          b = { offsets, pages, results, hits }
//   s.clear()        drops everything (never timed)
//   s.info()         { poolBytes?, metadataBytes?, storedPages?, keptBytes? } after a full store
//   await s.close()
//
// zcache and zcache-js are reached the way a user reaches them: frontswap hooks after swapon +
// loadBackend, one subject per allocator each backend has (ALLOCATORS, so an allocator is benched
// as soon as a backend lists it), named "backend/allocator". `zcache (Pool)` calls the native Pool
// directly (default allocator), to show the cost of the layers above it. Pools are sized so
// nothing is refused for size; incompressible pages are stored raw (storeIncompressible) and the
// running-mean rule is off, so every subject keeps every page and every load hits, as with the
// peers.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PAGE = 4096;

export function tmem() {
  const entry = join(ROOT, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error('bench: dist/ is missing; run `npm install` (or `npm run build`) first');
  return require(entry);
}

export function zcacheOptions(n) {
  return {
    // Twice the corpus plus slack: the pool never refuses for size, whatever the ratio.
    maxPoolBytes: Math.max(64 << 20, 2 * n * PAGE + (64 << 20)),
    writeback: false,
    storeIncompressible: true,
    maxMeanCompressedBytes: PAGE,
  };
}

function frontswapSubject(backend, allocator) {
  return {
    layer: 'frontswap',
    batch: true,
    backend,
    allocator,
    async open({ n, tmp }) {
      const t = tmem();
      const area = t.swapon(join(tmp, `swap-${backend}-${allocator}`), { pages: n });
      await t.loadBackend(backend, { ...zcacheOptions(n), allocator });
      const { frontswap, debugfs } = t;
      const type = area.type;
      return {
        store: (i, page) => frontswap.store(type, i, page),
        load: (i, into) => frontswap.load(type, i, into),
        storeBatch: (b) => frontswap.storeBatch(type, b.offsets, b.pages, b.results),
        loadBatch: (b, into) => frontswap.loadBatch(type, b.offsets, into, b.hits),
        clear: () => frontswap.invalidateArea(type),
        info() {
          const s = debugfs.snapshot();
          return zcacheInfo(s);
        },
        async close() {
          frontswap.invalidateArea(type); // nothing left to drain to the file on unload
          await t.unloadBackend(backend);
          area.swapoff();
        },
      };
    },
  };
}

// What the report needs from a zcache counter snapshot (flat 'dir/name' keys).
function zcacheInfo(s) {
  return {
    storedPages: s['zcache/stored_pages'],
    poolBytes: s['zcache/pool_total_size'],
    metadataBytes: s['zcache/metadata_bytes'],
    keptBytes: s['zcache/compressed_bytes'],
    stats: s,
  };
}

/** A native Pool with the bench's options (no writeback policy: the Pool has none). */
export function nativePool(n, options = {}) {
  const { loadNative } = require(join(ROOT, 'dist', 'native', 'binding.js'));
  const { Pool } = loadNative();
  const { writeback, ...opts } = zcacheOptions(n);
  return new Pool({ ...opts, ...options });
}

/** The pool's counters as a { 'dir/name': value } object. */
export function poolCounters(pool) {
  const values = new Float64Array(pool.statNames.length);
  pool.stats(values);
  return Object.fromEntries(pool.statNames.map((k, i) => [k, values[i]]));
}

function poolSubject(allocator) {
  return {
    layer: 'native Pool',
    batch: true,
    allocator,
    async open({ n }) {
      const pool = nativePool(n, { allocator });
      pool.initArea(0, n, -1);
      const status = new Map(); // results arrays per batch, as Int8Array views
      const i8 = (b) => {
        let s = status.get(b);
        if (!s) status.set(b, (s = new Int8Array(b.results.buffer, b.results.byteOffset, b.results.length)));
        return s;
      };
      return {
        store: (i, page) => pool.store(0, i, page) > 0,
        load: (i, into) => pool.load(0, i, into, false),
        storeBatch: (b) => pool.storeBatch(0, b.offsets, b.pages, i8(b)),
        loadBatch: (b, into) => pool.loadBatch(0, b.offsets, into, b.hits, false),
        clear() {
          pool.invalidateArea(0);
          pool.initArea(0, n, -1);
        },
        info: () => zcacheInfo(poolCounters(pool)),
        async close() {
          pool.close();
        },
      };
    },
  };
}

function mapInfo(map) {
  let bytes = 0;
  for (const v of map.values()) bytes += v.length;
  return { storedPages: map.size, keptBytes: bytes };
}

// A peer that keeps every page, encoded by `encode`, in a Map; `decodeInto` restores it.
function mapSubject(encode, decodeInto) {
  const map = new Map();
  return {
    store: (i, page) => map.set(i, encode(page)),
    load(i, into) {
      const v = map.get(i);
      if (v === undefined) return false;
      decodeInto(v, into, i);
      return true;
    },
    clear: () => map.clear(),
    info: () => mapInfo(map),
    async close() {
      map.clear();
    },
  };
}

const plainMap = {
  layer: 'peer',
  async open() {
    return mapSubject(
      (page) => Buffer.from(page),
      (v, into) => into.set(v),
    );
  },
};

const lz4napiMap = {
  layer: 'peer',
  async open() {
    const { compressSync, uncompressSync } = require('lz4-napi');
    return mapSubject(compressSync, (v, into) => into.set(uncompressSync(v)));
  },
};

const lz4jsMap = {
  layer: 'peer',
  async open() {
    // A pure-JS LZ4 block codec (the `lz4js` package) as a Map user would wire it: a reused hash
    // table (cleared per page: it holds absolute positions) and a reused output buffer; the block
    // is copied out to keep it. Pages that do not shrink are kept raw (a 4096-byte value means raw).
    const lz4 = require('lz4js');
    const table = new Uint32Array(1 << 16);
    const out = Buffer.alloc(lz4.compressBound(PAGE));
    return mapSubject(
      (page) => {
        table.fill(0);
        const n = lz4.compressBlock(page, out, 0, PAGE, table);
        return n > 0 && n < PAGE ? Buffer.from(out.subarray(0, n)) : Buffer.from(page);
      },
      (v, into, i) => {
        if (v.length === PAGE) into.set(v);
        else if (lz4.decompressBlock(v, into, 0, v.length, 0) !== PAGE) throw new Error(`lz4 js: bad block for ${i}`);
      },
    );
  },
};

function lmdbSubject(compression) {
  return {
    layer: 'peer',
    async open({ tmp }) {
      const { open } = require('lmdb');
      const dir = mkdtempSync(join(tmp, 'lmdb-'));
      // noSync: the pool is memory, so the peer does not pay an fsync per put either.
      const db = open({ path: dir, compression, encoding: 'binary', keyEncoding: 'uint32', noSync: true });
      return {
        store: (i, page) => db.putSync(i, page),
        load(i, into) {
          const v = db.get(i);
          if (v === undefined) return false;
          into.set(v);
          return true;
        },
        clear: () => db.clearSync(),
        info() {
          // lmdb's data lives in its memory-mapped file (the page cache), not in anonymous RSS: its
          // footprint is the database pages in use (a 4 KiB value takes two overflow pages).
          const st = db.getStats();
          return { storedPages: st.entryCount, dbBytes: (st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages) * st.pageSize };
        },
        async close() {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

const { ALLOCATORS } = tmem();
/** The subject of each backend's default allocator ("zcache/zsmalloc"), which the targets are about. */
export const DEFAULT_SUBJECT = Object.fromEntries(Object.entries(ALLOCATORS).map(([b, list]) => [b, `${b}/${list[0]}`]));
/** Every allocator of every backend, as frontswap subjects. */
export const ALLOCATOR_SUBJECTS = Object.entries(ALLOCATORS).flatMap(([backend, list]) =>
  list.map((allocator) => ({ name: `${backend}/${allocator}`, backend, allocator })));

export const SUBJECTS = {
  ...Object.fromEntries(ALLOCATOR_SUBJECTS.map((a) => [a.name, frontswapSubject(a.backend, a.allocator)])),
  'zcache (Pool)': poolSubject(ALLOCATORS.zcache[0]),
  Map: plainMap,
  'lz4-napi + Map': lz4napiMap,
  'lz4 JS + Map': lz4jsMap,
  'lmdb (compression)': lmdbSubject(true),
  lmdb: lmdbSubject(false),
};

/** Subjects that compress (the "compressing peers") and the uncompressed ones. */
export const COMPRESSING_PEERS = ['lz4-napi + Map', 'lz4 JS + Map', 'lmdb (compression)'];
export const PLAIN_PEERS = ['Map', 'lmdb'];
