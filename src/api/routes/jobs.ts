/**
 * The job API: submit, list, read, read results, cancel, and record an operator's failure.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { OwlError, isOwlError } from '../../errors.ts';
import type { ApiMetrics } from '../../metrics/registry.ts';
import type { CrawlMode, Job, JobScope, JobStatus, Store } from '../../store/types.ts';
import { normalizeUrl } from '../../crawl/url.ts';
import { assertTargetAllowed } from '../../crawl/target-guard.ts';
import { viaStore } from '../http-errors.ts';
import { LabelCap } from '../label-cap.ts';
import {
  UUID_RE, commonErrors, createJobBody, failJobBody, jobIdParams, jobSchema, listJobsQuery, listPagesQuery, pageSchema,
} from '../schemas.ts';

export interface JobRoutesOptions {
  store: Store;
  metrics: Pick<ApiMetrics, 'jobsStarted' | 'jobsFailed'>;
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots'>;
  /** Distinct `source` and `reason` label values kept before the rest count as `other` (default 100). */
  maxLabelValues?: number;
  /** Called after a job is stored (an in-process crawler claims it at once instead of at its next poll). */
  onJobCreated?: () => void;
}

interface CreateJobBody {
  seeds: string[];
  maxPages: number;
  maxDepth: number;
  scope: JobScope;
  mode: CrawlMode;
  respectRobots?: boolean;
  screenshots: boolean;
  source: string;
}

const FINISHED: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled']);
/** The reason stored on a job cancelled through the API. */
export const CANCEL_REASON = 'cancelled_by_operator';

function jobNotFound(): OwlError {
  return new OwlError('JOB_NOT_FOUND');
}

function jobFinished(job: Job): OwlError {
  return new OwlError('JOB_FINISHED', `The job has already finished (status: ${job.status})`, { status: job.status });
}

/** Normalises and vets every seed; the first bad one is reported with its index. */
function vetSeeds(seeds: string[], allowPrivate: boolean): string[] {
  return seeds.map((raw, i) => {
    const url = normalizeUrl(raw);
    if (url === null) throw new OwlError('INVALID_URL', `seeds[${i}] is not an absolute http(s) URL`, { index: i });
    try {
      assertTargetAllowed(url, allowPrivate);
    } catch (err) {
      if (isOwlError(err)) throw new OwlError(err.code, `seeds[${i}]: ${err.message}`, { ...err.details, index: i });
      throw err;
    }
    return url;
  });
}

export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, opts) => {
  const { store, metrics, config } = opts;
  const sources = new LabelCap(opts.maxLabelValues);
  const reasons = new LabelCap(opts.maxLabelValues);

  async function findJob(id: string): Promise<Job> {
    if (!UUID_RE.test(id)) throw jobNotFound();
    const job = await viaStore('getJob', () => store.getJob(id.toLowerCase()));
    if (job === undefined) throw jobNotFound();
    return job;
  }

  app.post<{ Body: CreateJobBody }>('/jobs', {
    schema: {
      summary: 'Submit a crawl job',
      body: createJobBody,
      response: { 201: jobSchema, ...commonErrors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const respectRobots = b.respectRobots ?? config.respectRobots;
    if (!respectRobots && config.respectRobots) {
      throw new OwlError('VALIDATION', 'respectRobots=false is refused: this server obeys robots.txt (OWL_RESPECT_ROBOTS=true)', { field: 'respectRobots' });
    }
    const seeds = vetSeeds(b.seeds, config.allowPrivateTargets);
    const job = await viaStore('createJob', () => store.createJob({
      seeds,
      source: b.source,
      options: {
        maxPages: b.maxPages,
        maxDepth: b.maxDepth,
        scope: b.scope,
        mode: b.mode,
        respectRobots,
        allowPrivate: config.allowPrivateTargets,
        screenshots: b.screenshots,
      },
    }));
    metrics.jobsStarted.inc({ source: sources.label(b.source) });
    opts.onJobCreated?.();
    reply.code(201).header('location', `/jobs/${job.id}`);
    return job;
  });

  app.get<{ Querystring: { limit: number; after?: string; status?: JobStatus } }>('/jobs', {
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
    const rows = await viaStore('listJobs', () => store.listJobs({ limit: limit + 1, after: after?.toLowerCase(), status }));
    const jobs = rows.slice(0, limit);
    return { jobs, next: rows.length > limit ? jobs[jobs.length - 1]!.id : null };
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', {
    schema: { summary: 'Read a job', params: jobIdParams, response: { 200: jobSchema, ...commonErrors } },
  }, async (request) => findJob(request.params.id));

  app.get<{ Params: { id: string }; Querystring: { limit: number; after?: number } }>('/jobs/:id/pages', {
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
    const job = await findJob(request.params.id);
    const { limit, after } = request.query;
    const rows = await viaStore('listPages', () => store.listPages(job.id, { limit: limit + 1, after }));
    const pages = rows.slice(0, limit);
    return { pages, next: rows.length > limit ? pages[pages.length - 1]!.id : null };
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', {
    schema: { summary: 'Cancel a queued or running job', params: jobIdParams, response: { 200: jobSchema, ...commonErrors } },
  }, async (request) => {
    const before = await findJob(request.params.id);
    if (FINISHED.has(before.status)) throw jobFinished(before);
    const job = await viaStore('cancelJob', () => store.cancelJob(before.id, CANCEL_REASON));
    if (job === undefined) throw jobNotFound();
    // The job may have finished between the read and the cancel; the store then leaves it as it was.
    if (job.status !== 'cancelled') throw jobFinished(job);
    return job;
  });

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/jobs/:id/fail', {
    schema: {
      summary: 'Record that a job failed (operator)',
      description: 'Marks a queued or running job failed with a reason code and counts it in jobs_failed_total{reason}.',
      params: jobIdParams,
      body: failJobBody,
      response: { 200: jobSchema, ...commonErrors },
    },
  }, async (request) => {
    const { reason } = request.body;
    const before = await findJob(request.params.id);
    if (FINISHED.has(before.status)) throw jobFinished(before);
    const job = await viaStore('failJob', () => store.failJob(before.id, reason));
    if (job === undefined) throw jobNotFound();
    if (job.status !== 'failed' || job.reason !== reason) throw jobFinished(job);
    metrics.jobsFailed.inc({ reason: reasons.label(reason) });
    return job;
  });
};
