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

/** Request decoration marking a request counted in the in-flight gauge (declared up front so requests keep one shape). */
const IN_FLIGHT = 'owlInFlight';
type Tracked = FastifyRequest & { [IN_FLIGHT]?: boolean };

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
      c = { latency: metrics.apiRequestLatency.labels(labels), requests: metrics.httpRequests.labels(labels) };
      children.set(key, c);
    }
    c.latency.observe(seconds);
    c.requests.inc();
  }

  function leave(request: Tracked): void {
    if (!request[IN_FLIGHT]) return;
    request[IN_FLIGHT] = false;
    inFlight.dec();
  }

  return {
    attach(app) {
      app.decorateRequest(IN_FLIGHT, false);
      app.addHook('onRequest', (request: Tracked, _reply, done) => {
        request[IN_FLIGHT] = true;
        inFlight.inc();
        done();
      });

      app.addHook('onResponse', (request: Tracked, reply: FastifyReply, done) => {
        leave(request);
        // Not-found replies have no route template; their raw paths must never become label values.
        const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
        record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
        done();
      });

      // A client that hangs up before the reply is written never reaches onResponse.
      app.addHook('onRequestAbort', (request: Tracked, done) => {
        leave(request);
        done();
      });
    },
    recordUnrouted(method, status) {
      // Rejected by the router before any hook ran: no start time exists, and the work done is nil.
      record(method, UNMATCHED_ROUTE, status, 0);
    },
  };
}
