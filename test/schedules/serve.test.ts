/**
 * `owl serve` on the embedded store runs the scheduler: a schedule created through the API starts
 * its runs, their jobs are crawled in-process, the runs end with their outcome, and /metrics shows
 * the scheduler's series.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';
import { metricValue, startApi, waitFor, type OwlProcess } from '../scale/processes.ts';

describe('schedules: owl serve (SQLite)', () => {
  let site: HttpFixture;
  let api: OwlProcess;
  const dir = mkdtempSync(path.join(tmpdir(), 'owl-schedules-serve-'));

  before(async () => {
    site = await startHttpFixture((req, res, at) => {
      if (at.pathname === '/' && req.headers['if-none-match'] === '"v1"') return sendBody(res, 304, '', { etag: '"v1"' });
      if (at.pathname === '/') return sendBody(res, 200, '<html><head><title>Home</title></head><body><p>Home.</p></body></html>', { 'content-type': 'text/html', etag: '"v1"' });
      return sendBody(res, 404, 'not found', { 'content-type': 'text/plain' });
    });
    api = await startApi({ OWL_AUTH: 'off', OWL_DATA_DIR: dir, OWL_MIN_SCHEDULE_INTERVAL_MS: '1000', OWL_ALLOW_PRIVATE_TARGETS: 'true', OWL_HOST_DELAY_MS: '0', OWL_BROWSER_MAX: '0' });
  });
  after(async () => {
    await api?.stop();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a schedule through the API, runs it every second, and reports the runs', async () => {
    const post = (body: unknown) => fetch(`${api.url}/schedules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const accepted = await post({ cron: '*/5 * * * * *', job: { seeds: [`${site.url}/`] }, enabled: false });
    assert.equal(accepted.status, 201, 'five seconds is above the 1 s minimum set here');
    const tooLong = await (await post({ cron: '* * * * * *', timezone: 'UTC', job: { seeds: [`${site.url}/`] }, name: 'x'.repeat(101) })).json();
    assert.match(tooLong.error.message, /^name must be at most 100 characters long/);
    const res = await post({ name: 'home', cron: '* * * * * *', job: { seeds: [`${site.url}/`], maxDepth: 0, sitemaps: 'skip' } });
    assert.equal(res.status, 201);
    const s = await res.json();
    const runs = await waitFor('two finished runs', async () => {
      const body = await (await fetch(`${api.url}/schedules/${s.id}/runs`)).json();
      const finished = body.runs.filter((r: { outcome: string }) => r.outcome === 'done');
      return finished.length >= 2 ? body.runs : undefined;
    }, 150, 200);
    const done = runs.filter((r: { outcome: string }) => r.outcome === 'done');
    assert.ok(done.every((r: { jobId: string; startedAt: number; plannedAt: number }) => r.jobId && r.startedAt >= r.plannedAt));
    // The second run of the page was answered 304 (the fixture sends an ETag): unchanged, carried over.
    const last = done[0];
    const changes = await (await fetch(`${api.url}/jobs/${last.jobId}/changes`)).json();
    assert.deepEqual(changes.changes.map((c: { change: string }) => c.change), ['unchanged']);
    const patched = await (await fetch(`${api.url}/schedules/${s.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) })).json();
    assert.equal(patched.nextRunAt, null);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    assert.ok((metricValue(text, 'schedule_runs_total') ?? 0) >= 2);
    assert.ok((metricValue(text, 'pages_not_modified_total') ?? 0) >= 1);
    assert.notEqual(metricValue(text, 'schedules_overdue_seconds'), undefined);
  });
});
