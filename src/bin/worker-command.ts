import http from 'node:http';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { createWorkerProcessMetrics } from '../metrics/registry.ts';
import { describeStore, openStore } from '../store/open.ts';
import { createCrawlRuntime, type CrawlRuntime } from '../worker/runtime.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { metricsTokenCheck } from '../auth/metrics-token.ts';
import { intFlag, UsageError } from './cli-util.ts';
import { Startup } from './startup.ts';
import { startSchedulesAndWebhooks } from './background-work.ts';
import { readSecretFile, StoreWatch } from './process-state.ts';

/** `owl worker`: one crawl worker against PostgreSQL, serving its own /metrics. */
export async function runWorker(values: Record<string, unknown>): Promise<number> {
  const config = loadConfig(process.env, {
    metricsPort: intFlag(values, 'metrics-port', 0, 65535),
    concurrency: intFlag(values, 'concurrency', 1, 1024),
  });
  if (!config.databaseUrl) {
    throw new UsageError(
      'owl worker needs DATABASE_URL=postgres://… (workers share the frontier through PostgreSQL); on the embedded SQLite store `owl serve` already runs the workers in-process',
    );
  }
  const logger = createLogger({ level: config.logLevel });
  return new Startup('worker').run((startup) => start(config, logger, startup));
}

/** Opens the store, the crawler and the metrics server, one step at a time (a signal in between closes them: Startup). */
async function start(config: Config, logger: Logger, startup: Startup): Promise<void> {
  const store = await openStore(config);
  startup.opened(() => store.close());
  await startup.step('store opened');
  await store.migrate();
  await startup.step('store migrated');
  const watch = new StoreWatch(store, logger);
  startup.opened(() => watch.close());
  let runtime: CrawlRuntime | null = null;
  const metrics = createWorkerProcessMetrics({
    ...watch.gaugeSources(),
    browserPoolActive: () => runtime?.browser?.active() ?? 0,
  });
  // With OWL_METRICS_TOKEN_FILE the worker's /metrics (its sites' names among the labels) is as guarded as the API's.
  const refusal = config.metricsTokenFile ? metricsTokenCheck(readSecretFile(config.metricsTokenFile, 'OWL_METRICS_TOKEN_FILE')) : null;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      const refused = refusal?.(req.headers.authorization) ?? null;
      if (refused !== null) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: refused } }));
        return;
      }
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"Not found"}}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.host, resolve);
  });
  // Closed after the crawler (closers run newest first): /metrics answers while it drains.
  startup.opened(() => new Promise((resolve) => server.close(resolve)));
  await startup.step('listening');
  runtime = await createCrawlRuntime({ config, store, metrics: metrics.worker, logger, onStoreHealth: (up) => watch.set(up) });
  const crawler = runtime;
  startup.opened(() => crawler.close());
  await startup.step('crawler created');

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.metricsPort;
  runtime.crawler.start();
  await startSchedulesAndWebhooks({ store, config, metrics, logger, onJobCreated: () => crawler.crawler.wake() }, startup);
  logger.info({ store: describeStore(config), workerId: runtime.workerId, concurrency: config.concurrency }, `owl worker crawling; metrics on http://${config.host}:${port}/metrics`);
  startup.ready(logger);
}
