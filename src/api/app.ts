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
import { jobRoutes } from './routes/jobs.ts';
import { opsRoutes } from './routes/ops.ts';
import { createValidatorCompiler } from './validation.ts';

export interface ApiDeps {
  store: Store;
  /** From createApiMetrics / createEmbeddedMetrics (src/metrics/registry.ts). */
  metrics: ApiMetrics;
  /** The prom-client registry served on /metrics. */
  registry: Registry;
  /** Uses allowPrivateTargets, respectRobots and maxBodyRequestBytes. */
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots' | 'maxBodyRequestBytes'>;
  /** Logger for errors and store outages (default false: no logging). Requests are not logged one by one. */
  logger?: Logger | false;
  /** Called after POST /jobs stored a job (default none; `owl serve` wakes its in-process crawler). */
  onJobCreated?: () => void;
  /** Instrument requests (default true; the benchmark turns it off to measure its cost). */
  instrument?: boolean;
  /** Readiness: resolves when the store answers (default store.ping()). */
  ready?: () => Promise<void>;
  /** Longest wait for `ready` before /readyz answers 503 (default 2000 ms). */
  readyTimeoutMs?: number;
  /** Distinct `source`/`reason` label values kept before the rest count as `other` (default 100). */
  maxLabelValues?: number;
}

/** The API version in the OpenAPI document. */
export const API_VERSION = '0.1.0';

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { store, metrics, registry, config } = deps;
  const instrumentation = deps.instrument === false ? null : createRequestInstrumentation(metrics);
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.maxBodyRequestBytes,
    logController: new LogController({ disableRequestLogging: true }),
    // Malformed percent-encoding and over-long path parameters are rejected by the router itself.
    frameworkErrors: (err, request, reply) => {
      instrumentation?.recordUnrouted(request.method, handleFrameworkError(err, reply));
    },
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(createValidatorCompiler());
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
  // An empty JSON body is "no body" (POST /jobs/:id/cancel from clients that always send the header).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });

  instrumentation?.attach(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sparkling-owl-spin API',
        description: 'Crawl jobs, their results, health and metrics. Errors are `{"error":{"code","message"}}`.',
        version: API_VERSION,
      },
    },
  });
  await app.register(jobRoutes, { store, metrics, config, maxLabelValues: deps.maxLabelValues, onJobCreated: deps.onJobCreated });
  await app.register(opsRoutes, {
    registry,
    backend: store.backend,
    ready: deps.ready ?? (() => store.ping()),
    readyTimeoutMs: deps.readyTimeoutMs,
  });
  return app;
}
