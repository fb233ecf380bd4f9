/**
 * The webhook API: register a receiver for events (its signing secret is shown once), list and
 * delete webhooks, read a webhook's deliveries, and send it a test event. Deliveries themselves
 * leave from the outbox through the sender (src/webhooks/sender.ts).
 *
 * Every route needs the `admin` scope (the auth hook's default): a webhook receives the events of
 * every key's jobs. A webhook records the key that created it (`keyId`); creating and deleting one
 * are audited (`webhook.create`, `webhook.delete`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { OwlError, isOwlError } from '../../errors.ts';
import { checkTarget } from '../../crawl/target-guard.ts';
import type { AuditStore, Webhook, WebhookStore } from '../../store/types.ts';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../webhooks/publish.ts';
import { checkSecret, generateSecret } from '../../webhooks/secret.ts';
import { viaStore } from '../http-errors.ts';
import { UUID_PATTERN, UUID_RE, commonErrors } from '../schemas.ts';

export interface WebhookRoutesOptions {
  webhooks: WebhookStore;
  audit: AuditStore;
  /** The clock of audit entries (default Date.now). */
  clock?: () => number;
  config: Pick<Config, 'allowPrivateTargets'>;
  /** Called after an event was written to the outbox (an in-process sender sends it at once). */
  onWebhookEvent?: () => void;
}

/** Limits of the webhook API, named once. */
export const WEBHOOK_LIMITS = {
  maxUrlLength: 2048,
  pageDefault: 20,
  pageMax: 100,
  deliveriesPageDefault: 50,
  deliveriesPageMax: 500,
} as const;

const webhookProperties = {
  id: { type: 'string', format: 'uuid' },
  url: { type: 'string' },
  events: { type: 'array', items: { type: 'string' } },
  keyId: { type: ['string', 'null'], description: 'the API key that created it' },
  createdAt: { type: 'integer', description: 'epoch ms' },
} as const;

export const webhookSchema = {
  type: 'object',
  description: 'A webhook: where events of the listed types are delivered. Its signing secret is shown only when it is created.',
  required: ['id', 'url', 'events', 'keyId', 'createdAt'],
  properties: webhookProperties,
} as const;

const createdWebhookSchema = {
  type: 'object',
  description: 'The new webhook with its signing secret: store the secret now, it is never shown again.',
  required: ['id', 'url', 'events', 'keyId', 'createdAt', 'secret'],
  properties: {
    ...webhookProperties,
    secret: { type: 'string', description: 'Standard Webhooks signing secret (`whsec_` + base64): verify each delivery\'s `webhook-signature` with it.' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  description: 'One event for one webhook, with its delivery state.',
  required: ['id', 'webhookId', 'eventId', 'eventType', 'status', 'attempts', 'nextAttemptAt', 'lastError', 'lastStatusCode', 'createdAt', 'finishedAt'],
  properties: {
    id: { type: 'integer' },
    webhookId: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', description: 'the `webhook-id` header, the same on every attempt' },
    eventType: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'], description: 'failed: given up after the retries' },
    attempts: { type: 'integer', description: 'attempts begun' },
    nextAttemptAt: { type: ['integer', 'null'], description: 'epoch ms of the next attempt while pending' },
    lastError: { type: ['string', 'null'], description: 'why the last failed attempt failed: http_<status>[: excerpt], timeout, network: <code>, target_forbidden: …' },
    lastStatusCode: { type: ['integer', 'null'] },
    createdAt: { type: 'integer', description: 'epoch ms the event was published' },
    finishedAt: { type: ['integer', 'null'], description: 'epoch ms it was delivered or given up' },
  },
} as const;

const createWebhookBody = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'events'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: WEBHOOK_LIMITS.maxUrlLength, description: 'The receiver: an absolute http(s) URL, not a private, loopback or metadata address (unless OWL_ALLOW_PRIVATE_TARGETS=true).' },
    events: {
      type: 'array',
      minItems: 1,
      maxItems: SUBSCRIBABLE_EVENT_TYPES.length,
      uniqueItems: true,
      items: { type: 'string', enum: SUBSCRIBABLE_EVENT_TYPES },
      description: 'Event types to receive.',
    },
    secret: { type: 'string', maxLength: 200, description: 'Your own signing secret, `whsec_` + base64 of 24 to 64 bytes; omitted: one is generated.' },
  },
} as const;

const webhookIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'Webhook id (UUID); anything else is 404.' } },
} as const;

const listWebhooksQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: WEBHOOK_LIMITS.pageMax, default: WEBHOOK_LIMITS.pageDefault },
    after: { type: 'string', pattern: UUID_PATTERN, description: 'The `next` value of the previous page.' },
  },
} as const;

const listDeliveriesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: WEBHOOK_LIMITS.deliveriesPageMax, default: WEBHOOK_LIMITS.deliveriesPageDefault },
    after: { type: 'integer', minimum: 1, description: 'The `next` value of the previous page.' },
  },
} as const;

interface CreateWebhookBody {
  url: string;
  events: string[];
  secret?: string;
}

/** Vets the receiver's URL like a crawl seed; errors name the field `url`. */
function vetUrl(raw: string, allowPrivate: boolean): string {
  try {
    const url = checkTarget(raw, allowPrivate);
    if (url.port === '0') throw new OwlError('INVALID_URL', 'url has port 0, which no server listens on');
    if (url.username || url.password) throw new OwlError('INVALID_URL', 'url must not carry credentials (the signature authenticates the sender)');
    return url.href;
  } catch (err) {
    if (isOwlError(err, 'TARGET_FORBIDDEN')) {
      throw new OwlError(err.code, `url: ${err.message}; an operator can allow such targets with OWL_ALLOW_PRIVATE_TARGETS=true`, err.details);
    }
    if (isOwlError(err, 'INVALID_URL')) throw new OwlError(err.code, err.message.startsWith('url') ? err.message : `url: ${err.message}`, err.details);
    throw err;
  }
}

export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const { webhooks, config } = opts;
  const now = opts.clock ?? Date.now;

  async function record(request: FastifyRequest, action: string, target: string): Promise<void> {
    const entry = { at: now(), keyId: request.principal?.keyId ?? null, action, target, address: request.ip ?? null };
    await viaStore('recordAudit', () => opts.audit.record(entry));
  }

  async function findWebhook(id: string): Promise<Webhook> {
    if (!UUID_RE.test(id)) throw new OwlError('WEBHOOK_NOT_FOUND');
    const hook = await viaStore('getWebhook', () => webhooks.get(id.toLowerCase()));
    if (hook === undefined) throw new OwlError('WEBHOOK_NOT_FOUND');
    return hook;
  }

  app.post<{ Body: CreateWebhookBody }>('/webhooks', {
    schema: {
      summary: 'Register a webhook',
      description: 'Deliveries follow Standard Webhooks: headers `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`, body `{type, timestamp, data}`. A 2xx answer ends a delivery; anything else is retried (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, … for at least 24 h).',
      body: createWebhookBody,
      response: { 201: createdWebhookSchema, ...commonErrors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const url = vetUrl(b.url, config.allowPrivateTargets);
    const secret = b.secret === undefined ? generateSecret() : checkSecret(b.secret);
    const hook = await viaStore('createWebhook', () => webhooks.create({ url, events: b.events, secret, keyId: request.principal?.keyId ?? null }));
    await record(request, 'webhook.create', hook.id);
    reply.code(201).header('location', `/webhooks/${hook.id}`);
    return { ...hook, secret };
  });

  app.get<{ Querystring: { limit: number; after?: string } }>('/webhooks', {
    schema: {
      summary: 'List webhooks, oldest first (without their secrets)',
      querystring: listWebhooksQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of webhooks; pass `next` as `after` for the following page (null at the end).',
          required: ['webhooks', 'next'],
          properties: { webhooks: { type: 'array', items: webhookSchema }, next: { type: ['string', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { limit, after } = request.query;
    const rows = await viaStore('listWebhooks', () => webhooks.list({ limit: limit + 1, after: after?.toLowerCase() }));
    const page = rows.slice(0, limit);
    return { webhooks: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', {
    schema: { summary: 'Read a webhook (without its secret)', params: webhookIdParams, response: { 200: webhookSchema, ...commonErrors } },
  }, async (request) => findWebhook(request.params.id));

  app.delete<{ Params: { id: string } }>('/webhooks/:id', {
    schema: {
      summary: 'Delete a webhook and its deliveries (pending ones are never sent)',
      params: webhookIdParams,
      response: { 204: { description: 'deleted', type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const hook = await findWebhook(request.params.id);
    if (!(await viaStore('deleteWebhook', () => webhooks.delete(hook.id)))) throw new OwlError('WEBHOOK_NOT_FOUND');
    await record(request, 'webhook.delete', hook.id);
    reply.code(204);
  });

  app.get<{ Params: { id: string }; Querystring: { limit: number; after?: number } }>('/webhooks/:id/deliveries', {
    schema: {
      summary: "A webhook's deliveries, newest first: status, attempts, last error",
      params: webhookIdParams,
      querystring: listDeliveriesQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of deliveries; pass `next` as `after` for the following page (null at the end).',
          required: ['deliveries', 'next'],
          properties: { deliveries: { type: 'array', items: deliverySchema }, next: { type: ['integer', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const hook = await findWebhook(request.params.id);
    const { limit, after } = request.query;
    const rows = await viaStore('listDeliveries', () => webhooks.deliveries(hook.id, { limit: limit + 1, after }));
    const page = rows.slice(0, limit);
    return { deliveries: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });

  app.post<{ Params: { id: string } }>('/webhooks/:id/test', {
    schema: {
      summary: 'Send the webhook a `webhook.test` event',
      description: 'Queued like any event (signed, retried); follow it in GET /webhooks/:id/deliveries.',
      params: webhookIdParams,
      response: {
        202: {
          type: 'object',
          required: ['eventId'],
          properties: { eventId: { type: 'string', description: 'its `webhook-id`' } },
        },
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    const hook = await findWebhook(request.params.id);
    const published = await viaStore('publishEvent', () =>
      webhooks.publish({ type: 'webhook.test', webhookId: hook.id, data: { webhookId: hook.id, message: 'A test event from sparkling-owl-spin' } }));
    if (published.deliveries === 0) throw new OwlError('WEBHOOK_NOT_FOUND');
    opts.onWebhookEvent?.();
    reply.code(202);
    return { eventId: published.eventId };
  });
};
