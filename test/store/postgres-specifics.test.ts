/** PostgreSQL store behaviour beyond the shared contract: many handles, migrations racing, outages, DSNs. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isOwlError } from '../../src/errors.ts';
import { parsePostgresUrl } from '../../src/store/postgres/dsn.ts';
import { openPostgresStore, poolConfigFor } from '../../src/store/postgres/index.ts';
import { loadMigrations } from '../../src/store/postgres/migrate.ts';
import type { FrontierEntry, JobOptions, Outcome, Store } from '../../src/store/types.ts';
import { startTcpProxy } from '../scale/tcp-proxy.ts';
import { createTestSchema, testDatabaseUrl } from './postgres-harness.ts';
import { FrontierState } from '../../src/store/frontier-state.ts';
import { claim, settle } from './frontier-calls.ts';

const T0 = 1_700_000_000_000;
const options: JobOptions = { maxPages: 10_000, maxDepth: 10, scope: 'host', mode: 'http', respectRobots: false, allowPrivate: true };

function done(entry: FrontierEntry): Outcome {
  return {
    kind: 'done',
    entry,
    discovered: [],
    page: { url: entry.url, finalUrl: entry.url, statusCode: 200, title: null, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 0, depth: entry.depth, fetchedAt: T0, contentHash: null, lastmod: null, content: null },
  };
}

describe('postgres store: several processes on one database', () => {
  it('six handles claiming at once never hold more than maxPerHost leases of a host, and every URL is leased once', async () => {
    const schema = await createTestSchema();
    const handles: Store[] = Array.from({ length: 6 }, () => schema.open({ poolSize: 2 }));
    try {
      await handles[0]!.migrate();
      const seeds = Array.from({ length: 600 }, (_, i) => `http://h${i % 3}.test/${i}`);
      const job = await handles[0]!.jobs.create({ seeds, options, source: 'test' }, T0);
      const maxPerHost = 5;
      const leasedBy = new Map<number, string>();
      let settledCount = 0;
      for (let round = 0; round < 400 && settledCount < seeds.length; round++) {
        const batches = await Promise.all(
          handles.map((s, i) => claim(s, { workerId: `w${i}`, limit: 8, leaseMs: 60_000, maxPerHost, hostDelayMs: 0, now: T0 + round })),
        );
        const { rows } = await schema.query(`SELECT host, count(*)::int AS n FROM frontier WHERE state = ${FrontierState.leased} GROUP BY host`);
        for (const r of rows as { host: string; n: number }[]) assert.ok(r.n <= maxPerHost, `host ${r.host} has ${r.n} leases (cap ${maxPerHost})`);
        const all = batches.flat();
        for (const [i, batch] of batches.entries()) {
          for (const e of batch) {
            assert.ok(!leasedBy.has(e.id), `entry ${e.id} leased twice (w${i} and ${leasedBy.get(e.id)})`);
            leasedBy.set(e.id, `w${i}`);
          }
        }
        // settle half of what is out, from the handle that claimed it, so caps free up while others claim
        await Promise.all(batches.map((batch, i) => (batch.length ? settle(handles[i]!, batch.slice(0, Math.ceil(batch.length / 2)).map(done), T0 + round) : null)));
        settledCount += batches.reduce((n, b) => n + Math.ceil(b.length / 2), 0);
        const rest = batches.map((b) => b.slice(Math.ceil(b.length / 2)));
        await Promise.all(rest.map((batch, i) => (batch.length ? settle(handles[i]!, batch.map(done), T0 + round) : null)));
        settledCount += rest.reduce((n, b) => n + b.length, 0);
        assert.ok(all.length <= 6 * 8);
      }
      const end = await handles[3]!.jobs.get(job.id);
      assert.equal(end?.status, 'done');
      assert.deepEqual(end?.counts, { admitted: 600, queued: 0, inFlight: 0, fetched: 600, failed: 0, sitemaps: 0 });
      assert.equal(leasedBy.size, 600);
      const { rows } = await schema.query('SELECT count(*)::int AS n, count(DISTINCT url)::int AS d FROM pages');
      assert.deepEqual(rows[0], { n: 600, d: 600 });
      const hosts = await schema.query('SELECT sum(in_flight)::int AS n FROM hosts');
      assert.equal(hosts.rows[0].n, 0, 'host counters return to zero');
    } finally {
      for (const h of handles) await h.close();
      await schema.drop();
    }
  });

  it('four processes migrating one empty schema at once apply each migration exactly once', async () => {
    const schema = await createTestSchema();
    const handles = Array.from({ length: 4 }, () => schema.open({ poolSize: 1 }));
    try {
      const results = await Promise.all(handles.map((h) => h.migrate()));
      const all = results.flatMap((r) => r.applied).sort();
      assert.deepEqual(all, loadMigrations().map((m) => m.version));
      const { rows } = await schema.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0].n, loadMigrations().length);
    } finally {
      for (const h of handles) await h.close();
      await schema.drop();
    }
  });
});

describe('postgres store: outage', () => {
  it('fails fast with STORE_UNAVAILABLE while the server is unreachable and recovers by itself', async () => {
    const schema = await createTestSchema();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const store = openPostgresStore({ url: testDatabaseUrl('127.0.0.1', proxy.port), poolSize: 3, connectTimeoutMs: 2000, pool: schema.pool });
    try {
      await store.migrate();
      const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options, source: 'test' }, T0);
      assert.ok(proxy.open > 0, 'the pool keeps connections through the proxy');
      proxy.cut();
      await assert.rejects(store.ping(), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
      await assert.rejects(claim(store, { workerId: 'w', limit: 5, leaseMs: 1000, maxPerHost: 5, hostDelayMs: 0, now: T0 }), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
      await assert.rejects(store.jobs.get(job.id), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
      await assert.rejects(store.stats(), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
      proxy.restore();
      await store.ping();
      const entries = await claim(store, { workerId: 'w', limit: 5, leaseMs: 1000, maxPerHost: 5, hostDelayMs: 0, now: T0 });
      assert.equal(entries.length, 2);
      const res = await settle(store, entries.map(done), T0 + 1);
      assert.equal(res.finishedJobs.length, 1);
    } finally {
      await store.close();
      await proxy.close();
      await schema.drop();
    }
    await assert.rejects(store.ping(), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'), 'a closed store is unavailable');
  });
});

describe('parsePostgresUrl', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'owl-dsn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = path.join(dir, 'root.crt');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

  it('reads host, port, database, user and a percent-encoded password', () => {
    const c = parsePostgresUrl('postgres://owl:p%40ss%2Fw@db.example.com:5433/owl?application_name=owl-worker');
    assert.equal(c.host, 'db.example.com');
    assert.equal(c.port, 5433);
    assert.equal(c.database, 'owl');
    assert.equal(c.user, 'owl');
    assert.equal(c.password, 'p@ss/w');
    assert.equal(c.application_name, 'owl-worker');
    assert.equal(c.ssl, false);
    assert.equal(c.transactionPooler, false);
    assert.equal(parsePostgresUrl('postgresql://localhost/owl').port, 5432);
  });

  it('maps sslmode like libpq', () => {
    assert.equal(parsePostgresUrl('postgres://h/db?sslmode=disable').ssl, false);
    assert.equal(parsePostgresUrl('postgres://h/db?sslmode=allow').ssl, false);
    assert.equal(parsePostgresUrl('postgres://h/db?sslmode=prefer').ssl, false);
    assert.deepEqual(parsePostgresUrl('postgres://h/db?sslmode=require').ssl, { rejectUnauthorized: false });

    const requireWithRoot = parsePostgresUrl(`postgres://h/db?sslmode=require&sslrootcert=${ca}`).ssl as Record<string, unknown>;
    assert.equal(requireWithRoot.rejectUnauthorized, true, 'require with a root certificate verifies the chain (libpq)');
    assert.equal(typeof requireWithRoot.checkServerIdentity, 'function');

    const verifyCa = parsePostgresUrl(`postgres://h/db?sslmode=verify-ca&sslrootcert=${ca}`).ssl as Record<string, unknown>;
    assert.equal(verifyCa.rejectUnauthorized, true);
    assert.match(String(verifyCa.ca), /BEGIN CERTIFICATE/);
    assert.equal((verifyCa.checkServerIdentity as () => unknown)(), undefined, 'verify-ca does not check the host name');

    const verifyFull = parsePostgresUrl(`postgres://h/db?sslmode=verify-full&sslrootcert=${ca}`).ssl as Record<string, unknown>;
    assert.equal(verifyFull.rejectUnauthorized, true);
    assert.match(String(verifyFull.ca), /BEGIN CERTIFICATE/);
    assert.equal(verifyFull.checkServerIdentity, undefined, 'verify-full keeps the host-name check');

    const system = parsePostgresUrl('postgres://h/db?sslmode=verify-full&sslrootcert=system').ssl as Record<string, unknown>;
    assert.deepEqual(system, { rejectUnauthorized: true });
  });

  it('recognises a transaction pooler by port 6543, pgbouncer=true or pool_mode=transaction', () => {
    const supabase = parsePostgresUrl('postgres://postgres.abcd:secret@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require');
    assert.equal(supabase.transactionPooler, true);
    assert.deepEqual(supabase.ssl, { rejectUnauthorized: false });
    assert.equal(parsePostgresUrl('postgres://h:6432/db?pgbouncer=true').transactionPooler, true);
    assert.equal(parsePostgresUrl('postgres://h:6432/db?pool_mode=transaction').transactionPooler, true);
    assert.equal(parsePostgresUrl('postgres://h:6543/db?pool_mode=session').transactionPooler, false);
    assert.equal(parsePostgresUrl('postgres://h:5432/db').transactionPooler, false);
  });

  it('rejects what it cannot honour with CONFIG_INVALID, without echoing the password', () => {
    const bad = (dsn: string, re: RegExp) =>
      assert.throws(() => parsePostgresUrl(dsn), (e: unknown) => isOwlError(e, 'CONFIG_INVALID') && re.test(e.message) && !JSON.stringify(e.details).includes('hunter2'));
    bad('postgres://u:hunter2@h/db?sslmode=required', /sslmode=required/);
    bad('mysql://u:hunter2@h/db', /scheme/);
    bad('not a url', /not a URL/);
    bad('postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=/nonexistent/root.crt', /cannot read sslrootcert/);
    bad('postgres://u:hunter2@h/db?sslcompression=1', /unknown parameter sslcompression/);
    bad('postgres://u:hunter2@h:6543/db?options=-c%20search_path%3Dx', /transaction pooler/);
  });

  it('the store uses no startup statement_timeout behind a pooler (it would be refused)', () => {
    const direct = poolConfigFor({ url: 'postgres://u@127.0.0.1:1/db' });
    const pooled = poolConfigFor({ url: 'postgres://u@127.0.0.1:6543/db' });
    assert.equal(direct.config.statement_timeout, 30_000);
    assert.equal(pooled.transactionPooler, true);
    assert.equal(pooled.config.statement_timeout, undefined);
    assert.equal(pooled.config.query_timeout, 35_000);
  });
});
