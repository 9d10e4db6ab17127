// The debugfs tree over HTTP, for node:http (or anything with the same request/response shape):
//
//   GET /debug/tmem            every counter as `path value` lines
//   GET /debug/tmem/zcache     the counters under zcache/ as `path value` lines
//   GET /debug/tmem/zcache/stored_pages   the value alone
//   GET /metrics               Prometheus text exposition format
//
// Methods other than GET and HEAD get 405 (whatever the path), unknown paths 404. Error bodies
// never repeat the request path, and every response says `X-Content-Type-Options: nosniff`, so a
// crafted URL cannot make a browser render anything from this server as HTML.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOptionKeys, checkOptionsObject, describe } from '../util/validate';
import { formatLines, formatValue, toPrometheus } from './format';
import type { DebugfsTree } from './tree';

export interface HandlerOptions {
  /** Where the tree is served. Default '/debug/tmem'. */
  prefix?: string;
  /** Where Prometheus metrics are served, or null for nowhere. Default '/metrics'. */
  metricsPath?: string | null;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

function send(res: ServerResponse, status: number, body: string, type = TEXT, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A request listener for http.createServer() serving `tree` and /metrics; see debugfs.createHandler(). */
export function createTreeHandler(tree: DebugfsTree, options: HandlerOptions = {}): RequestListener {
  const o = checkOptionsObject('createHandler', options);
  checkOptionKeys('createHandler', o, ['prefix', 'metricsPath']);
  if (o.prefix !== undefined && typeof o.prefix !== 'string') throw new TypeError(`prefix must be a string, got ${describe(o.prefix)}`);
  if (o.metricsPath !== undefined && o.metricsPath !== null && (typeof o.metricsPath !== 'string' || !o.metricsPath.startsWith('/'))) {
    throw new TypeError(`metricsPath must be a path starting with '/' or null, got ${describe(o.metricsPath)}`);
  }
  const prefix = '/' + String(o.prefix ?? '/debug/tmem').replace(/^\/+|\/+$/g, '');
  const metricsPath = o.metricsPath === undefined ? '/metrics' : (o.metricsPath as string | null);

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed: use GET\n', TEXT, { allow: 'GET, HEAD' });
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      send(res, 400, 'bad request path\n');
      return;
    }
    const inTree = pathname === prefix || pathname.startsWith(prefix + '/');
    if (!inTree && pathname !== metricsPath) {
      send(res, 404, `not found (try ${prefix}${metricsPath ? ` or ${metricsPath}` : ''})\n`);
      return;
    }
    let snapshot: Record<string, number>;
    try {
      snapshot = tree.snapshot();
    } catch (err) {
      send(res, 500, `cannot read counters: ${(err as Error).message}\n`);
      return;
    }
    if (!inTree) {
      send(res, 200, toPrometheus(snapshot), PROMETHEUS_CONTENT_TYPE);
      return;
    }
    const path = pathname.slice(prefix.length).replace(/^\/+|\/+$/g, '');
    if (!path) {
      send(res, 200, formatLines(snapshot));
      return;
    }
    if (Object.hasOwn(snapshot, path)) {
      send(res, 200, `${formatValue(snapshot[path])}\n`);
      return;
    }
    const sub = Object.entries(snapshot).filter(([p]) => p.startsWith(path + '/'));
    if (sub.length === 0) {
      send(res, 404, 'no such counter or directory\n');
      return;
    }
    send(res, 200, formatLines(Object.fromEntries(sub)));
  };
}
