#!/usr/bin/env node
// A small HTTP service that keeps a large dataset in a SwapCache with a small resident budget:
// GET /doc/<id> serves a document, GET /stats reports memory and cache accounting.
//
// usage: node server.mjs [--docs N] [--resident-mib M] [--pool-mib P] [--port PORT] [--backend zcache|zcache-js|none]
// Prints one JSON line {"ready":true,"port":...} when it is serving.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { debugfs, loadBackend, SwapCache } from 'tmem';
import { documentBytes, serviceOptions } from './dataset.mjs';

const { values: opt } = parseArgs({ options: { ...serviceOptions, port: { type: 'string', default: '0' } } });
const docs = Number(opt.docs);

if (opt.backend !== 'none') await loadBackend(opt.backend, { maxPoolBytes: Number(opt['pool-mib']) << 20 });
const raw = { bytes: 0 };
const cache = new SwapCache({ residentBytes: Number(opt['resident-mib']) << 20, pages: Math.ceil((docs * 2048) / 4096) + 1024 });
for (let id = 0; id < docs; id++) {
  const doc = documentBytes(id);
  raw.bytes += doc.length;
  cache.set(String(id), doc);
  if (id % 4096 === 0) await new Promise(setImmediate); // let background writeback run while loading
}

// Peak resident set size of this process (Linux VmHWM), the number the example is about.
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

const server = createServer(async (req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/doc/')) {
    // getAsync: a document in the swap file is read on the libuv thread pool, so other requests
    // keep being served meanwhile.
    const doc = await cache.getAsync(req.url.slice(5));
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': doc.length }).end(doc);
  } else if (req.method === 'GET' && req.url === '/stats') {
    const tree = debugfs.snapshot();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      docs, rawBytes: raw.bytes, residentBudget: cache.residentBudget, rss: process.memoryUsage().rss, peakRss: peakRss(),
      cache: cache.stats(), poolBytes: tree['zcache/pool_total_size'] ?? 0, writtenBack: tree['zcache/written_back_pages'] ?? 0,
      fileBytes: tree[`swap/${cache.area.type}/file_allocated_bytes`],
    }));
  } else {
    res.writeHead(404).end();
  }
});
server.listen(Number(opt.port), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, port: server.address().port, rawBytes: raw.bytes }));
});
process.on('SIGTERM', () => server.close(() => { cache.close(); process.exit(0); }));
