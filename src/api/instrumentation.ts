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
import type { ApiMetrics } from '../metrics/registry.ts';

export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Children {
  latency: { observe(seconds: number): void };
  requests: { inc(): void };
}

type RequestMetrics = Pick<ApiMetrics, 'apiRequestLatency' | 'httpRequests' | 'httpRequestsInFlight'>;

const kInFlight = Symbol('owl.inFlight');
type Tracked = FastifyRequest & { [kInFlight]?: boolean };

/** Registers the hooks on `app` (call before routes are added so every route is covered). */
export function instrumentRequests(app: FastifyInstance, metrics: RequestMetrics): void {
  const children = new Map<string, Children>();
  const inFlight = metrics.httpRequestsInFlight;

  function childrenFor(method: string, route: string, status: number): Children {
    const key = `${method}|${route}|${status}`;
    let c = children.get(key);
    if (c === undefined) {
      const labels = { method, route, status_code: String(status) };
      c = { latency: metrics.apiRequestLatency.labels(labels), requests: metrics.httpRequests.labels(labels) };
      children.set(key, c);
    }
    return c;
  }

  function leave(request: Tracked): boolean {
    if (request[kInFlight] !== true) return false;
    request[kInFlight] = false;
    inFlight.dec();
    return true;
  }

  app.addHook('onRequest', (request: Tracked, _reply, done) => {
    request[kInFlight] = true;
    inFlight.inc();
    done();
  });

  app.addHook('onResponse', (request: Tracked, reply: FastifyReply, done) => {
    leave(request);
    const method = KNOWN_METHODS.has(request.method) ? request.method : 'OTHER';
    // Not-found replies have no route template; their raw paths must never become label values.
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    const c = childrenFor(method, route, reply.statusCode);
    c.latency.observe(reply.elapsedTime / 1000);
    c.requests.inc();
    done();
  });

  // A client that hangs up before the reply is written never reaches onResponse.
  app.addHook('onRequestAbort', (request: Tracked, done) => {
    leave(request);
    done();
  });
}
