import { expect } from 'chai';
import { request } from 'node:http';
import { Registry } from 'prom-client';
import { createMetrics, recordCycle, type Metrics } from '../../src/metrics/metrics.js';
import { health, healthStaleAfterSeconds, type MetricsServer, scheduleMaxGapSeconds, startMetricsServer } from '../../src/metrics/server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(srv: MetricsServer, method: string, path: string): Promise<Reply> {
  const { address, port } = srv.address();
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  let registry: Registry;
  let m: Metrics;
  let srv: MetricsServer;
  let nowMs: number;

  beforeEach(async () => {
    registry = new Registry();
    m = createMetrics(registry);
    nowMs = 1_700_000_000_000;
    srv = await startMetricsServer({ registry, port: 0, lastSuccessAtMs: () => m.lastSuccessAtMs, staleAfterSeconds: 60, now: () => nowMs });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('binds to loopback by default', () => {
    expect(srv.address().address).to.equal('127.0.0.1');
    expect(srv.address().port).to.be.greaterThan(0);
  });

  it('GET /metrics serves the registry with its content type', async () => {
    const r = await call(srv, 'GET', '/metrics');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal(registry.contentType);
    expect(r.body).to.include('# TYPE numaplace_cycles_total counter');
    expect(r.body).to.equal(await registry.metrics());
  });

  it('GET /healthz: 200 when the last successful cycle is recent', async () => {
    recordCycle(m, { outcome: 'success', durationSeconds: 1, endedAtMs: nowMs - 12_500 });
    const r = await call(srv, 'GET', '/healthz');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(r.body)).to.deep.equal({ status: 'ok', lastCycleAgeSeconds: 12.5 });
  });

  it('GET /healthz: 503 when the last successful cycle is stale', async () => {
    recordCycle(m, { outcome: 'success', durationSeconds: 1, endedAtMs: nowMs - 61_000 });
    recordCycle(m, { outcome: 'failure', durationSeconds: 1, endedAtMs: nowMs });
    const r = await call(srv, 'GET', '/healthz');
    expect(r.status).to.equal(503);
    expect(JSON.parse(r.body)).to.deep.equal({ status: 'stale', lastCycleAgeSeconds: 61 });
  });

  it('GET /healthz: 503 before the first successful cycle', async () => {
    const r = await call(srv, 'GET', '/healthz');
    expect(r.status).to.equal(503);
    expect(JSON.parse(r.body)).to.deep.equal({ status: 'stale', lastCycleAgeSeconds: null });
  });

  it('404 for other paths, 405 for other methods', async () => {
    expect((await call(srv, 'GET', '/')).status).to.equal(404);
    expect((await call(srv, 'GET', '/metrics/x')).status).to.equal(404);
    const post = await call(srv, 'POST', '/metrics');
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect((await call(srv, 'DELETE', '/healthz')).status).to.equal(405);
    expect((await call(srv, 'GET', '/metrics?x=1')).status).to.equal(200);
  });

  it('HEAD /metrics answers without a body', async () => {
    const r = await call(srv, 'HEAD', '/metrics');
    expect(r.status).to.equal(200);
    expect(r.body).to.equal('');
  });

  it('a port in use is an error naming the address and what to do', async () => {
    const { port } = srv.address();
    try {
      const other = await startMetricsServer({ registry, port, lastSuccessAtMs: () => null, staleAfterSeconds: 60 });
      await other.close();
      expect.fail('second bind succeeded');
    } catch (e) {
      expect((e as Error).message).to.equal(`metrics endpoint: cannot listen on 127.0.0.1:${port}: the port is in use (choose another metrics.port)`);
    }
  });

  it('close() stops listening even with a keep-alive connection open', async () => {
    const { address, port } = srv.address();
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: address, port, path: '/metrics', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await srv.close();
    agent.destroy();
    expect(srv.server.listening).to.equal(false);
    srv = await startMetricsServer({ registry, port: 0, lastSuccessAtMs: () => null, staleAfterSeconds: 1 }); // for afterEach
  });

  it('health(): the verdict on its own', () => {
    expect(health(null, 0, 10)).to.deep.equal({ status: 'stale', lastCycleAgeSeconds: null });
    expect(health(1000, 11_000, 10)).to.deep.equal({ status: 'ok', lastCycleAgeSeconds: 10 });
    expect(health(1000, 11_001, 10)).to.deep.equal({ status: 'stale', lastCycleAgeSeconds: 10.001 });
    expect(health(5000, 4000, 10)).to.deep.equal({ status: 'ok', lastCycleAgeSeconds: 0 });
  });
});

describe('health staleness threshold', () => {
  const from = new Date('2026-01-01T00:00:03Z');
  const cases: [string, number][] = [
    ['*/10 * * * * *', 10],
    ['*/7 * * * *', 7 * 60],
    ['0 * * * * *', 60],
    ['0 0 * * *', 24 * 3600],
  ];
  for (const [schedule, gap] of cases) {
    it(`longest gap of ${JSON.stringify(schedule)} is ${gap} s`, () => {
      expect(scheduleMaxGapSeconds(schedule, from)).to.equal(gap);
    });
  }
  it('three missed cycles plus a minute; default schedule: 90 s', () => {
    expect(healthStaleAfterSeconds('*/10 * * * * *')).to.equal(90);
  });
  it('leaves no node-cron task behind', async () => {
    const cron = (await import('node-cron')).default;
    const before = cron.getTasks().size;
    scheduleMaxGapSeconds('*/10 * * * * *');
    await new Promise((r) => setImmediate(r));
    expect(cron.getTasks().size).to.equal(before);
  });
  it('rejects an invalid schedule', () => {
    expect(() => scheduleMaxGapSeconds('61 * * * * *')).to.throw();
  });
});
