/**
 * The metrics endpoint: GET /metrics (Prometheus text exposition of one registry) and
 * GET /healthz (is the daemon still completing cycles?). Plain node:http: two routes
 * need no framework. Binds to loopback unless told otherwise: the metrics name VMs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import cron from 'node-cron';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  /** IP literal to listen on; default 127.0.0.1. */
  address?: string;
  /** TCP port; 0 picks a free one (tests). Default 9464. */
  port?: number;
  /** When the last successful cycle finished (ms since the epoch), or null if none yet. */
  lastSuccessAtMs: () => number | null;
  /** /healthz answers 503 when the last successful cycle is older than this (or there was none). */
  staleAfterSeconds: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Open connections at most (more are refused at accept); default METRICS_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A connection that sends no complete request within this is closed; default METRICS_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** A condition that makes the daemon unhealthy though cycles complete (e.g. the journal cannot be written), or null. */
  problem?: () => string | null;
}

export interface MetricsServer {
  readonly server: Server;
  /** The address and port actually bound (port resolved when 0 was asked). */
  address(): AddressInfo;
  /** Stop listening and close open connections. */
  close(): Promise<void>;
}

export interface Health {
  status: 'ok' | 'stale' | 'unhealthy';
  /** With status unhealthy: what is wrong. */
  problem?: string;
  /** Seconds since the last successful cycle; null when there was none yet. */
  lastCycleAgeSeconds: number | null;
}

/**
 * Longest wait between consecutive runs of a node-cron schedule, in seconds (over its next
 * dozen runs: enough for the periodic schedules a daemon uses). Throws on an invalid schedule.
 */
export function scheduleMaxGapSeconds(schedule: string, from: Date = new Date()): number {
  // createTask only builds a stopped task (nothing runs); destroy() unregisters it.
  const task = cron.createTask(schedule, () => undefined);
  try {
    const runs = [from, ...task.getNextRuns(12)].map((d) => d.getTime());
    let gap = 0;
    for (let i = 2; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
    return gap / 1000;
  } finally {
    void task.destroy();
  }
}

/**
 * The /healthz staleness threshold for a schedule: three missed cycles, plus a minute for the
 * cycle itself (sampling, solving, applying). The default schedule (every 10 s) gives 90 s.
 */
export function healthStaleAfterSeconds(schedule: string): number {
  return 3 * scheduleMaxGapSeconds(schedule) + 60;
}

/** The /healthz verdict (pure, exported for tests and for `numaplace` status output). */
export function health(lastSuccessAtMs: number | null, nowMs: number, staleAfterSeconds: number): Health {
  if (lastSuccessAtMs === null) return { status: 'stale', lastCycleAgeSeconds: null };
  const age = Math.max(0, (nowMs - lastSuccessAtMs) / 1000);
  return { status: age <= staleAfterSeconds ? 'ok' : 'stale', lastCycleAgeSeconds: Math.round(age * 1000) / 1000 };
}

function send(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

async function handle(opts: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz') {
    send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed: use GET\n`, { Allow: 'GET, HEAD' });
    return;
  }
  if (path === '/metrics') {
    const body = await opts.registry.metrics();
    send(res, 200, opts.registry.contentType, req.method === 'HEAD' ? '' : body);
    return;
  }
  let h = health(opts.lastSuccessAtMs(), (opts.now ?? Date.now)(), opts.staleAfterSeconds);
  const problem = opts.problem?.() ?? null;
  if (problem !== null && h.status === 'ok') h = { status: 'unhealthy', problem, lastCycleAgeSeconds: h.lastCycleAgeSeconds };
  send(res, h.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(h)}\n`);
}

/** A scraper and a health check need a handful; idle sockets beyond this are refused, not kept. */
export const METRICS_MAX_CONNECTIONS = 64;
export const METRICS_IDLE_TIMEOUT_MS = 10_000;

/** Start listening; resolves once bound (rejects with the listen error, e.g. EADDRINUSE). */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const idleMs = opts.idleTimeoutMs ?? METRICS_IDLE_TIMEOUT_MS;
  // Timeouts are checked every connectionsCheckingInterval: a fraction of the idle limit.
  const server = createServer({ connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(idleMs / 2))) }, (req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  // A scraper that holds a connection open must not keep shutdown waiting.
  server.keepAliveTimeout = Math.min(5000, idleMs);
  // Bounded: a client that opens sockets and sends nothing (or dribbles) is cut off, and at most
  // maxConnections are open at once, whatever a local process does.
  server.maxConnections = opts.maxConnections ?? METRICS_MAX_CONNECTIONS;
  server.headersTimeout = idleMs;
  server.requestTimeout = idleMs;
  server.setTimeout(idleMs, (socket) => socket.destroy());
  const address = opts.address ?? '127.0.0.1';
  const port = opts.port ?? 9464;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'the port is in use (choose another metrics.port)' : e.code === 'EADDRNOTAVAIL' ? 'no interface has this address (check metrics.address)' : e.message;
      reject(new Error(`metrics endpoint: cannot listen on ${address}:${port}: ${why}`, { cause: e }));
    };
    server.once('error', onError);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return {
    server,
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
