import http from 'node:http';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { createWorkerProcessMetrics } from '../metrics/registry.ts';
import { describeStore, openStore } from '../store/open.ts';
import { createCrawlRuntime, type CrawlRuntime } from '../worker/runtime.ts';
import { intFlag, onShutdown, UsageError } from './cli-util.ts';
import { StoreWatch } from './process-state.ts';

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
  const store = await openStore(config);
  await store.migrate();
  const watch = new StoreWatch(store, logger);
  let runtime: CrawlRuntime | null = null;
  const metrics = createWorkerProcessMetrics({
    ...watch.gaugeSources(),
    browserPoolActive: () => runtime?.browser?.active() ?? 0,
  });
  runtime = await createCrawlRuntime({ config, store, metrics: metrics.worker, logger, onStoreHealth: (up) => watch.set(up) });

  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
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
  await new Promise<void>((resolve) => server.listen(config.metricsPort, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.metricsPort;
  runtime.crawler.start();
  logger.info({ store: describeStore(config), workerId: runtime.workerId, concurrency: config.concurrency }, `owl worker crawling; metrics on http://${config.host}:${port}/metrics`);

  onShutdown(logger, async () => {
    await runtime!.close();
    await new Promise((resolve) => server.close(resolve));
    watch.close();
    await store.close();
  });
  return new Promise<number>(() => {});
}
