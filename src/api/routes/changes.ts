/**
 * What a schedule's run changed: the pages by change, and one page's diff against the previous run.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { OwlError } from '../../errors.ts';
import { pageResult } from '../../scrape/record.ts';
import { PAGE_CHANGES, type JobStore, type PageChange, type PageStore, type ScheduleStore } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import { UUID_RE, changeSchema, changesQuery, commonErrors, diffSchema, jobIdParams, pageParams } from '../schemas.ts';

export interface ChangeRoutesOptions {
  jobs: JobStore;
  pages: PageStore;
  schedules: ScheduleStore;
}

/** `type=changed,new` → the list; a value outside new, changed, unchanged, gone is a 400. */
export function parseChangeTypes(raw: string | undefined): PageChange[] {
  if (raw === undefined || raw.trim() === '') return [...PAGE_CHANGES];
  const out = new Set<PageChange>();
  for (const part of raw.split(',')) {
    const t = part.trim();
    if (!(PAGE_CHANGES as readonly string[]).includes(t)) {
      throw new OwlError('VALIDATION', `query parameter type must be a comma-separated list of: ${PAGE_CHANGES.join(', ')} (got ${JSON.stringify(t.slice(0, 32))})`, { field: 'type' });
    }
    out.add(t as PageChange);
  }
  return [...out];
}

export const changeRoutes: FastifyPluginAsync<ChangeRoutesOptions> = async (app, opts) => {
  const { jobs, pages, schedules } = opts;

  /** As GET /jobs/:id: another key's job is JOB_NOT_FOUND unless the key has `admin`. */
  async function findJob(request: FastifyRequest, id: string) {
    if (!UUID_RE.test(id)) throw new OwlError('JOB_NOT_FOUND');
    const job = await viaStore('getJob', () => jobs.get(id.toLowerCase()));
    if (!job) throw new OwlError('JOB_NOT_FOUND');
    const p = request.principal;
    if (p !== null && !p.admin && job.keyId !== p.keyId) throw new OwlError('JOB_NOT_FOUND');
    return job;
  }

  app.get<{ Params: { id: string }; Querystring: { type?: string; limit: number; after?: number } }>('/jobs/:id/changes', {
    config: { scope: 'jobs:read' },
    schema: {
      summary: "A schedule's run: its pages by change against the schedule's baseline, in page order",
      description: 'Fetched pages carry their change as they are stored; pages of the baseline the run no longer reached are listed as gone when the run ends. A job not started by a schedule has none.',
      params: jobIdParams,
      querystring: changesQuery,
      response: {
        200: {
          type: 'object',
          required: ['changes', 'next'],
          properties: { changes: { type: 'array', items: changeSchema }, next: { type: ['integer', 'null'] } },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const types = parseChangeTypes(request.query.type);
    const job = await findJob(request, request.params.id);
    const { limit, after } = request.query;
    const rows = await viaStore('listChanges', () => schedules.changes(job.id, { types, limit: limit + 1, after }));
    const page = rows.slice(0, limit);
    return { changes: page, next: rows.length > limit ? page[page.length - 1]!.pageId : null };
  });

  app.get<{ Params: { id: string; pageId: number } }>('/jobs/:id/pages/:pageId/diff', {
    config: { scope: 'jobs:read' },
    schema: {
      summary: "One page of a schedule's run against the previous run: unified diff of the main content, extracted fields that differ",
      params: pageParams,
      response: { 200: diffSchema, ...commonErrors },
    },
  }, async (request) => {
    const job = await findJob(request, request.params.id);
    const page = await viaStore('getPage', () => pages.get(job.id, request.params.pageId));
    if (!page) throw new OwlError('PAGE_NOT_FOUND');
    const previous = page.previousPageId === null ? undefined : await viaStore('getPage', () => schedules.pageById(page.previousPageId!));
    // Loaded on first use: the diff library is not needed before the API answers.
    const { diffPages } = await import('../../schedules/diff.ts');
    const d = diffPages(previous ? pageResult(previous) : null, page.content === null && page.change === 'gone' ? null : pageResult(page));
    return {
      pageId: page.id,
      url: page.url,
      change: page.change,
      previousPageId: previous?.id ?? null,
      previousJobId: previous?.jobId ?? null,
      content: d.content,
      data: d.data,
    };
  });
};
