/**
 * The schedule API: create, list, read, change and delete schedules, and list their runs.
 * A schedule's job body is the POST /jobs body, validated the same way (its errors name `job.…`).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { isOwlError, OwlError } from '../../errors.ts';
import type { CreateJobBody } from '../../jobs/new-job.ts';
import { checkTimezone, validateCron } from '../../schedules/cron.ts';
import type { AuditStore, Schedule, ScheduleOverlap, SchedulePatch, ScheduleRevisit, ScheduleStore } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import {
  UUID_RE, commonErrors, createScheduleBody, listRunsQuery, listSchedulesQuery, patchScheduleBody, runSchema, scheduleIdParams, scheduleSchema,
} from '../schemas.ts';

export interface ScheduleRoutesOptions {
  schedules: ScheduleStore;
  /** Every write is recorded here (who, what, from where). */
  audit: AuditStore;
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots' | 'minScheduleIntervalMs'>;
  now?: () => number;
}

interface ScheduleBody {
  name?: string | null;
  cron?: string;
  timezone?: string;
  job?: CreateJobBody;
  overlap?: ScheduleOverlap;
  enabled?: boolean;
  revisit?: ScheduleRevisit;
}

const read = { scope: 'jobs:read' as const };
const write = { scope: 'jobs:write' as const };

function notFound(): OwlError {
  return new OwlError('SCHEDULE_NOT_FOUND');
}

/** Vets a schedule's job body as POST /jobs would, with the field names under `job.`. */
async function vetJob(job: CreateJobBody, config: ScheduleRoutesOptions['config']): Promise<void> {
  // Loaded on first use, with the CSS engine that checks extraction rules: not before the API answers.
  const { newJobFromBody } = await import('../../jobs/new-job.ts');
  try {
    newJobFromBody(job, config);
  } catch (err) {
    if (!isOwlError(err)) throw err;
    const field = typeof err.details.field === 'string' ? `job.${err.details.field}` : 'job';
    const message = /^(seeds|extract|formats|respectRobots|sitemaps|onlyMainContent)/.test(err.message) ? `job.${err.message}` : `job: ${err.message}`;
    throw new OwlError(err.code, message, { ...err.details, field });
  }
}

export const scheduleRoutes: FastifyPluginAsync<ScheduleRoutesOptions> = async (app, opts) => {
  const { schedules, config } = opts;
  const now = opts.now ?? Date.now;

  /**
   * The schedule, if the request may see it: another key's schedule is SCHEDULE_NOT_FOUND exactly
   * like one that does not exist, unless the key has `admin` (as for jobs).
   */
  async function find(request: FastifyRequest, id: string): Promise<Schedule> {
    if (!UUID_RE.test(id)) throw notFound();
    const s = await viaStore('getSchedule', () => schedules.get(id.toLowerCase()));
    if (!s) throw notFound();
    const p = request.principal;
    if (p !== null && !p.admin && s.keyId !== p.keyId) throw notFound();
    return s;
  }

  async function record(request: FastifyRequest, action: string, target: string): Promise<void> {
    const entry = { at: now(), keyId: request.principal?.keyId ?? null, action, target, address: request.ip ?? null };
    await viaStore('recordAudit', () => opts.audit.record(entry));
  }

  app.post<{ Body: Required<Omit<ScheduleBody, 'name'>> & { name?: string } }>('/schedules', {
    config: write,
    schema: {
      summary: 'Create a schedule: a cron pattern and the job each run submits',
      description: 'Each due run creates one job (exactly once across processes). The first run is the baseline; later runs re-crawl conditionally (If-None-Match / If-Modified-Since) and give every page a change: new, changed, unchanged or gone.',
      body: createScheduleBody,
      response: { 201: scheduleSchema, ...commonErrors },
    },
  }, async (request, reply) => {
    const b = request.body;
    const nextRunAt = validateCron(b.cron, b.timezone, config.minScheduleIntervalMs, now());
    await vetJob(b.job, config);
    const schedule = await viaStore('createSchedule', () => schedules.create({
      name: b.name ?? null,
      cron: b.cron,
      timezone: b.timezone,
      job: b.job as unknown as Record<string, unknown>,
      overlap: b.overlap,
      revisit: b.revisit,
      enabled: b.enabled,
      keyId: request.principal?.keyId ?? null,
      nextRunAt: b.enabled ? nextRunAt : null,
    }, now()));
    await record(request, 'schedule.create', schedule.id);
    reply.code(201).header('location', `/schedules/${schedule.id}`);
    return schedule;
  });

  app.get<{ Querystring: { limit: number; after?: string } }>('/schedules', {
    config: read,
    schema: {
      summary: "List schedules, oldest first (a key without admin sees its own)",
      querystring: listSchedulesQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of schedules; pass `next` as `after` for the following page (null at the end).',
          required: ['schedules', 'next'],
          properties: { schedules: { type: 'array', items: scheduleSchema }, next: { type: ['string', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { limit, after } = request.query;
    const p = request.principal;
    const keyId = p !== null && !p.admin ? p.keyId : undefined;
    const rows = await viaStore('listSchedules', () => schedules.list({ limit: limit + 1, after: after?.toLowerCase(), keyId }));
    const page = rows.slice(0, limit);
    return { schedules: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });

  app.get<{ Params: { id: string } }>('/schedules/:id', {
    config: read,
    schema: { summary: 'Read a schedule', params: scheduleIdParams, response: { 200: scheduleSchema, ...commonErrors } },
  }, async (request) => find(request, request.params.id));

  app.patch<{ Params: { id: string }; Body: ScheduleBody }>('/schedules/:id', {
    config: write,
    schema: {
      summary: 'Change a schedule (any of name, cron, timezone, job, overlap, enabled, revisit)',
      description: 'A new pattern, zone or enabling plans the next run from now; disabling clears it.',
      params: scheduleIdParams,
      body: patchScheduleBody,
      response: { 200: scheduleSchema, ...commonErrors },
    },
  }, async (request) => {
    const before = await find(request, request.params.id);
    const b = request.body;
    const patch: SchedulePatch = {};
    if (b.name !== undefined) patch.name = b.name;
    if (b.overlap !== undefined) patch.overlap = b.overlap;
    if (b.revisit !== undefined) patch.revisit = b.revisit;
    if (b.job !== undefined) {
      await vetJob(b.job, config);
      patch.job = b.job as unknown as Record<string, unknown>;
    }
    const cron = b.cron ?? before.cron;
    const timezone = b.timezone ?? before.timezone;
    if (b.timezone !== undefined) checkTimezone(timezone);
    const enabled = b.enabled ?? before.enabled;
    if (b.cron !== undefined || b.timezone !== undefined || b.enabled !== undefined) {
      const next = validateCron(cron, timezone, config.minScheduleIntervalMs, now());
      Object.assign(patch, { cron, timezone, enabled });
      // A pattern unchanged on a schedule that stays enabled keeps its planned run.
      const replan = b.cron !== undefined || b.timezone !== undefined || !before.enabled;
      patch.nextRunAt = !enabled ? null : replan ? next : before.nextRunAt;
    }
    const after = await viaStore('updateSchedule', () => schedules.update(before.id, patch, now()));
    if (!after) throw notFound();
    await record(request, 'schedule.update', after.id);
    return after;
  });

  app.delete<{ Params: { id: string } }>('/schedules/:id', {
    config: write,
    schema: {
      summary: 'Delete a schedule with its runs and baseline (its jobs stay)',
      params: scheduleIdParams,
      response: { 204: { description: 'deleted', type: 'null' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const s = await find(request, request.params.id);
    if (!(await viaStore('deleteSchedule', () => schedules.delete(s.id)))) throw notFound();
    await record(request, 'schedule.delete', s.id);
    reply.code(204);
  });

  app.get<{ Params: { id: string }; Querystring: { limit: number; after?: number } }>('/schedules/:id/runs', {
    config: read,
    schema: {
      summary: "A schedule's runs, newest first: job id, planned and actual start, outcome",
      params: scheduleIdParams,
      querystring: listRunsQuery,
      response: {
        200: {
          type: 'object',
          description: 'One page of runs; pass `next` as `after` for the following page (null at the end).',
          required: ['runs', 'next'],
          properties: { runs: { type: 'array', items: runSchema }, next: { type: ['integer', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const s = await find(request, request.params.id);
    const { limit, after } = request.query;
    const rows = await viaStore('listRuns', () => schedules.runs(s.id, { limit: limit + 1, after }));
    const page = rows.slice(0, limit);
    return { runs: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });
};
