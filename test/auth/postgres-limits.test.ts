/**
 * A key's limits hold across several API processes on one PostgreSQL database, not per process:
 * two `owl serve` processes share the key's token bucket and its count of unfinished jobs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey } from '../../src/auth/key-service.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { startApi, type OwlProcess } from '../scale/processes.ts';

describe('limits across two API processes on PostgreSQL', () => {
  let schema: TestSchema;
  let store: Store;
  let apis: OwlProcess[] = [];
  before(async () => {
    schema = await createTestSchema();
    store = schema.open();
    await store.migrate();
    const env = { DATABASE_URL: schema.url(), OWL_AUTH: 'required', OWL_IN_PROCESS_WORKERS: 'false', OWL_LOG_LEVEL: 'warn' };
    apis = await Promise.all([startApi(env), startApi(env)]);
  });
  after(async () => {
    await Promise.all(apis.map((p) => p.stop()));
    await store?.close();
    await schema?.drop();
  });

  const call = (i: number, key: string, method = 'GET', path = '/jobs', body?: unknown) =>
    fetch(`${apis[i % 2]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('one token bucket: requests alternating between the processes get the key\'s rate, not twice it', async () => {
    const rate = 0.1; // one request per 10 s, burst 1
    const { key } = await createApiKey(store, { name: 'slow', scopes: ['jobs:read'], rate }, { keyId: null, address: 'local' });
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(i, key)).status);
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = statuses.filter((s) => s === 200).length;
    // The bucket starts full (1) and refills at `rate`: a limiter per process would allow at least 2.
    assert.ok(allowed >= 1 && allowed <= 1 + Math.floor(elapsedS * rate), `allowed ${allowed} of 10 in ${elapsedS.toFixed(1)} s: ${statuses.join(' ')}\n${apis[0]!.output.slice(-5).join('\n')}`);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);
    const limited = await call(0, key);
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });

  it('maxRunningJobs: concurrent job submissions to both processes create exactly the limit', async () => {
    const { key, id } = await createApiKey(store, { name: 'capped', scopes: ['jobs:read', 'jobs:write'], maxRunningJobs: 3 }, { keyId: null, address: 'local' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i, key, 'POST', '/jobs', { seeds: [`https://site-${i}.example/`] })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 3, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 9, statuses.join(' '));
    const refused = (await results.find((r) => r.status === 429)!.json()) as { error: { code: string; message: string } };
    assert.equal(refused.error.code, 'QUOTA_EXCEEDED');
    assert.match(refused.error.message, /maxRunningJobs/);
    assert.equal((await store.jobs.list({ limit: 100, keyId: id })).length, 3);
  });
});
