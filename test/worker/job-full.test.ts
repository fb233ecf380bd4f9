import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { JobContexts } from '../../src/worker/job-contexts.ts';
import { JOB_DEFAULTS } from './helpers.ts';

async function contextFor() {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const job = await store.jobs.create({ seeds: ['http://a.test/'], source: 'test', options: JOB_DEFAULTS });
  const jobs = new JobContexts(store.jobs);
  return { store, jobs, jobId: job.id, ctx: await jobs.get(job.id) };
}

describe('a job full of offered pages', () => {
  it('is full once its seed and the page links this process offered reach maxPages, and not before', async () => {
    const { store, ctx } = await contextFor();
    assert.equal(JobContexts.full(ctx, 1), true, 'the seed was admitted with the job');
    assert.equal(JobContexts.full(ctx, 3), false);
    JobContexts.counted(ctx, 1);
    assert.equal(JobContexts.full(ctx, 3), false);
    JobContexts.counted(ctx, 1);
    assert.equal(JobContexts.full(ctx, 3), true);
    assert.equal(JobContexts.full(ctx, 4), false);
    await store.close();
  });

  it('is not full again when links offered with a refused outcome are taken back', async () => {
    const { store, jobs, jobId, ctx } = await contextFor();
    for (const url of ['http://a.test/1', 'http://a.test/2', 'http://a.test/3']) assert.equal(JobContexts.firstOffer(ctx, url), true);
    JobContexts.counted(ctx, 3);
    assert.equal(JobContexts.full(ctx, 4), true);
    jobs.withdraw(jobId, ['http://a.test/2']);
    await new Promise((r) => setImmediate(r));
    assert.equal(JobContexts.full(ctx, 4), false, 'one of the three was never admitted');
    assert.equal(JobContexts.firstOffer(ctx, 'http://a.test/2'), true);
    await store.close();
  });

  it('counts from zero again when the offered set starts over (it forgot which links it counted)', async () => {
    const { store, ctx } = await contextFor();
    JobContexts.counted(ctx, 5);
    assert.equal(JobContexts.full(ctx, 5), true);
    ctx.offered.clear();
    assert.equal(JobContexts.full(ctx, 5), false);
    JobContexts.counted(ctx, 4);
    assert.equal(JobContexts.full(ctx, 5), false);
    JobContexts.counted(ctx, 1);
    assert.equal(JobContexts.full(ctx, 5), true);
    await store.close();
  });
});
