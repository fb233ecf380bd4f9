import { buildApp } from '../api/app.ts';
import { startControlSocket } from '../auth/control-socket.ts';
import { assertAuthMode, type AuthMode } from '../auth/hook.ts';
import { ensureBootstrapKey } from '../auth/key-service.ts';
import { startQuotaEnforcer } from '../auth/quota.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { buildProxyPool } from '../crawl/proxy-pool.ts';
import { createLogger, type Logger } from '../log.ts';
import { createApiProcessMetrics, createEmbeddedMetrics, type GaugeSources } from '../metrics/registry.ts';
import { describeStore, openStore } from '../store/open.ts';
import { outboxGaugeSource } from '../webhooks/outbox-gauge.ts';
import type { WebhookSender } from '../webhooks/sender.ts';
import type { CrawlRuntime } from '../worker/runtime.ts';
import { intFlag } from './cli-util.ts';
import { commitFailureReporter, lockDataDir, readSecretFile, startAuditRetention, startContentRetention, StoreWatch } from './process-state.ts';
import { Startup } from './startup.ts';
import { startSchedulesAndWebhooks } from './background-work.ts';

/** `owl serve`: the API, plus in-process workers on the embedded store (or when asked on PostgreSQL). */
export async function runServe(values: Record<string, unknown>): Promise<number> {
  const config = loadConfig(process.env, { port: intFlag(values, 'port', 0, 65535) });
  const logger = createLogger({ level: config.logLevel });
  return new Startup('serve').run((startup) => start(config, logger, startup));
}

/**
 * Opens the store, the API, the workers, the scheduler and the webhook sender, one step at a time
 * (a signal in between closes what is open: Startup). Closers run newest first.
 */
async function start(config: Config, logger: Logger, startup: Startup): Promise<void> {
  const authMode = config.auth as AuthMode;
  assertAuthMode(authMode, config.host);
  const metricsToken = config.metricsTokenFile ? readSecretFile(config.metricsTokenFile, 'OWL_METRICS_TOKEN_FILE') : undefined;
  const bootstrapKey = config.bootstrapKeyFile ? readSecretFile(config.bootstrapKeyFile, 'OWL_BOOTSTRAP_KEY_FILE') : undefined;
  const embedded = !config.databaseUrl;
  if (embedded) startup.opened(lockDataDir(config.dataDir));
  const commits = commitFailureReporter(logger);
  const store = await openStore(config, commits);
  startup.opened(() => store.close());
  await startup.step('store opened');
  const { version } = await store.migrate();
  if (bootstrapKey !== undefined && (await ensureBootstrapKey(store, bootstrapKey))) logger.info('created the admin key "bootstrap" from OWL_BOOTSTRAP_KEY_FILE');
  await startup.step('store migrated');
  const watch = new StoreWatch(store, logger);
  startup.opened(() => watch.close());
  const withWorkers = embedded || config.inProcessWorkers;
  const proxies = await buildProxyPool(config);
  let runtime: CrawlRuntime | null = null;
  const sources: GaugeSources = {
    ...watch.gaugeSources(),
    proxyPool: () => ({ usable: proxies.usable(), configured: proxies.configured }),
    browserPoolActive: () => runtime?.browser?.active() ?? 0,
    outbox: outboxGaugeSource(store.webhooks),
  };
  const metrics = withWorkers ? createEmbeddedMetrics(sources) : createApiProcessMetrics(sources);
  commits.attach(metrics.storeCommitFailures);

  let sender: WebhookSender | null = null;
  const app = await buildApp({
    store,
    metrics: metrics.api,
    registry: metrics.registry,
    config,
    logger,
    ready: () => store.ping(),
    auth: { mode: authMode, metricsToken },
    onJobCreated: () => runtime?.crawler.wake(),
    onWebhookEvent: () => sender?.wake(),
  });
  startup.opened(() => app.close());
  await startup.step('API built');
  if (embedded) {
    const closeControl = await startControlSocket(store, config.dataDir, () => app.forgetKeys());
    startup.opened(closeControl);
  }
  const address = await app.listen({ host: config.host, port: config.port });
  await startup.step('listening');
  // The crawl modules load after the API answers (and a browser pool's Playwright, the slowest).
  if (withWorkers) {
    const { createCrawlRuntime } = await import('../worker/runtime.ts');
    const workers = await createCrawlRuntime({
      config,
      store,
      metrics: metrics.worker,
      logger,
      proxies,
      onStoreHealth: (up) => watch.set(up),
    });
    runtime = workers;
    // Closed before the API (closers run newest first): /healthz and /metrics answer while they drain.
    startup.opened(() => workers.close());
    await startup.step('workers created');
    workers.crawler.start();
  } else if (proxies.configured > 0) {
    // An API-only process still reports proxy health: it adopts what the workers record in the store.
    const { syncProxyHealth } = await import('../worker/runtime.ts');
    const proxyTimer = setInterval(() => void syncProxyHealth(store, proxies, logger, false), 5_000);
    proxyTimer.unref();
    startup.opened(() => clearInterval(proxyTimer));
  }
  // Loaded after the API answers, like the crawl modules: an event written before the sender
  // starts waits in the outbox, which the sender reads as soon as it starts.
  sender = await startSchedulesAndWebhooks({ store, config, metrics, logger, onJobCreated: () => runtime?.crawler.wake() }, startup);
  startup.opened(startContentRetention(store, config.contentRetentionDays, logger));
  startup.opened(startAuditRetention(store, config.auditRetentionDays, logger));
  startup.opened(startQuotaEnforcer(store, logger));
  logger.info({ store: describeStore(config), schema: version, workers: withWorkers ? config.concurrency : 0 }, `owl serve listening on ${address} (API ${address}/jobs, metrics ${address}/metrics)`);
  if (!process.stdout.isTTY) console.error(`owl serve listening on ${address}`);
  if (authMode === 'off') logger.warn('OWL_AUTH=off: the API answers without a key (accepted because it listens on loopback only)');
  else if ((await store.keys.list()).length === 0) {
    const hint = `no API key exists yet: every request but /healthz, /readyz, /metrics and /openapi.json is refused (401). Create one, while this server runs, with:\n  node bin/owl.js keys create --name me --scopes admin\nthen send it as: curl -H "Authorization: Bearer owl_…" ${address}/jobs`;
    logger.warn(hint);
    if (!process.stdout.isTTY) console.error(`owl serve: ${hint}`);
  }
  startup.ready(logger);
}
