/**
 * The job API: submit, list, read, read results, cancel, and record an operator's failure.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { isOwlError, OwlError } from '../../errors.ts';
import type { CreateJobBody } from '../../jobs/new-job.ts';
import type { ApiMetrics } from '../../metrics/registry.ts';
import type { AuditStore, Job, JobStatus, JobStore, PageOutcomeFilter, PageStore } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import { LabelCap } from '../label-cap.ts';
import {
  UUID_RE, commonErrors, createJobBody, exportQuery, failJobBody, jobIdParams, jobSchema, listJobsQuery, listPagesQuery, pageDetailSchema,
  pageParams, pageSchema,
} from '../schemas.ts';
import { PassThrough } from 'node:stream';
import { columnsFor, CONTENT_TYPES, exportFileName, writeExport, type ExportFormat, type ExportRecord } from '../../scrape/export.ts';
import type { ScrapeOptions } from '../../scrape/options-schema.ts';
import { pageResult } from '../../scrape/record.ts';

export interface JobRoutesOptions {
  jobs: JobStore;
  pages: PageStore;
  /** Every write is recorded here (who, what, from where). */
  audit: AuditStore;
  metrics: Pick<ApiMetrics, 'jobsStarted' | 'jobsFailed' | 'apiRateLimited'>;
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots'>;
  /** Distinct `source` and `reason` label values kept before the rest count as `other` (default 100). */
  maxLabelValues?: number;
  /** Called after a job is stored (an in-process crawler claims it at once instead of at its next poll). */
  onJobCreated?: () => void;
  /** Times of audit entries and the start of a key's quota day (default Date.now). */
  clock?: () => number;
}

/** The records of a job's export (or `owl crawl --output`): its final pages with what it asked for. */
export async function* exportRecords(pages: PageStore, jobId: string, after = 0): AsyncIterable<ExportRecord> {
  for await (const page of pages.iterate(jobId, { after })) yield pageResult(page) as unknown as ExportRecord;
}

const read = { scope: 'jobs:read' as const };
const write = { scope: 'jobs:write' as const };

const FINISHED: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled']);
/** The reason stored on a job cancelled through the API. */
export const CANCEL_REASON = 'cancelled_by_operator';

function jobNotFound(): OwlError {
  return new OwlError('JOB_NOT_FOUND');
}

function jobFinished(job: Job): OwlError {
  return new OwlError('JOB_FINISHED', `The job has already finished (status: ${job.status})`, { status: job.status });
}

export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, opts) => {
  const { jobs, pages, metrics, config } = opts;
  const now = opts.clock ?? Date.now;
  const sources = new LabelCap(opts.maxLabelValues);
  const reasons = new LabelCap(opts.maxLabelValues);

  /**
   * The job, if the request may see it: another key's job is JOB_NOT_FOUND exactly like a job that
   * does not exist (a 403 would confirm that it does), unless the key has `admin`.
   */
  async function findJob(request: FastifyRequest, id: string): Promise<Job> {
    if (!UUID_RE.test(id)) throw jobNotFound();
    const job = await viaStore('getJob', () => jobs.get(id.toLowerCase()));
    if (job === undefined) throw jobNotFound();
    const p = request.principal;
    if (p !== null && !p.admin && job.keyId !== p.keyId) throw jobNotFound();
    return job;
  }

  async function record(request: FastifyRequest, action: string, target: string): Promise<void> {
    const entry = { at: now(), keyId: request.principal?.keyId ?? null, action, target, address: request.ip ?? null };
    await viaStore('recordAudit', () => opts.audit.record(entry));
  }

  app.post<{ Body: CreateJobBody }>('/jobs', {
    config: write,
    schema: {
      summary: 'Submit a crawl job',
      body: createJobBody,
      response: { 201: jobSchema, ...commonErrors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const key = request.principal?.key;
    // Loaded on first use, with the CSS engine that checks extraction rules: not before the API answers.
    const { admissionOf, newJobFromBody } = await import('../../jobs/new-job.ts');
    const job = await viaStore('createJob', () => jobs.create({ ...newJobFromBody(b, config), keyId: key?.id ?? null, admission: admissionOf(key, now()) })).catch((err: unknown) => {
      if (isOwlError(err, 'QUOTA_EXCEEDED')) metrics.apiRateLimited.inc({ reason: String(err.details.limit) });
      throw err;
    });
    await record(request, 'job.create', job.id);
    metrics.jobsStarted.inc({ source: sources.label(b.source) });
    opts.onJobCreated?.();
    reply.code(201).header('location', `/jobs/${job.id}`);
    return job;
  });

  app.get<{ Querystring: { limit: number; after?: string; status?: JobStatus } }>('/jobs', {
    config: read,
    schema: {
      summary: 'List jobs, newest first',
      querystring: listJobsQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of jobs; pass `next` as `after` for the following page (null at the end).',
          required: ['jobs', 'next'],
          properties: { jobs: { type: 'array', items: jobSchema }, next: { type: ['string', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { limit, after, status } = request.query;
    // One row more than asked tells whether another page exists.
    const p = request.principal;
    const keyId = p !== null && !p.admin ? p.keyId : undefined;
    const rows = await viaStore('listJobs', () => jobs.list({ limit: limit + 1, after: after?.toLowerCase(), status, keyId }));
    const page = rows.slice(0, limit);
    return { jobs: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', {
    config: read,
    schema: { summary: 'Read a job', params: jobIdParams, response: { 200: jobSchema, ...commonErrors } },
  }, async (request) => findJob(request, request.params.id));

  app.get<{ Params: { id: string }; Querystring: { limit: number; after?: number; outcome?: PageOutcomeFilter } }>('/jobs/:id/pages', {
    config: read,
    schema: {
      summary: "A job's results, oldest first",
      params: jobIdParams,
      querystring: listPagesQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of results; pass `next` as `after` for the following page (null at the end).',
          required: ['pages', 'next'],
          properties: { pages: { type: 'array', items: pageSchema }, next: { type: ['integer', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const job = await findJob(request, request.params.id);
    const { limit, after, outcome } = request.query;
    const rows = await viaStore('listPages', () => pages.list(job.id, { limit: limit + 1, after, outcome }));
    const page = rows.slice(0, limit);
    return { pages: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });

  app.get<{ Params: { id: string; pageId: number } }>('/jobs/:id/pages/:pageId', {
    config: read,
    schema: {
      summary: 'One result with what its job asked for: metadata, data, items, markdown, text, html, links',
      params: pageParams,
      response: { 200: pageDetailSchema, ...commonErrors },
    },
  }, async (request) => {
    const job = await findJob(request, request.params.id);
    const page = await viaStore('getPage', () => pages.get(job.id, request.params.pageId));
    if (page === undefined) throw new OwlError('PAGE_NOT_FOUND');
    return pageResult(page);
  });

  app.get<{ Params: { id: string }; Querystring: { format: ExportFormat } }>('/jobs/:id/export', {
    config: read,
    schema: {
      summary: "Every final page record of a job, streamed (a running job's so far)",
      description: 'jsonl: one record a line; json: an array; csv: one row per page (url, title, then each `fields` value) or, with `items` rules, one row per item (pageUrl, then each item field), RFC 4180, UTF-8 with a header row.',
      params: jobIdParams,
      querystring: exportQuery,
      response: { 200: { description: 'the file', type: 'string' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const job = await findJob(request, request.params.id);
    const { format } = request.query;
    const scrape = job.options.scrape as ScrapeOptions | undefined;
    const { compileScrapeOptions } = await import('../../scrape/options.ts');
    const columns = columnsFor(scrape ? compileScrapeOptions(scrape).extract : null);
    const body = new PassThrough();
    // The store is read batch by batch as the client takes the bytes: constant memory however large the job.
    writeExport(format, exportRecords(pages, job.id), body, columns).then(
      () => body.end(),
      (err: unknown) => {
        request.log.error({ err, jobId: job.id }, 'export failed midway');
        body.destroy(err as Error);
      },
    );
    reply
      .header('content-type', CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename="${exportFileName(job.id, format)}"`)
      .header('cache-control', 'no-store');
    return reply.send(body);
  });

  app.delete<{ Params: { id: string } }>('/jobs/:id', {
    config: write,
    schema: {
      summary: 'Delete a finished job with its pages and their content',
      description: 'A queued or running job is refused with 409 JOB_LIVE: cancel it first.',
      params: jobIdParams,
      response: { 204: { description: 'deleted', type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const job = await findJob(request, request.params.id);
    const result = await viaStore('deleteJob', () => jobs.delete(job.id));
    if (result === 'unknown') throw jobNotFound();
    if (result === 'live') throw new OwlError('JOB_LIVE');
    await record(request, 'job.delete', job.id);
    reply.code(204);
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', {
    config: write,
    schema: { summary: 'Cancel a queued or running job', params: jobIdParams, response: { 200: jobSchema, ...commonErrors } },
  }, async (request) => {
    const before = await findJob(request, request.params.id);
    if (FINISHED.has(before.status)) throw jobFinished(before);
    const job = await viaStore('cancelJob', () => jobs.cancel(before.id, CANCEL_REASON));
    if (job === undefined) throw jobNotFound();
    // The job may have finished between the read and the cancel; the store then leaves it as it was.
    if (job.status !== 'cancelled') throw jobFinished(job);
    await record(request, 'job.cancel', job.id);
    return job;
  });

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/jobs/:id/fail', {
    config: write,
    schema: {
      summary: 'Record that a job failed (operator)',
      description: 'Marks a queued or running job failed with a reason code and counts it in jobs_failed_total{reason}.',
      params: jobIdParams,
      body: failJobBody,
      response: { 200: jobSchema, ...commonErrors },
    },
  }, async (request) => {
    const { reason } = request.body;
    const before = await findJob(request, request.params.id);
    if (FINISHED.has(before.status)) throw jobFinished(before);
    const job = await viaStore('failJob', () => jobs.fail(before.id, reason));
    if (job === undefined) throw jobNotFound();
    if (job.status !== 'failed' || job.reason !== reason) throw jobFinished(job);
    metrics.jobsFailed.inc({ reason: reasons.label(reason) });
    await record(request, 'job.fail', job.id);
    return job;
  });
};
