/**
 * JSON schemas of the API's requests and responses. They validate input, drive the response
 * serializer (only declared fields leave the server) and become the OpenAPI document.
 * Times are epoch milliseconds, as in the store.
 */
import { EXPORT_FORMATS } from '../scrape/export.ts';
import { scrapeOptionsSchema } from '../scrape/options-schema.ts';
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
  required: ['id', 'status', 'seeds', 'options', 'source', 'createdAt', 'startedAt', 'finishedAt', 'reason', 'counts', 'keyId'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    keyId: { ...nullable('string'), description: 'the API key that created the job (null: created with OWL_AUTH=off)' },
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
        scrape: {
          type: 'object',
          description: 'What each page yields (formats, onlyMainContent, extract) and whether sitemaps are read.',
          properties: {
            formats: { type: 'array', items: { type: 'string' } },
            onlyMainContent: { type: 'boolean' },
            extract: { type: ['object', 'null'], additionalProperties: true },
            sitemaps: { type: 'string' },
          },
        },
        schedule: {
          type: 'object',
          description: 'Jobs started by a schedule: its id and re-visit policy.',
          properties: { id: { type: 'string' }, revisit: { type: 'string' } },
        },
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
        sitemaps: { type: 'integer', description: 'sitemap files still to be read' },
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
    contentHash: { ...nullable('string'), description: 'hash of the main content and extracted data; changes only when they change' },
    lastmod: { ...nullable('integer'), description: "a sitemap's <lastmod> for the page, epoch ms" },
    change: { ...nullable('string'), description: "a schedule's run: new, changed, unchanged or gone against the schedule's baseline" },
    previousPageId: { ...nullable('integer'), description: "a schedule's run: the previous run's page of this URL" },
  },
} as const;

const anyJson = { description: 'any JSON value' };

/** A page with what its job's formats asked for (GET /jobs/:id/pages/:pageId, exports). */
export const pageDetailSchema = {
  type: 'object',
  required: ['id', 'url', 'finalUrl', 'statusCode', 'depth', 'fetchedAt', 'contentType', 'mode', 'title', 'errorCode', 'contentHash', 'lastmod'],
  properties: {
    ...pageSchema.properties,
    errorCode: pageSchema.properties.errorCode,
    metadata: {
      type: 'object',
      additionalProperties: true,
      description: 'title, description, lang, canonical, siteName, author, publishedTime, openGraph, twitter, jsonLd, jsonLdInvalid, robots',
    },
    data: anyJson,
    items: { type: 'array', items: { type: 'object', additionalProperties: true } },
    markdown: { type: 'string' },
    text: { type: 'string' },
    html: { type: 'string' },
    links: { type: 'array', items: { type: 'string' } },
    truncated: { type: 'array', items: { type: 'string' }, description: 'fields cut by OWL_MAX_CONTENT_BYTES' },
    extraction: { ...nullable('object'), additionalProperties: true, description: 'status (complete, missing_required, failed) and null values by reason' },
    contentMissing: { type: 'boolean', description: 'the content is not stored: robots noindex, or removed by OWL_CONTENT_RETENTION_DAYS' },
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
    ...scrapeOptionsSchema,
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

export const pageParams = {
  type: 'object',
  required: ['id', 'pageId'],
  properties: {
    id: { type: 'string', description: 'Job id (UUID); anything else is 404.' },
    pageId: { type: 'integer', minimum: 1, description: 'A page id from GET /jobs/:id/pages.' },
  },
} as const;

export const exportQuery = {
  type: 'object',
  required: ['format'],
  properties: { format: { type: 'string', enum: EXPORT_FORMATS, description: 'jsonl (one record a line), json (an array) or csv' } },
} as const;

export const listPagesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.pagesPageMax, default: LIMITS.pagesPageDefault },
    after: { type: 'integer', minimum: 0, description: 'The `next` value of the previous page.' },
    outcome: { type: 'string', enum: ['ok', 'failed'], description: 'Only successes (no error code) or only failures; all when absent.' },
  },
} as const;

/** Error responses every route may give. */
export const commonErrors = { '4xx': errorSchema, '5xx': errorSchema } as const;

// Schedules (issue 13) ------------------------------------------------------------------------

export const SCHEDULE_LIMITS = {
  maxNameLength: 100,
  maxCronLength: 200,
  maxTimezoneLength: 64,
  schedulesPageDefault: 20,
  schedulesPageMax: 100,
  runsPageDefault: 50,
  runsPageMax: 500,
  changesPageDefault: 100,
  changesPageMax: 1000,
} as const;

/** A schedule's job: the POST /jobs body, whose `source` defaults to `schedule`. */
const scheduleJobBody = {
  ...createJobBody,
  description: 'The POST /jobs body each run submits (vetted again at every run).',
  properties: { ...createJobBody.properties, source: { ...createJobBody.properties.source, default: 'schedule' } },
} as const;

const scheduleProperties = {
  name: { type: 'string', minLength: 1, maxLength: SCHEDULE_LIMITS.maxNameLength },
  cron: {
    type: 'string',
    minLength: 1,
    maxLength: SCHEDULE_LIMITS.maxCronLength,
    description: 'Cron pattern: five fields (minute hour day month weekday) or six with seconds first; runs may not be closer than OWL_MIN_SCHEDULE_INTERVAL_MS.',
  },
  timezone: { type: 'string', minLength: 1, maxLength: SCHEDULE_LIMITS.maxTimezoneLength, description: 'IANA time zone of the pattern.' },
  job: scheduleJobBody,
  overlap: { type: 'string', enum: ['skip', 'queue'], description: 'When the previous run is still going: skip this one (recorded), or queue it (one at most).' },
  enabled: { type: 'boolean' },
  revisit: {
    type: 'string',
    enum: ['all', 'adaptive'],
    description: 'all: revalidate every known URL each run; adaptive: a URL is re-visited once its interval (growing while unchanged) is due.',
  },
} as const;

export const createScheduleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['cron', 'job'],
  properties: {
    ...scheduleProperties,
    timezone: { ...scheduleProperties.timezone, default: 'UTC' },
    overlap: { ...scheduleProperties.overlap, default: 'skip' },
    enabled: { ...scheduleProperties.enabled, default: true },
    revisit: { ...scheduleProperties.revisit, default: 'all' },
  },
} as const;

export const patchScheduleBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { ...scheduleProperties, name: { type: ['string', 'null'], maxLength: SCHEDULE_LIMITS.maxNameLength } },
} as const;

export const scheduleSchema = {
  type: 'object',
  description: 'A schedule: a cron pattern and the job each run submits.',
  required: ['id', 'name', 'cron', 'timezone', 'job', 'overlap', 'revisit', 'enabled', 'keyId', 'nextRunAt', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: nullable('string'),
    cron: { type: 'string' },
    timezone: { type: 'string' },
    job: { type: 'object', additionalProperties: true, description: 'The POST /jobs body each run submits.' },
    overlap: { type: 'string', enum: ['skip', 'queue'] },
    revisit: { type: 'string', enum: ['all', 'adaptive'] },
    enabled: { type: 'boolean' },
    keyId: { ...nullable('string'), description: 'The API key that created it (null without keys).' },
    nextRunAt: { ...nullable('integer'), description: 'epoch ms of the next planned run; null when disabled' },
    createdAt: { type: 'integer', description: 'epoch ms' },
    updatedAt: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export const runSchema = {
  type: 'object',
  required: ['id', 'jobId', 'plannedAt', 'startedAt', 'finishedAt', 'outcome', 'reason'],
  properties: {
    id: { type: 'integer' },
    jobId: { ...nullable('string'), description: 'The job the run started (null when it did not start)' },
    plannedAt: { type: 'integer', description: 'epoch ms the pattern planned' },
    startedAt: { ...nullable('integer'), description: 'epoch ms the job was created' },
    finishedAt: { ...nullable('integer'), description: 'epoch ms the run ended' },
    outcome: {
      type: 'string',
      enum: ['pending', 'queued', 'running', 'done', 'failed', 'cancelled', 'skipped', 'missed'],
      description: 'queued: waits for the previous job (overlap queue); running, then the job\'s end; skipped: the previous job was still going; missed: due while nothing ran',
    },
    reason: { ...nullable('string'), description: 'previous_running, queue_full, down, start_interrupted, or why the job could not be created' },
  },
} as const;

export const scheduleIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'Schedule id (UUID); anything else is 404.' } },
} as const;

export const listSchedulesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: SCHEDULE_LIMITS.schedulesPageMax, default: SCHEDULE_LIMITS.schedulesPageDefault },
    after: { type: 'string', pattern: UUID_PATTERN, description: 'The `next` value of the previous page.' },
  },
} as const;

export const listRunsQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: SCHEDULE_LIMITS.runsPageMax, default: SCHEDULE_LIMITS.runsPageDefault },
    after: { type: 'integer', minimum: 1, description: 'The `next` value of the previous page.' },
  },
} as const;

export const changesQuery = {
  type: 'object',
  properties: {
    type: { type: 'string', maxLength: 100, description: 'Comma-separated changes to list: new, changed, unchanged, gone (default all).' },
    limit: { type: 'integer', minimum: 1, maximum: SCHEDULE_LIMITS.changesPageMax, default: SCHEDULE_LIMITS.changesPageDefault },
    after: { type: 'integer', minimum: 0, description: 'The `next` value of the previous page.' },
  },
} as const;

export const changeSchema = {
  type: 'object',
  required: ['url', 'change', 'pageId'],
  properties: {
    url: { type: 'string' },
    change: { type: 'string', enum: ['new', 'changed', 'unchanged', 'gone'] },
    pageId: { type: 'integer' },
  },
} as const;

export const diffSchema = {
  type: 'object',
  required: ['pageId', 'url', 'change', 'previousPageId', 'previousJobId', 'content', 'data'],
  properties: {
    pageId: { type: 'integer' },
    url: { type: 'string' },
    change: nullable('string'),
    previousPageId: { ...nullable('integer'), description: "the previous run's page of this URL (null for a new page)" },
    previousJobId: nullable('string'),
    content: {
      type: 'object',
      required: ['format', 'diff'],
      properties: {
        format: { ...nullable('string'), description: 'markdown or text: the main content compared (null when neither page has one)' },
        diff: { type: 'string', description: 'unified diff of the main content, previous → current (empty when equal)' },
      },
    },
    data: {
      type: 'array',
      description: 'extracted fields whose value differs (field, before, after); `items` is compared as one field',
      items: {
        type: 'object',
        required: ['field'],
        properties: { field: { type: 'string' }, before: { description: 'any JSON value' }, after: { description: 'any JSON value' } },
      },
    },
  },
} as const;
const SCOPE_NAMES = ['jobs:read', 'jobs:write', 'admin'] as const;

/** An API key as GET /keys lists it: never the secret. */
export const apiKeySchema = {
  type: 'object',
  required: ['id', 'name', 'scopes', 'prefix', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt', 'rate', 'maxRunningJobs', 'maxPagesPerDay'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: SCOPE_NAMES } },
    prefix: { type: 'string', description: 'the first characters of the key, to tell keys apart' },
    createdAt: { type: 'integer', description: 'epoch ms' },
    lastUsedAt: { ...nullable('integer'), description: 'epoch ms (written at most once a minute)' },
    expiresAt: { ...nullable('integer'), description: 'epoch ms' },
    revokedAt: { ...nullable('integer'), description: 'epoch ms' },
    rate: { ...nullable('number'), description: 'requests per second (null: unlimited)' },
    maxRunningJobs: { ...nullable('integer'), description: 'queued or running jobs at once (null: unlimited)' },
    maxPagesPerDay: { ...nullable('integer'), description: 'pages per UTC day (null: unlimited)' },
  },
} as const;

export const createdKeySchema = {
  ...apiKeySchema,
  required: [...apiKeySchema.required, 'key'],
  properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'the key itself: shown this once, never again' } },
} as const;

export const createKeyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    scopes: { type: 'array', minItems: 1, items: { type: 'string', enum: SCOPE_NAMES } },
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 100_000, description: 'requests per second (token bucket)' },
    maxRunningJobs: { type: 'integer', minimum: 1, maximum: 100_000 },
    maxPagesPerDay: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
    expiresAt: { type: 'string', description: 'ISO 8601 date-time with a time zone, e.g. 2027-01-31T00:00:00Z' },
  },
} as const;

export const keyIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64, description: 'API key id' } },
} as const;

export const auditEntrySchema = {
  type: 'object',
  required: ['id', 'at', 'keyId', 'action', 'target', 'address'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'integer', description: 'epoch ms' },
    keyId: { ...nullable('string'), description: 'the key that did it (null: the local operator)' },
    action: { type: 'string', description: 'job.create, job.cancel, job.fail, job.delete, key.create, key.revoke' },
    target: { ...nullable('string'), description: 'the job or key id' },
    address: { ...nullable('string'), description: "the client's address (local: owl keys)" },
  },
} as const;

export const listAuditQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    after: { type: 'integer', minimum: 1, description: 'The `next` value of the previous page.' },
  },
} as const;
