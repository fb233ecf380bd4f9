/**
 * GET /jobs/:id/events: a job's live progress as Server-Sent Events. The console reads it through
 * `fetch` (EventSource cannot send an Authorization header); curl -N works too.
 *
 * Events: `progress` (the job, pages per second since the previous event, failures by error code)
 * whenever something changed, at most once per `intervalMs`; then one `end` event with the
 * finished job, and the stream closes. A comment line every `heartbeatMs` keeps proxies from
 * timing the stream out.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import { OwlError } from '../../errors.ts';
import type { Job, JobStore, PageStore } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import { markStreamStarted } from '../instrumentation.ts';
import { UUID_RE, commonErrors, jobIdParams, jobSchema } from '../schemas.ts';

export interface EventRoutesOptions {
  jobs: JobStore;
  pages: PageStore;
  /** Shortest gap between two reads of the job (default 1000 ms). */
  intervalMs?: number;
  /** Gap between keep-alive comments (default 15000 ms). */
  heartbeatMs?: number;
  /** Failures by error code are re-counted every this many reads (default 5: a GROUP BY over the job's pages). */
  failuresEvery?: number;
}

const FINISHED = new Set(['done', 'failed', 'cancelled']);

function rate(pages: number, ms: number): number {
  return ms > 0 ? Math.round((pages / (ms / 1000)) * 10) / 10 : 0;
}

/** A finished job's pages per second over its whole run (first claim to end). */
function averageRate(job: Job): number {
  if (job.startedAt === null || job.finishedAt === null) return 0;
  return rate(job.counts.fetched + job.counts.failed, job.finishedAt - job.startedAt);
}

/** What one `progress` or `end` event carries. */
export const progressEventSchema = {
  type: 'object',
  required: ['job', 'pagesPerSecond', 'failuresByCode'],
  properties: {
    job: jobSchema,
    pagesPerSecond: { type: 'number', description: "pages settled (fetched or failed) per second since the previous event; on `end`, the job's average from its first claim" },
    failuresByCode: { type: 'object', additionalProperties: { type: 'integer' }, description: 'failed pages by lower-case error code' },
  },
} as const;

export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, opts) => {
  const { jobs, pages } = opts;
  const intervalMs = opts.intervalMs ?? 1000;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const failuresEvery = opts.failuresEvery ?? 5;
  const open = new Set<() => void>();
  // Streams never end by themselves while a job runs: close them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });

  app.get<{ Params: { id: string } }>('/jobs/:id/events', {
    // A HEAD would open a stream with no body to carry it.
    exposeHeadRoute: false,
    config: { scope: 'jobs:read' },
    schema: {
      summary: "A job's live progress (Server-Sent Events)",
      description: 'text/event-stream: `progress` events (data: {job, pagesPerSecond, failuresByCode}) when the job changes, at most one a second; `end` with the finished job, then the stream closes. A `: keep-alive` comment every 15 s.',
      params: jobIdParams,
      response: { 200: { description: 'the event stream', type: 'string' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const id = request.params.id;
    if (!UUID_RE.test(id)) throw new OwlError('JOB_NOT_FOUND');
    const first = await viaStore('getJob', () => jobs.get(id.toLowerCase()));
    if (first === undefined) throw new OwlError('JOB_NOT_FOUND');
    // Another key's job is a 404 like a job that does not exist (as on GET /jobs/:id), unless the key has admin.
    const principal = request.principal;
    if (principal !== null && !principal.admin && first.keyId !== principal.keyId) throw new OwlError('JOB_NOT_FOUND');

    reply.hijack();
    const raw: ServerResponse = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    markStreamStarted(reply);

    let timer: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let closed = false;
    const stop = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      open.delete(stop);
      raw.end();
    };
    open.add(stop);
    raw.on('close', stop);
    heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();

    let last: { settled: number; at: number; key: string } | null = null;
    let failures: Record<string, number> = {};
    let reads = 0;
    const send = async (job: Job): Promise<void> => {
      const now = Date.now();
      const settled = job.counts.fetched + job.counts.failed;
      if (reads++ % failuresEvery === 0 || FINISHED.has(job.status)) {
        failures = job.counts.failed > 0 ? await pages.failuresByCode(job.id) : {};
      }
      const key = JSON.stringify([job.status, job.counts, failures]);
      const finished = FINISHED.has(job.status);
      if (last !== null && last.key === key && !finished) return;
      const pagesPerSecond = finished ? averageRate(job) : last === null ? 0 : rate(settled - last.settled, now - last.at);
      last = { settled, at: now, key };
      const data = JSON.stringify({ job, pagesPerSecond, failuresByCode: failures });
      raw.write(`event: ${finished ? 'end' : 'progress'}\ndata: ${data}\n\n`);
      if (finished) stop();
    };
    // Reads the job (or takes the one already read), sends what changed, and schedules the next read.
    const tick = async (known?: Job): Promise<void> => {
      if (closed) return;
      try {
        const job = known ?? (await jobs.get(first.id));
        if (closed) return;
        if (job === undefined) {
          raw.write(`event: gone\ndata: {"id":${JSON.stringify(first.id)}}\n\n`);
          stop();
          return;
        }
        await send(job);
      } catch (err) {
        // A store outage pauses the stream; the next read may succeed.
        request.log.warn({ err, jobId: first.id }, 'job events: store read failed');
      }
      if (!closed) {
        timer = setTimeout(() => void tick(), intervalMs);
        timer.unref();
      }
    };
    await tick(first);
  });
};
