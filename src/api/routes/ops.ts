/**
 * Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { OwlError } from '../../errors.ts';
import { commonErrors, errorSchema } from '../schemas.ts';

export interface OpsRoutesOptions {
  registry: Registry;
  /** Store backend name reported by /readyz. */
  backend: string;
  /** Resolves when the store answers. */
  ready: () => Promise<void>;
  /** Longest wait for `ready` before /readyz answers 503 (default 2000 ms). */
  readyTimeoutMs?: number;
}

async function withTimeout(check: () => Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Not unref'd: it is always cleared below, and a pending /readyz must keep the process alive.
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, opts) => {
  const { registry, backend, ready } = opts;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2000;

  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the process serves requests',
      security: [],
      response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
    },
    // The answer is a constant that JSON.stringify writes exactly as the schema's serializer would;
    // the first probe, right at start-up, need not wait for that serializer to load and compile.
    serializerCompiler: () => (data) => JSON.stringify(data),
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the store answers',
      security: [],
      response: {
        200: { type: 'object', properties: { status: { type: 'string', enum: ['ready'] }, store: { type: 'string' } } },
        503: errorSchema,
      },
    },
  }, async (request) => {
    try {
      await withTimeout(ready, readyTimeoutMs);
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      throw new OwlError('STORE_UNAVAILABLE', `The ${backend} store does not answer`, {}, { cause: err });
    }
    return { status: 'ready', store: backend };
  });

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      description: 'No key; with OWL_METRICS_TOKEN_FILE set, Authorization: Bearer <that token>.',
      security: [],
      produces: ['text/plain'],
      response: { 200: { type: 'string' }, ...commonErrors },
    },
  }, async (_request, reply) => {
    const text = await registry.metrics();
    reply.type(registry.contentType);
    return text;
  });

  app.get('/openapi.json', {
    schema: { summary: 'This OpenAPI document', security: [], response: { 200: { type: 'object', additionalProperties: true } } },
  }, async () => app.swagger());
};
