/**
 * JSON schemas of the API's requests and responses. They validate input, drive the response
 * serializer (only declared fields leave the server) and become the OpenAPI document.
 * Times are epoch milliseconds, as in the store.
 */
import { ERRORS } from '../errors.ts';

/** Limits of the job API, named once. */
export const LIMITS = {
  maxSeeds: 100,
  maxSeedLength: 2048,
  maxPages: 1_000_000,
  defaultMaxPages: 1000,
  maxDepth: 100,
  defaultMaxDepth: 5,
  jobsPageDefault: 20,
  jobsPageMax: 100,
  pagesPageDefault: 100,
  pagesPageMax: 500,
} as const;

export const SOURCE_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';
export const REASON_PATTERN = '^[a-z0-9_]{1,40}$';
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const UUID_RE = new RegExp(UUID_PATTERN);

const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
const nullable = (type: string) => ({ type: [type, 'null'] });

export const errorSchema = {
  type: 'object',
  description: 'Every error: a code from the catalogue and a readable message.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
      },
    },
  },
} as const;

export const jobSchema = {
  type: 'object',
  description: 'A crawl job with its options and progress counts.',
  required: ['id', 'status', 'seeds', 'options', 'source', 'createdAt', 'startedAt', 'finishedAt', 'reason', 'counts'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: JOB_STATUSES },
    seeds: { type: 'array', items: { type: 'string' } },
    options: {
      type: 'object',
      properties: {
        maxPages: { type: 'integer' },
        maxDepth: { type: 'integer' },
        scope: { type: 'string', enum: ['host', 'domain'] },
        mode: { type: 'string', enum: ['http', 'browser', 'auto'] },
        respectRobots: { type: 'boolean' },
        allowPrivate: { type: 'boolean' },
        screenshots: { type: 'boolean' },
      },
    },
    source: { type: 'string' },
    createdAt: { type: 'integer', description: 'epoch ms' },
    startedAt: { ...nullable('integer'), description: 'epoch ms of the first claim' },
    finishedAt: { ...nullable('integer'), description: 'epoch ms' },
    reason: { ...nullable('string'), description: 'why the job failed or was cancelled' },
    counts: {
      type: 'object',
      properties: {
        admitted: { type: 'integer' },
        queued: { type: 'integer' },
        inFlight: { type: 'integer' },
        fetched: { type: 'integer' },
        failed: { type: 'integer' },
      },
    },
  },
} as const;

export const pageSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    statusCode: nullable('integer'),
    finalUrl: nullable('string'),
    title: nullable('string'),
    bytes: { type: 'integer' },
    fetchMs: { type: 'number' },
    errorCode: { ...nullable('string'), description: 'lower-case error code (timeout, http_404…), null on success' },
    contentType: nullable('string'),
    mode: { type: 'string', enum: ['http', 'browser'] },
    depth: { type: 'integer' },
    fetchedAt: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export const createJobBody = {
  type: 'object',
  additionalProperties: false,
  required: ['seeds'],
  properties: {
    seeds: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.maxSeeds,
      items: { type: 'string', minLength: 1, maxLength: LIMITS.maxSeedLength },
      description: 'Absolute http(s) URLs to start from.',
    },
    maxPages: { type: 'integer', minimum: 1, maximum: LIMITS.maxPages, default: LIMITS.defaultMaxPages },
    maxDepth: { type: 'integer', minimum: 0, maximum: LIMITS.maxDepth, default: LIMITS.defaultMaxDepth },
    scope: { type: 'string', enum: ['host', 'domain'], default: 'host' },
    mode: { type: 'string', enum: ['http', 'browser', 'auto'], default: 'http' },
    respectRobots: {
      type: 'boolean',
      description: 'Defaults to the server setting OWL_RESPECT_ROBOTS; false is refused while that setting is true.',
    },
    screenshots: {
      type: 'boolean',
      default: false,
      description: 'Browser and auto modes: save a screenshot of every blocked or captcha page for inspection.',
    },
    source: { type: 'string', pattern: SOURCE_PATTERN, default: 'api', description: 'Who submitted the job (metric label).' },
  },
} as const;

export const failJobBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: {
    reason: { type: 'string', pattern: REASON_PATTERN, description: 'Reason code (metric label jobs_failed_total{reason}).' },
  },
} as const;

export const jobIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'Job id (UUID); anything else is 404.' } },
} as const;

export const listJobsQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.jobsPageMax, default: LIMITS.jobsPageDefault },
    after: { type: 'string', pattern: UUID_PATTERN, description: 'The `next` value of the previous page.' },
    status: { type: 'string', enum: JOB_STATUSES },
  },
} as const;

export const listPagesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.pagesPageMax, default: LIMITS.pagesPageDefault },
    after: { type: 'integer', minimum: 0, description: 'The `next` value of the previous page.' },
  },
} as const;

/** Error responses every route may give. */
export const commonErrors = { '4xx': errorSchema, '5xx': errorSchema } as const;
