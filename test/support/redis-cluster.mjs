// @ts-check
// A real Redis Cluster on loopback for the remote tier's tests and bench: Debian's `redis-server`
// (7.0), N masters + N·R replicas, each node in its own temp directory with persistence off, the
// cluster formed here (ADDSLOTSRANGE, MEET, REPLICATE) rather than by `redis-cli --cluster create`,
// which shuffles replicas and polls once a second. Nothing is downloaded and nothing runs as a
// daemon: the nodes are children of this process, killed when it exits.
//
// Ports come from a probe in 31000–39999 (the cluster bus takes port + 10000), starting at a
// random point, so test files running in parallel and other users of the machine (6400–6409) do
// not collide; a node that still loses the race to bind is started again on other ports.
//
// The server is `redis-server` from Debian's redis-server package or, with only redis-tools
// installed, the same binary under its other name: redis-check-rdb runs as the server when started
// as argv[0] 'redis-server' (the mode comes from the program name).
//
// Plain JavaScript (checked by TypeScript through @ts-check) so the bench scripts can use it too.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import Redis from 'ioredis';

const HOST = '127.0.0.1';
const PORT_LOW = 31000;
const PORT_HIGH = 39999;
const BUS_OFFSET = 10000;
const SLOTS = 16384;

/** The program to start as redis-server, found on PATH. */
function serverBinary() {
  const dirs = (process.env.PATH ?? '').split(':');
  for (const name of ['redis-server', 'redis-check-rdb']) {
    const dir = dirs.find((d) => existsSync(join(d, name)));
    if (dir) return join(dir, name);
  }
  throw new Error('redis cluster: neither redis-server nor redis-check-rdb is on PATH (apt-get install redis-tools)');
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true when `port` can be bound on loopback right now. */
function portFree(/** @type {number} */ port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

let nextProbe = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));

/** A port in the probe range whose bus port is free too. */
async function freePort() {
  for (let tries = 0; tries < PORT_HIGH - PORT_LOW; tries++) {
    const port = nextProbe;
    nextProbe = nextProbe >= PORT_HIGH ? PORT_LOW : nextProbe + 1;
    if ((await portFree(port)) && (await portFree(port + BUS_OFFSET))) return port;
  }
  throw new Error(`no free port pair in ${PORT_LOW}-${PORT_HIGH}`);
}

/**
 * Commands to the node on `port` in one pipeline over a fresh connection, so a node that was
 * killed or stopped only fails (or times out) the commands aimed at it. Replies in order; a
 * command's error is thrown.
 * @param {number} port
 * @param {(string | number | Buffer)[][]} commands
 * @returns {Promise<any[]>}
 */
export async function nodePipeline(port, commands) {
  const conn = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    protocol: 2,
    disableClientInfo: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  conn.on('error', () => {});
  try {
    await conn.connect();
    const p = conn.pipeline();
    for (const [name, ...args] of commands) p.call(String(name), ...args);
    const replies = /** @type {[Error | null, any][]} */ (await p.exec());
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  } finally {
    conn.disconnect();
  }
}

/**
 * One command to the node on `port` (see nodePipeline).
 * @param {number} port
 * @param {string} name
 * @param {...(string | number | Buffer)} args
 * @returns {Promise<any>}
 */
export async function nodeCommand(port, name, ...args) {
  const [reply] = await nodePipeline(port, [[name, ...args]]);
  return reply;
}

/** `key:value` lines of INFO or CLUSTER INFO as an object. */
function parseInfo(/** @type {string} */ text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * Polls `check` every 50 ms until it returns a truthy value, or throws after `timeoutMs`.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} check
 * @param {number} timeoutMs
 * @returns {Promise<T>}
 */
async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(50);
  }
}

/**
 * @typedef {object} ClusterOptions
 * @property {number} [masters] masters (default 3)
 * @property {number} [replicas] replicas per master (default 1)
 * @property {number} [nodeTimeoutMs] cluster-node-timeout (default 1000): failover takes about this plus 1–2 s
 * @property {string} [maxmemory] per-node maxmemory (default '256mb', policy noeviction)
 * @property {string[]} [extraArgs] more redis-server arguments for every node
 */

/**
 * @typedef {object} ClusterNode
 * @property {number} port
 * @property {string} dir
 * @property {string} id cluster node id
 * @property {import('node:child_process').ChildProcess | null} proc null while killed
 */

export class RedisCluster {
  /** @type {ClusterNode[]} */
  nodes = [];
  /** @type {string} */
  #root;
  /** @type {Required<ClusterOptions>} */
  #options;

  /** @param {Required<ClusterOptions>} options */
  constructor(options) {
    this.#options = options;
    this.#root = mkdtempSync(join(tmpdir(), 'tmem-redis-'));
  }

  /** Seed addresses for a client: every node. */
  get seeds() {
    return this.nodes.map((n) => ({ host: HOST, port: n.port }));
  }

  /** Arguments of one node; the data directory keeps nodes.conf across restarts and nothing else. */
  #args(/** @type {number} */ port, /** @type {string} */ dir) {
    const o = this.#options;
    return [
      '--port', String(port), '--bind', HOST, '--dir', dir, '--daemonize', 'no', '--logfile', '',
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(o.nodeTimeoutMs), '--cluster-require-full-coverage', 'no',
      '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0',
      // Replicas appear in CLUSTER SLOTS once their offset is non-zero; pinging every second
      // moves it on an idle master (the default, 10 s, would hold up forming the cluster).
      '--repl-ping-replica-period', '1',
      '--maxmemory', o.maxmemory, '--maxmemory-policy', 'noeviction',
      ...o.extraArgs,
    ];
  }

  /** Starts redis-server for `node` and resolves once it accepts connections. */
  async #spawn(/** @type {ClusterNode} */ node) {
    const proc = spawn(serverBinary(), this.#args(node.port, node.dir), { argv0: 'redis-server', stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    let log = '';
    await new Promise((resolve, reject) => {
      const onData = (/** @type {Buffer} */ chunk) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) {
          proc.stdout?.off('data', onData);
          proc.stdout?.resume();
          resolve(undefined);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.resume();
      proc.once('error', reject);
      proc.once('exit', (code) => reject(new Error(`redis-server on port ${node.port} exited (${code}): ${log.slice(-400)}`)));
    });
    node.proc = proc;
  }

  /** Adds a node on a free port, retrying on another port if the probe lost a race. */
  async #addNode() {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const dir = join(this.#root, String(port));
      mkdirSync(dir, { recursive: true });
      /** @type {ClusterNode} */
      const node = { port, dir, id: '', proc: null };
      try {
        await this.#spawn(node);
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        if (attempt < 5 && /Address already in use/.test(String(e))) continue;
        throw e;
      }
      node.id = await nodeCommand(port, 'CLUSTER', 'MYID');
      this.nodes.push(node);
      return node;
    }
  }

  /** Starts the nodes and forms the cluster: slots split evenly over the masters, replicas attached. */
  async start() {
    const { masters, replicas } = this.#options;
    await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => this.#addNode()));
    const per = Math.ceil(SLOTS / masters);
    await Promise.all(this.nodes.map((n, i) => nodeCommand(n.port, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1)));
    for (let m = 0; m < masters; m++) {
      await nodeCommand(this.nodes[m].port, 'CLUSTER', 'ADDSLOTSRANGE', m * per, Math.min(SLOTS, (m + 1) * per) - 1);
    }
    const first = this.nodes[0];
    await Promise.all(this.nodes.slice(1).map((n) => nodeCommand(n.port, 'CLUSTER', 'MEET', HOST, first.port)));
    await until('every node to know every other', async () => {
      const views = await Promise.all(this.nodes.map((n) => nodeCommand(n.port, 'CLUSTER', 'NODES')));
      return views.every((v) => v.trim().split('\n').filter((l) => !/handshake|noaddr/.test(l)).length === this.nodes.length);
    }, 20_000);
    await Promise.all(this.nodes.slice(masters).map((n, i) => nodeCommand(n.port, 'CLUSTER', 'REPLICATE', this.nodes[i % masters].id)));
    await this.waitHealthy();
    return this;
  }

  /**
   * Waits until every running node reports cluster_state:ok and agrees on the slot map, and every
   * running replica's link to its master is up and in sync.
   */
  async waitHealthy(timeoutMs = 30_000) {
    await until('a healthy cluster', async () => {
      const running = this.nodes.filter((n) => n.proc);
      const infos = await Promise.all(running.map((n) => nodeCommand(n.port, 'CLUSTER', 'INFO')));
      if (!infos.every((t) => parseInfo(t).cluster_state === 'ok')) return false;
      const maps = await Promise.all(running.map((n) => this.#slotMapFrom(n.port)));
      if (new Set(maps.map((m) => JSON.stringify(m))).size !== 1) return false;
      if (maps[0].some((s) => s.replicas.length < this.#options.replicas)) return false;
      for (const n of running) {
        const repl = parseInfo(await nodeCommand(n.port, 'INFO', 'replication'));
        if (repl.role === 'slave' && (repl.master_link_status !== 'up' || repl.master_sync_in_progress !== '0')) return false;
      }
      return true;
    }, timeoutMs);
  }

  /** CLUSTER SLOTS from one node as [{ start, end, master: port, replicas: port[] }], sorted. */
  async #slotMapFrom(/** @type {number} */ port) {
    /** @type {any[]} */
    const reply = await nodeCommand(port, 'CLUSTER', 'SLOTS');
    return reply
      .map((r) => ({ start: r[0], end: r[1], master: r[2][1], replicas: r.slice(3).map((/** @type {any[]} */ x) => x[1]).sort() }))
      .sort((a, b) => a.start - b.start);
  }

  /** The slot map as one running, responsive node sees it. */
  async slotMap() {
    for (const n of this.nodes.filter((x) => x.proc)) {
      try {
        return await this.#slotMapFrom(n.port);
      } catch {
        // a stopped node times out: ask the next one
      }
    }
    throw new Error('redis cluster: no node answers');
  }

  /** The master port and replica ports serving `key` (hash tags honoured). */
  async shardOf(/** @type {string} */ key) {
    const slot = calculateSlot(key);
    const range = (await this.slotMap()).find((r) => r.start <= slot && slot <= r.end);
    if (!range) throw new Error(`redis cluster: slot ${slot} is not served`);
    return { slot, master: range.master, replicas: range.replicas };
  }

  /** The node on `port`. */
  node(/** @type {number} */ port) {
    const n = this.nodes.find((x) => x.port === port);
    if (!n) throw new Error(`redis cluster: no node on port ${port}`);
    return n;
  }

  /** Sends `signal` to the node: SIGKILL (crash), SIGSTOP (hang, no RST), SIGCONT (resume). */
  signal(/** @type {number} */ port, /** @type {NodeJS.Signals} */ signal) {
    const n = this.node(port);
    if (!n.proc) throw new Error(`redis cluster: node ${port} is not running`);
    n.proc.kill(signal);
    if (signal === 'SIGKILL') n.proc = null;
  }

  /** SIGKILLs the node and waits until the process is gone. */
  async kill(/** @type {number} */ port) {
    const proc = this.node(port).proc;
    if (!proc) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    this.signal(port, 'SIGKILL');
    await gone;
  }

  /**
   * Starts a killed node again on its port and directory. Persistence is off, so it comes back
   * empty: after a failover it rejoins as a replica and resyncs; restarted before any failover it
   * is an empty master that wipes its replicas too (the window the canary detects).
   */
  async restart(/** @type {number} */ port) {
    const n = this.node(port);
    if (n.proc) throw new Error(`redis cluster: node ${port} is still running`);
    await this.#spawn(n);
  }

  /** Waits until a replica that served `oldMaster`'s slots is master of them; returns its port. */
  async waitFailover(/** @type {number} */ oldMaster, /** @type {number[]} */ replicas, timeoutMs = 30_000) {
    return until(`failover of ${oldMaster}`, async () => {
      for (const port of replicas) {
        /** @type {any[]} */
        const role = await nodeCommand(port, 'ROLE').catch(() => null);
        if (role?.[0] === 'master') return port;
      }
      return 0;
    }, timeoutMs);
  }

  /** The running masters' ports. */
  async masters() {
    return [...new Set((await this.slotMap()).map((r) => r.master))];
  }

  /** Keys matching a glob `pattern` on every master (SCAN). */
  async keys(/** @type {string} */ pattern) {
    /** @type {string[]} */
    const out = [];
    for (const port of await this.masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await nodeCommand(port, 'SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000);
        out.push(...batch);
        cursor = next;
      } while (cursor !== '0');
    }
    return out.sort();
  }

  /**
   * Starts moving `slot` to the master on `toPort` the way redis-cli --cluster reshard does
   * (IMPORTING / MIGRATING, then MIGRATE), moving only the first `keys` keys now. `finish()`
   * moves the rest and assigns the slot to the target everywhere.
   */
  async migrateSlot(/** @type {number} */ slot, /** @type {number} */ toPort, /** @type {number} */ keys) {
    const range = (await this.slotMap()).find((r) => r.start <= slot && slot <= r.end);
    if (!range) throw new Error(`redis cluster: slot ${slot} is not served`);
    const from = range.master;
    const [fromId, toId] = [this.node(from).id, this.node(toPort).id];
    await nodeCommand(toPort, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await nodeCommand(from, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    const move = async (/** @type {number} */ count) => {
      /** @type {string[]} */
      const batch = await nodeCommand(from, 'CLUSTER', 'GETKEYSINSLOT', slot, count);
      if (batch.length) await nodeCommand(from, 'MIGRATE', HOST, toPort, '', 0, 5000, 'KEYS', ...batch);
    };
    await move(keys);
    return {
      from,
      finish: async () => {
        await move(1 << 20);
        for (const port of await this.masters()) await nodeCommand(port, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      },
    };
  }

  /** Stops every node and removes the directories. */
  async stop() {
    await Promise.all(this.nodes.filter((n) => n.proc).map(async (n) => {
      n.proc?.kill('SIGCONT');
      await this.kill(n.port);
    }));
    rmSync(this.#root, { recursive: true, force: true });
  }
}

/**
 * Starts and forms a cluster; `await cluster.stop()` when done.
 * @param {ClusterOptions} [options]
 */
export async function startRedisCluster(options = {}) {
  const cluster = new RedisCluster({
    masters: options.masters ?? 3,
    replicas: options.replicas ?? 1,
    nodeTimeoutMs: options.nodeTimeoutMs ?? 1000,
    maxmemory: options.maxmemory ?? '256mb',
    extraArgs: options.extraArgs ?? [],
  });
  try {
    return await cluster.start();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
