/**
 * The HTTP API (Fastify 5): job routes, operational routes, OpenAPI document, request metrics.
 * `buildApp` returns an app that is not listening; the caller listens and closes it.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.ts';
import type { ApiMetrics } from '../metrics/registry.ts';
import type { Store } from '../store/types.ts';
import { handleError, handleFrameworkError, handleNotFound } from './http-errors.ts';
import { createRequestInstrumentation } from './instrumentation.ts';
import { createLazyFetcher } from '../crawl/lazy-fetcher.ts';
import { createRobotsCache } from '../crawl/robots.ts';
import type { Fetcher } from '../crawl/types.ts';
import { CONSOLE_PUBLIC, consoleRoutes } from './routes/console.ts';
import { eventRoutes } from './routes/events.ts';
import { installAuth, type AuthOptions } from '../auth/hook.ts';
import { changeRoutes } from './routes/changes.ts';
import { jobRoutes } from './routes/jobs.ts';
import { keyRoutes } from './routes/keys.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { opsRoutes } from './routes/ops.ts';
import { scrapeRoutes } from './routes/scrape.ts';
import { siteRoutes } from './routes/sites.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { answerClientError, parseJsonBody } from './request-parsing.ts';
import { createLazySerializerFactory } from './serialization.ts';
import { createValidatorCompiler } from './validation.ts';

export interface ApiDeps {
  store: Store;
  /** From createApiMetrics / createEmbeddedMetrics (src/metrics/registry.ts). */
  metrics: ApiMetrics;
  /** The prom-client registry served on /metrics. */
  registry: Registry;
  /** Uses allowPrivateTargets, respectRobots, maxBodyRequestBytes, minScheduleIntervalMs, grafanaUrl, and the fetch settings for POST /scrape. */
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots' | 'maxBodyRequestBytes' | 'minScheduleIntervalMs' | 'grafanaUrl' | 'consoleDir' | 'maxContentBytes' | 'userAgent'
    | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'maxBodyBytes' | 'maxRedirects'>;
  /** Logger for errors and store outages (default false: no logging). Requests are not logged one by one. */
  logger?: Logger | false;
  /** Called after POST /jobs stored a job (default none; `owl serve` wakes its in-process crawler). */
  onJobCreated?: () => void;
  /** Called after an event was written to the webhook outbox (default none; `owl serve` wakes its sender). */
  onWebhookEvent?: () => void;
  /** Instrument requests (default true; the benchmark turns it off to measure its cost). */
  instrument?: boolean;
  /** Readiness: resolves when the store answers (default store.ping()). */
  ready?: () => Promise<void>;
  /** Longest wait for `ready` before /readyz answers 503 (default 2000 ms). */
  readyTimeoutMs?: number;
  /** Distinct `source`/`reason` label values kept before the rest count as `other` (default 100). */
  maxLabelValues?: number;
  /** The fetcher of POST /scrape (default: an HTTP fetcher built from the config, closed with the app). */
  scrapeFetcher?: Fetcher;
  /** Shortest gap between two events of GET /jobs/:id/events (default 1000 ms). */
  eventsIntervalMs?: number;
  /** The built web console served at `/` (default config.consoleDir, else dist/console; a missing build answers `/` with a 404 saying how to build it). */
  consoleDir?: string;
  /** Clock of the schedule routes (next runs are planned from it; default Date.now). */
  now?: () => number;
  /**
   * API keys (src/auth/hook.ts): default `{ mode: 'required' }`. `off` only where the caller made
   * sure the API is reachable from loopback alone (`owl serve` checks OWL_HOST; tests use inject()).
   */
  auth?: AuthOptions;
  /** The clock of key expiry and rate buckets (default Date.now; tests move it). */
  clock?: () => number;
}

/** The API version in the OpenAPI document. */
export const API_VERSION = '0.1.0';

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { store, metrics, registry, config } = deps;
  const instrumentation = deps.instrument === false ? null : createRequestInstrumentation(metrics);
  const validatorCompiler = createValidatorCompiler();
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.maxBodyRequestBytes,
    logController: new LogController({ disableRequestLogging: true }),
    // Malformed percent-encoding and over-long path parameters are rejected by the router itself.
    frameworkErrors: (err, request, reply) => {
      instrumentation?.recordUnrouted(request.method, handleFrameworkError(err, reply));
    },
    clientErrorHandler: answerClientError,
    // Both compilers given here, so Fastify does not load its default Ajv setup (@fastify/ajv-compiler) at all.
    schemaController: { compilersFactory: { buildValidator: () => validatorCompiler, buildSerializer: createLazySerializerFactory() } },
  }) as unknown as FastifyInstance;

  if (instrumentation) {
    app.setErrorHandler((err, request, reply) => {
      instrumentation.trackUnhandled(request, reply);
      return handleError(err, request, reply);
    });
    app.setNotFoundHandler((request, reply) => {
      instrumentation.trackUnhandled(request, reply);
      return handleNotFound(request, reply);
    });
  } else {
    app.setErrorHandler(handleError);
    app.setNotFoundHandler(handleNotFound);
  }

  // JSON only: Fastify's text/plain parser would let a text body reach validation as a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(body as string);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    done(null, parsed);
  });

  instrumentation?.attach(app);
  const auth = deps.auth ?? { mode: 'required' };
  // The console's static files are public through the auth options, like the probes; the hook itself stays fail-closed.
  installAuth(app, store, metrics, {
    ...auth,
    publicRoutes: [...(auth.publicRoutes ?? []), ...CONSOLE_PUBLIC.publicRoutes],
    publicPrefixes: [...(auth.publicPrefixes ?? []), ...CONSOLE_PUBLIC.publicPrefixes],
  }, deps.clock);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sparkling-owl-spin API',
        description: 'Crawl jobs, their results, webhooks, health and metrics. Errors are `{"error":{"code","message"}}`.',
        version: API_VERSION,
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key made by `owl keys create` or POST /keys' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(jobRoutes, { jobs: store.jobs, pages: store.pages, audit: store.audit, metrics, config, maxLabelValues: deps.maxLabelValues, onJobCreated: deps.onJobCreated, clock: deps.clock });
  await app.register(keyRoutes, { store, clock: deps.clock });
  await app.register(eventRoutes, { jobs: store.jobs, pages: store.pages, intervalMs: deps.eventsIntervalMs });
  let fetcher = deps.scrapeFetcher;
  if (fetcher === undefined) {
    // Built on the first POST /scrape: the HTTP client is not loaded before the API answers.
    const own = createLazyFetcher(async () => {
      const { createHttpFetcher, fetcherOptionsFrom } = await import('../crawl/http-fetcher.ts');
      return createHttpFetcher(fetcherOptionsFrom(config, 2));
    });
    app.addHook('onClose', async () => own.close());
    fetcher = own;
  }
  await app.register(scrapeRoutes, { fetcher, robots: createRobotsCache({ fetcher, userAgent: config.userAgent, maxEntries: 1000 }), config });
  await app.register(siteRoutes, { pages: store.pages, proxies: store.proxies, grafanaUrl: config.grafanaUrl ?? null, now: deps.clock });
  await app.register(consoleRoutes, { root: deps.consoleDir ?? config.consoleDir });
  await app.register(scheduleRoutes, { schedules: store.schedules, audit: store.audit, config, now: deps.now ?? deps.clock });
  await app.register(changeRoutes, { jobs: store.jobs, pages: store.pages, schedules: store.schedules });
  await app.register(webhookRoutes, { webhooks: store.webhooks, audit: store.audit, config, onWebhookEvent: deps.onWebhookEvent, clock: deps.clock });
  await app.register(opsRoutes, {
    registry,
    backend: store.backend,
    ready: deps.ready ?? (() => store.ping()),
    readyTimeoutMs: deps.readyTimeoutMs,
  });
  return app;
}
