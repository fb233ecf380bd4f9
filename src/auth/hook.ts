/**
 * Authentication and authorisation of API requests: `Authorization: Bearer <key>` on every route
 * except the public ones, the route's scope, and the key's request rate.
 *
 * Each protected route gets its own onRequest hook when it is registered (public routes pay
 * nothing), so it runs before the body is read and validated: a request without a valid key learns
 * nothing from validation errors. A route names the scope it needs in `config.scope`; a route that
 * names none needs `admin` (fail closed: a new route is not open by accident).
 */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import type { Counter } from 'prom-client';
import { OwlError } from '../errors.ts';
import type { AUTH_FAILURE_REASONS } from '../metrics/definitions.ts';
import type { Scope, Store, StoredApiKey } from '../store/types.ts';
import { hashKey, keyState, looksLikeKey, sameDigest, sameKey, verifyDigest } from './keys.ts';

/** Routes anyone may call: probes, Prometheus and the API description. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** Query parameter names that carry credentials in other APIs: refused whatever their value. */
const CREDENTIAL_PARAMS = /(?:^|&)(?:key|api_key|apikey|api-key|access_token|token|auth|authorization)=/i;

export type AuthMode = 'required' | 'off';

export interface AuthOptions {
  /** `required` (default) or `off` (the caller checked that the API listens on loopback only). */
  mode: AuthMode;
  /**
   * More route templates served without a key, besides PUBLIC_ROUTES: the console's static files,
   * whose routes @fastify/static registers itself (e.g. `['/', '/*']` for a console served at `/`;
   * find-my-way still sends /jobs… to the API's own routes, which need a key).
   */
  publicRoutes?: readonly string[];
  /** Route template prefixes served without a key (e.g. `/assets/`). */
  publicPrefixes?: readonly string[];
  /** When set, /metrics answers only `Authorization: Bearer <token>` (OWL_METRICS_TOKEN_FILE). */
  metricsToken?: string;
}

/** The key a request was made with; null when auth is off (the local operator, who may do anything). */
export interface Principal {
  key: StoredApiKey;
  keyId: string;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets the keys verified so far (after a revocation): the next request of each is checked in the store. */
    forgetKeys: () => void;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /**
     * The scope a route needs (default admin); ignored on public routes. `any`: any valid key,
     * whatever its scopes (GET /me, which tells a key what it may do).
     */
    scope?: Scope | 'any';
    /** Served without a key. */
    public?: boolean;
  }
}

/** A key verified in the store, trusted until `until` (epoch ms). */
interface Verified {
  principal: Principal;
  until: number;
}

interface AuthMetrics {
  apiAuthFailures: Counter<string>;
  apiRateLimited: Counter<string>;
}

/** How often a key's lastUsedAt is written at most. */
const TOUCH_EVERY_MS = 60_000;
/**
 * How long a verified key is trusted without asking the store again: a revocation or expiry made
 * by another API process reaches this one within this time.
 */
export const KEY_CACHE_MS = 1_000;
/** Keys held in that cache at most (it is emptied when full: a flood of distinct keys never grows it). */
const KEY_CACHE_MAX = 10_000;

/** Whether a route (its template) is served without a key. */
export function isPublicPath(url: string, opts: Pick<AuthOptions, 'publicRoutes' | 'publicPrefixes'>): boolean {
  return PUBLIC_ROUTES.has(url) || (opts.publicRoutes ?? []).includes(url) || (opts.publicPrefixes ?? []).some((p) => url.startsWith(p));
}

export function installAuth(app: FastifyInstance, store: Store, metrics: AuthMetrics, opts: AuthOptions, clock: () => number = Date.now): void {
  app.decorateRequest('principal', null);
  const failures = new Map<string, () => void>();
  const fail = (reason: (typeof AUTH_FAILURE_REASONS)[number], err: OwlError): OwlError => {
    let inc = failures.get(reason);
    if (!inc) {
      const child = metrics.apiAuthFailures.labels({ reason });
      inc = () => child.inc();
      failures.set(reason, inc);
    }
    inc();
    return err;
  };
  const metricsDigest = opts.metricsToken ? hashKey(opts.metricsToken) : null;
  const touched = new Map<string, number>();
  /**
   * Keys verified in the last KEY_CACHE_MS, by the SHA-256 of the presented key: a request with a
   * known key then costs one hash and one Map lookup, no store call. Revocations made through this
   * process (DELETE /keys/:id, `owl keys` over the control socket) empty it at once
   * (`app.forgetKeys()`); those made in another API process take effect here within KEY_CACHE_MS.
   */
  const verified = new Map<string, Verified>();
  /**
   * The Authorization header last verified on each connection (keep-alive), with its entry of
   * `verified`: the connection's next requests compare their header with it in constant time
   * (sameKey) instead of parsing it, hashing the key and looking the digest up — the SHA-256 was
   * most of the cost of a keyed request. Constant time because a proxy may carry several clients
   * on one connection. The entry keeps its `until`, so the revocation bound stays KEY_CACHE_MS;
   * forgetKeys() moves `generation` on, which voids every connection's memo at once.
   */
  const onConnection = new WeakMap<object, { header: string; entry: Verified; generation: number }>();
  let generation = 0;
  app.decorate('forgetKeys', () => {
    verified.clear();
    generation++;
  });

  function refuseQueryKey(request: FastifyRequest): void {
    const q = request.url.indexOf('?');
    if (q === -1) return;
    const query = request.url.slice(q + 1);
    if (CREDENTIAL_PARAMS.test(query) || /owl_[A-Za-z0-9_-]{8}/.test(decodeURIComponentSafe(query))) {
      throw fail('query_key', new OwlError('KEY_IN_QUERY'));
    }
  }

  function bearer(request: FastifyRequest, missing: () => OwlError): string {
    const header = request.headers.authorization;
    if (header === undefined) throw missing();
    // The usual form checked without a regular expression (this runs on every request).
    if (header.startsWith('Bearer ') && header.indexOf(' ', 7) === -1 && header.length > 7) return header.slice(7);
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) throw fail('malformed', new OwlError('UNAUTHORIZED', 'The Authorization header must be "Bearer <key>"'));
    return m[1]!;
  }

  const MESSAGES = {
    malformed: 'The API key is not valid',
    unknown: 'The API key is not valid',
    revoked: 'The API key has been revoked',
    expired: 'The API key has expired',
  } as const;

  /** Scope, rate and bookkeeping of a verified key; a promise only when the rate needs the store. */
  function admit(request: FastifyRequest, principal: Principal, scope: Scope | 'any', now: number): Promise<void> | undefined {
    const { key, admin } = principal;
    const state = keyState(key, now);
    if (state !== null) throw fail(state, new OwlError('UNAUTHORIZED', MESSAGES[state]));
    if (!admin && scope !== 'any' && !key.scopes.includes(scope)) {
      throw fail('forbidden', new OwlError('FORBIDDEN', `This route needs the scope ${scope}; the key has ${key.scopes.join(', ')}`, { scope }));
    }
    const last = Math.max(key.lastUsedAt ?? 0, touched.get(key.id) ?? 0);
    if (now - last >= TOUCH_EVERY_MS) {
      touched.set(key.id, now);
      store.keys.touch(key.id, now).catch((err: unknown) => request.log.warn({ err }, 'could not record when an API key was used'));
    }
    // One principal per verified key, shared by its requests (nothing is allocated per request).
    request.principal = principal;
    if (key.rate === null) return undefined;
    return store.keys.take(key.id, key.rate, Math.max(1, Math.ceil(key.rate)), now).then(({ allowed, retryAfterMs }) => {
      if (allowed) return;
      request.principal = null;
      metrics.apiRateLimited.inc({ reason: 'rate' });
      const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new OwlError('RATE_LIMITED', `Rate limit of ${key.rate} requests/s exceeded: retry after ${retryAfterSeconds} s`, { retryAfterSeconds, limit: 'rate' });
    });
  }

  /** Authenticates a request; synchronous (undefined) when the key is in the cache and has no rate. */
  function authenticate(request: FastifyRequest, scope: Scope | 'any'): Promise<void> | undefined {
    refuseQueryKey(request);
    if (opts.mode === 'off') return undefined;
    const header = request.headers.authorization;
    const now = clock();
    const connection = request.raw.socket;
    const memo = connection ? onConnection.get(connection) : undefined;
    if (header !== undefined && memo !== undefined && memo.generation === generation && memo.entry.until > now && sameKey(memo.header, header)) {
      return admit(request, memo.entry.principal, scope, now);
    }
    return verify(request, scope, now);
  }

  /** The path of a key not verified on this connection yet: the digest cache, else the store. */
  function verify(request: FastifyRequest, scope: Scope | 'any', now: number): Promise<void> | undefined {
    const presented = bearer(request, () => fail('missing', new OwlError('UNAUTHORIZED', 'No API key: send Authorization: Bearer <key>')));
    if (!looksLikeKey(presented)) throw fail('malformed', new OwlError('UNAUTHORIZED', MESSAGES.malformed));
    const digest = hashKey(presented);
    const connection = request.raw.socket;
    const header = request.headers.authorization!;
    const remember = (entry: Verified): void => {
      if (connection) onConnection.set(connection, { header, entry, generation });
    };
    const hit = verified.get(digest);
    if (hit !== undefined && hit.until > now) {
      remember(hit);
      return admit(request, hit.principal, scope, now);
    }
    const asked = generation;
    return verifyDigest(store.keys, digest, now).then((verdict) => {
      if (!verdict.ok) {
        verified.delete(digest);
        throw fail(verdict.reason, new OwlError('UNAUTHORIZED', MESSAGES[verdict.reason]));
      }
      const principal: Principal = Object.freeze({ key: verdict.key, keyId: verdict.key.id, admin: verdict.key.scopes.includes('admin') });
      // A revocation made through this process while the store was read must not be cached over.
      if (asked === generation) {
        if (verified.size >= KEY_CACHE_MAX) verified.clear();
        const entry = { principal, until: now + KEY_CACHE_MS };
        verified.set(digest, entry);
        remember(entry);
      }
      return admit(request, principal, scope, now);
    });
  }

  function checkMetricsToken(request: FastifyRequest): void {
    refuseQueryKey(request);
    if (!metricsDigest) return;
    const presented = bearer(request, () => fail('metrics_token', new OwlError('UNAUTHORIZED', 'No token: /metrics needs Authorization: Bearer <the metrics token>')));
    if (!sameDigest(hashKey(presented), metricsDigest)) throw fail('metrics_token', new OwlError('UNAUTHORIZED', 'The metrics token is not valid'));
  }

  /** A callback-style hook: the cached path finishes without a promise. */
  function hook(check: (request: FastifyRequest) => Promise<void> | undefined | void): onRequestHookHandler {
    return (request, _reply, done) => {
      let pending: Promise<void> | undefined | void;
      try {
        pending = check(request);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (pending === undefined) done();
      else pending.then(() => done(), done);
    };
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { scope?: Scope | 'any'; public?: boolean };
    let handler: onRequestHookHandler;
    if (route.url === '/metrics') handler = hook(checkMetricsToken);
    else if (config.public || isPublicPath(route.url ?? '', opts)) handler = hook(refuseQueryKey);
    else {
      const scope = config.scope ?? 'admin';
      handler = hook((request) => authenticate(request, scope));
    }
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [handler] : [handler, ...(Array.isArray(existing) ? existing : [existing])];
  });
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Whether an address is loopback (127.0.0.0/8, ::1, localhost): OWL_AUTH=off is accepted only there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Start-up check of OWL_AUTH against the listen address: the message says why and how. */
export function assertAuthMode(mode: AuthMode, host: string): void {
  if (mode === 'off' && !isLoopbackHost(host)) {
    throw new OwlError(
      'CONFIG_INVALID',
      `OWL_AUTH=off is refused because the API would listen on ${host}, which other machines can reach: anyone there could start crawls from ` +
        'this address and read or cancel every job. Either listen on loopback only (OWL_HOST=127.0.0.1) or keep OWL_AUTH=required and ' +
        'create a key with `owl keys create --name NAME --scopes jobs:read,jobs:write`.',
    );
  }
}
