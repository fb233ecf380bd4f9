/**
 * Request metrics for the API: `api_request_latency_seconds` and `http_requests_total` by
 * method, route TEMPLATE and status code, and `http_requests_in_flight`.
 *
 * Label values are bounded by construction: the route is Fastify's template (`/jobs/:id`), never
 * the raw path, requests that match no route share `route="unmatched"`, and methods outside a
 * fixed set count as `OTHER`. The labelled series are cached, so the hot path does one Map
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
  /** Wraps every route added after this call (call before the routes are registered). */
  attach(app: FastifyInstance): void;
  /**
   * Tracks a request answered without reaching a route handler: the error handler (validation,
   * body errors) and the not-found handler call it. A request already tracked is left alone.
   */
  trackUnhandled(request: FastifyRequest, reply: FastifyReply): void;
  /** Counts a request answered before routing (Fastify's framework errors: bad URL, over-long parameter). */
  recordUnrouted(method: string, status: number): void;
}

/** Marks a raw response whose request is already tracked. */
const TRACKED = Symbol('owl.tracked');
/** Seconds from the request to the first bytes of a streamed response (Server-Sent Events). */
const STREAM_STARTED = Symbol('owl.streamStarted');
type RawResponse = FastifyReply['raw'] & { [TRACKED]?: true; [STREAM_STARTED]?: number };

/**
 * Called by a route that streams for as long as the client listens (GET /jobs/:id/events) once
 * its headers are out: its latency is the time to that point, not the minutes the stream stays open,
 * which would swamp the latency quantiles and their alerts.
 */
export function markStreamStarted(reply: FastifyReply): void {
  (reply.raw as RawResponse)[STREAM_STARTED] = reply.elapsedTime / 1000;
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

  /**
   * Counts the request in flight and records it when its response closes — answered, failed or
   * abandoned by the client; the raw response's 'close' comes exactly once (also under inject()).
   */
  function track(request: FastifyRequest, reply: FastifyReply, route: string): void {
    const raw = reply.raw as RawResponse;
    if (raw[TRACKED]) return;
    raw[TRACKED] = true;
    inFlight.inc();
    raw.once('close', () => {
      inFlight.dec();
      record(request.method, route, raw.statusCode, raw[STREAM_STARTED] ?? reply.elapsedTime / 1000);
    });
  }

  return {
    attach(app) {
      // Per-route handler wrappers rather than onRequest/onResponse hooks: Fastify's hook runners
      // cost about 12 µs per request here (bench/api.ts), the wrapper next to nothing.
      app.addHook('onRoute', (route) => {
        const template = route.url ?? UNMATCHED_ROUTE;
        const handler = route.handler;
        route.handler = function instrumented(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
          track(request, reply, template);
          return handler.call(this, request, reply);
        };
      });
    },
    trackUnhandled(request, reply) {
      // Not-found replies have no route template; their raw paths must never become label values.
      track(request, reply, request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE));
    },
    recordUnrouted(method, status) {
      // Rejected by the router before any handler ran: no start time exists, and the work done is nil.
      record(method, UNMATCHED_ROUTE, status, 0);
    },
  };
}
