#!/usr/bin/env node
// Starts the example service, drives it over loopback with autocannon for a bounded time, checks
// every response body against the document's checksum, and reports requests/s, latency and the
// service's RSS next to the size of the data it serves.
//
// usage: node load.mjs [--docs N] [--resident-mib M] [--pool-mib P] [--seconds S] [--connections C] [--backend B] [--json]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { checksum, documentBytes, serviceOptions } from './dataset.mjs';

const { values: opt } = parseArgs({
  options: {
    ...serviceOptions,
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const docs = Number(opt.docs);
const log = (...a) => opt.json || console.error(...a);

const server = spawn(
  process.execPath,
  [fileURLToPath(new URL('./server.mjs', import.meta.url)), '--docs', opt.docs, '--resident-mib', opt['resident-mib'],
    '--pool-mib', opt['pool-mib'], '--backend', opt.backend],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  log(`loading ${docs} documents into the service...`);
  const t0 = Date.now();
  const ready = await new Promise((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.includes('"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    server.once('exit', (code) => reject(new Error(`server exited with code ${code}`)));
  });
  log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${(ready.rawBytes / 2 ** 20).toFixed(0)} MiB of JSON`);
  const base = `http://127.0.0.1:${ready.port}`;

  // Zipf-like skew: a few documents are hot, most are cold.
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = () => Math.min(docs - 1, Math.floor(docs * rand() ** 3));
  let checked = 0;
  let mismatches = 0;
  const result = await autocannon({
    url: base,
    connections: Number(opt.connections),
    duration: Number(opt.seconds),
    requests: [{
      setupRequest: (req, ctx) => {
        ctx.id = pick();
        return { ...req, path: `/doc/${ctx.id}` };
      },
      onResponse: (status, body, ctx) => {
        checked++;
        if (status !== 200 || checksum(Buffer.from(body)) !== checksum(documentBytes(ctx.id))) mismatches++;
      },
    }],
  });
  const stats = await (await fetch(`${base}/stats`)).json();
  const summary = {
    docs,
    rawMiB: +(stats.rawBytes / 2 ** 20).toFixed(1),
    residentBudgetMiB: stats.residentBudget / 2 ** 20,
    dataToResidentRatio: +(stats.rawBytes / stats.residentBudget).toFixed(1),
    peakRssMiB: +(stats.peakRss / 2 ** 20).toFixed(1),
    rssMiB: +(stats.rss / 2 ** 20).toFixed(1),
    poolMiB: +(stats.poolBytes / 2 ** 20).toFixed(1),
    swapFileMiB: +(stats.fileBytes / 2 ** 20).toFixed(1),
    writtenBackPages: stats.writtenBack,
    requests: result.requests.total,
    requestsPerSec: result.requests.average,
    latencyP50ms: result.latency.p50,
    latencyP99ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    checked,
    mismatches,
    gets: stats.cache,
  };
  if (opt.json) console.log(JSON.stringify(summary));
  else console.table(Object.fromEntries(Object.entries(summary).filter(([k]) => k !== 'gets')));
  if (mismatches > 0 || summary.errors > 0 || checked === 0) process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await once(server, 'exit').catch(() => {});
}
