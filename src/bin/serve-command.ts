import { buildApp } from '../api/app.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { createApiProcessMetrics, createEmbeddedMetrics, type GaugeSources } from '../metrics/registry.ts';
import { describeStore, openStore } from '../store/open.ts';
import { buildProxyPool, createCrawlRuntime, syncProxyHealth, type CrawlRuntime } from '../worker/runtime.ts';
import { intFlag, onShutdown } from './cli-util.ts';
import { lockDataDir, StoreWatch } from './process-state.ts';

/** `owl serve`: the API, plus in-process workers on the embedded store (or when asked on PostgreSQL). */
export async function runServe(values: Record<string, unknown>): Promise<number> {
  const config = loadConfig(process.env, { port: intFlag(values, 'port', 0, 65535) });
  const logger = createLogger({ level: config.logLevel });
  const embedded = !config.databaseUrl;
  const unlock = embedded ? lockDataDir(config.dataDir) : () => {};
  const store = await openStore(config);
  const { version } = await store.migrate();
  if (embedded) {
    // We hold the data folder's lock, so every lease left in the file belongs to a process that died.
    const requeued = await store.requeueExpired(Number.MAX_SAFE_INTEGER);
    if (requeued > 0) logger.info({ requeued }, 'URLs leased by a previous run returned to the queue');
  }
  const watch = new StoreWatch(store, logger);
  const withWorkers = embedded || config.inProcessWorkers;
  const proxies = await buildProxyPool(config);
  let runtime: CrawlRuntime | null = null;
  const sources: GaugeSources = {
    ...watch.gaugeSources(),
    proxyPool: () => ({ usable: proxies.usable(), configured: proxies.configured }),
    browserPoolActive: () => runtime?.browser?.active() ?? 0,
  };
  const metrics = withWorkers ? createEmbeddedMetrics(sources) : createApiProcessMetrics(sources);

  if (withWorkers) {
    runtime = await createCrawlRuntime({
      config,
      store,
      metrics: metrics.worker,
      logger,
      proxies,
      onStoreHealth: (up) => watch.set(up),
    });
  }
  // An API-only process still reports proxy health: it adopts what the workers record in the store.
  const proxyTimer = !withWorkers && proxies.configured > 0 ? setInterval(() => void syncProxyHealth(store, proxies, logger, false), 5_000) : null;
  proxyTimer?.unref();

  const app = await buildApp({
    store,
    metrics: metrics.api,
    registry: metrics.registry,
    config,
    logger,
    ready: () => store.ping(),
    onJobCreated: () => runtime?.crawler.wake(),
  });
  const address = await app.listen({ host: config.host, port: config.port });
  runtime?.crawler.start();
  logger.info({ store: describeStore(config), schema: version, workers: withWorkers ? config.concurrency : 0 }, `owl serve listening on ${address} (API ${address}/jobs, metrics ${address}/metrics)`);
  if (!process.stdout.isTTY) console.error(`owl serve listening on ${address}`);

  onShutdown(logger, async () => {
    await app.close();
    await runtime?.close();
    if (proxyTimer) clearInterval(proxyTimer);
    watch.close();
    await store.close();
    unlock();
  });
  return new Promise<number>(() => {});
}
