/**
 * Request metrics for the API: `api_request_latency_seconds` and `http_requests_total` by
 * method, route TEMPLATE and status code, and `http_requests_in_flight`.
 *
 * Label values are bounded by construction: the route is Fastify's template (`/jobs/:id`), never
 * the raw path, requests that match no route share `route="unmatched"`, and methods outside a
 * fixed set count as `OTHER`. The labelled children are cached, so the hot path does one Map
 * lookup and two increments.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { counterSeries, histogramSeries } from '../metrics/fast-series.ts';
import type { ApiMetrics } from '../metrics/registry.ts';

export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Children {
  observeLatency: (seconds: number) => void;
  countRequest: () => void;
}

type RequestMetrics = Pick<ApiMetrics, 'apiRequestLatency' | 'httpRequests' | 'httpRequestsInFlight'>;

export interface RequestInstrumentation {
  /** Adds the hooks to `app` (call before routes are added so every route is covered). */
  attach(app: FastifyInstance): void;
  /** Counts a request answered outside the hooks (Fastify's framework errors: bad URL, over-long parameter). */
  recordUnrouted(method: string, status: number): void;
}

export function createRequestInstrumentation(metrics: RequestMetrics): RequestInstrumentation {
  const children = new Map<string, Children>();
  const inFlight = metrics.httpRequestsInFlight;

  function record(rawMethod: string, route: string, status: number, seconds: number): void {
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : 'OTHER';
    const key = `${method}|${route}|${status}`;
    let c = children.get(key);
    if (c === undefined) {
      const labels = { method, route, status_code: String(status) };
      c = { observeLatency: histogramSeries(metrics.apiRequestLatency, labels), countRequest: counterSeries(metrics.httpRequests, labels) };
      children.set(key, c);
    }
    c.observeLatency(seconds);
    c.countRequest();
  }

  // The response's 'close' comes exactly once per request, answered or abandoned by the client.
  const leave = (): void => {
    inFlight.dec();
  };

  return {
    attach(app) {
      // In-flight requests are counted on the HTTP server itself: cheaper than two Fastify hooks
      // (onRequest, onRequestAbort) and exact for requests the router rejects too.
      app.server.on('request', (_req: unknown, res: { once(event: 'close', fn: () => void): void }) => {
        inFlight.inc();
        res.once('close', leave);
      });

      app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
        // Not-found replies have no route template; their raw paths must never become label values.
        const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
        record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
        done();
      });
    },
    recordUnrouted(method, status) {
      // Rejected by the router before any hook ran: no start time exists, and the work done is nil.
      record(method, UNMATCHED_ROUTE, status, 0);
    },
  };
}
