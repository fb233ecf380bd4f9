/**
 * Admin routes: API keys (create, list, revoke) and the audit trail; they need `admin`. And
 * GET /me, which any key may call: what the calling key is and may do (the console hides the
 * actions a key may not take).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createApiKey, revokeApiKey, type Actor } from '../../auth/key-service.ts';
import type { Store } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import { apiKeySchema, auditEntrySchema, commonErrors, createdKeySchema, createKeyBody, keyIdParams, listAuditQuery } from '../schemas.ts';

export interface KeyRoutesOptions {
  store: Store;
  /** Times of keys and audit entries (default Date.now). */
  clock?: () => number;
}

/** Who makes a request, for the audit trail. */
export function actorOf(request: FastifyRequest): Actor {
  return { keyId: request.principal?.keyId ?? null, address: request.ip ?? null };
}

export const keyRoutes: FastifyPluginAsync<KeyRoutesOptions> = async (app, opts) => {
  const { store } = opts;
  const now = opts.clock ?? Date.now;
  const admin = { scope: 'admin' as const };

  app.post<{ Body: Record<string, unknown> }>('/keys', {
    config: admin,
    schema: {
      summary: 'Create an API key (admin)',
      description: 'The answer holds the key itself (`key`): it is shown this once and stored only as a hash.',
      body: createKeyBody,
      response: { 201: createdKeySchema, ...commonErrors },
    },
  }, async (request, reply) => {
    const created = await viaStore('createKey', () => createApiKey(store, request.body, actorOf(request), now()));
    reply.code(201).header('cache-control', 'no-store').header('location', `/keys/${created.id}`);
    return created;
  });

  app.get('/keys', {
    config: admin,
    schema: {
      summary: 'List API keys, oldest first (admin); never their secrets',
      response: { 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: apiKeySchema } } }, ...commonErrors },
    },
  }, async () => ({ keys: await viaStore('listKeys', () => store.keys.list()) }));

  app.delete<{ Params: { id: string } }>('/keys/:id', {
    config: admin,
    schema: { summary: 'Revoke an API key (admin); it is refused from then on', params: keyIdParams, response: { 200: apiKeySchema, ...commonErrors } },
  }, async (request) => {
    const revoked = await viaStore('revokeKey', () => revokeApiKey(store, request.params.id, actorOf(request), now()));
    app.forgetKeys();
    return revoked;
  });

  app.get('/me', {
    config: { scope: 'any' },
    schema: {
      summary: 'The calling key: its name, scopes, limits and expiry (never its secret); any key may ask',
      description: 'With OWL_AUTH=off, `auth` is `off` and `key` null: the caller may do anything.',
      response: {
        200: {
          type: 'object',
          required: ['auth', 'key'],
          properties: {
            auth: { type: 'string', enum: ['required', 'off'] },
            key: { anyOf: [apiKeySchema, { type: 'null' }] },
          },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const p = request.principal;
    if (p === null) return { auth: 'off', key: null };
    const k = p.key;
    return {
      auth: 'required',
      key: {
        id: k.id, name: k.name, scopes: k.scopes, prefix: k.prefix, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, expiresAt: k.expiresAt,
        revokedAt: k.revokedAt, rate: k.rate, maxRunningJobs: k.maxRunningJobs, maxPagesPerDay: k.maxPagesPerDay,
      },
    };
  });

  app.get<{ Querystring: { limit: number; after?: number } }>('/audit', {
    config: admin,
    schema: {
      summary: 'The audit trail of writes, newest first (admin)',
      querystring: listAuditQuery,
      response: {
        200: {
          type: 'object',
          required: ['entries', 'next'],
          description: 'One page of entries; pass `next` as `after` for the following page (null at the end).',
          properties: { entries: { type: 'array', items: auditEntrySchema }, next: { type: ['integer', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { limit, after } = request.query;
    const rows = await viaStore('listAudit', () => store.audit.list({ limit: limit + 1, after }));
    const page = rows.slice(0, limit);
    return { entries: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });
};
