/**
 * The verified-key cache over real keep-alive connections, on both stores: a connection's next
 * requests with its key skip the hash (src/auth/hook.ts), yet a revocation made in another API
 * process is honoured within KEY_CACHE_MS, one made through this process at once, an expiry
 * exactly, and any other key presented on that connection is checked on its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app.ts';
import { KEY_CACHE_MS } from '../../src/auth/hook.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { createApiMetrics } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Job, Store } from '../../src/store/types.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { addKey, T0, testClock } from './helpers.ts';

interface Answer {
  status: number;
  body: string;
  /** The client's port: the same port means the same connection. */
  port: number;
}

/** Two handles on one store: `api`, which the app uses, and `elsewhere`, standing for another API process. */
interface Stores {
  api: Store;
  elsewhere: Store;
  close: () => Promise<void>;
}

async function sqliteStores(): Promise<Stores> {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  // One process owns a SQLite store: another process's writes reach this one through the same rows.
  return { api: store, elsewhere: store, close: () => store.close() };
}

async function postgresStores(): Promise<Stores> {
  const schema: TestSchema = await createTestSchema();
  const api = schema.open();
  await api.migrate();
  const elsewhere = schema.open();
  return {
    api,
    elsewhere,
    close: async () => {
      await api.close();
      await elsewhere.close();
      await schema.drop();
    },
  };
}

for (const [backend, open] of [['sqlite', sqliteStores], ['postgres', postgresStores]] as const) {
  describe(`verified keys on one keep-alive connection (${backend})`, () => {
    let stores: Stores;
    let app: FastifyInstance;
    let base: string;
    let agent: http.Agent;
    const clock = testClock();

    before(async () => {
      stores = await open();
      const registry = new Registry();
      app = await buildApp({ store: stores.api, registry, metrics: createApiMetrics(registry), config: DEFAULTS, auth: { mode: 'required' }, clock: clock.now });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      // One socket, kept open: every request of a test after the first reuses the connection.
      agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    });
    after(async () => {
      agent?.destroy();
      await app?.close();
      await stores?.close();
    });

    /** A request on the kept-alive connection, or on a connection of its own with `via` false. */
    function call(method: string, path: string, key: string | null, via: http.Agent | false = agent): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const req = http.request(`${base}${path}`, { method, agent: via, headers: key === null ? {} : { authorization: `Bearer ${key}` } }, (res) => {
          const port = res.socket.localPort!;
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode!, body, port }));
        });
        req.on('error', reject).end();
      });
    }

    /** Calls on one connection; fails when the connection changed (the test would prove nothing). */
    async function onOneConnection(calls: (() => Promise<Answer>)[]): Promise<Answer[]> {
      const answers: Answer[] = [];
      for (const c of calls) answers.push(await c());
      assert.equal(new Set(answers.map((a) => a.port)).size, 1, 'the requests shared one connection');
      return answers;
    }

    it('a revocation made in another API process is honoured within KEY_CACHE_MS on a connection that used the key', async () => {
      clock.set(T0);
      const k = await addKey(stores.api, 'revoked-elsewhere', ['jobs:read'], {}, T0);
      const read = () => call('GET', '/jobs', k.key);
      const [first, cached] = await onOneConnection([
        read,
        async () => {
          await stores.elsewhere.keys.revoke(k.id, T0);
          clock.advance(KEY_CACHE_MS - 1);
          return read();
        },
      ]);
      assert.equal(first!.status, 200, first!.body);
      assert.equal(cached!.status, 200, 'trusted for less than KEY_CACHE_MS');
      clock.advance(1);
      const [refused] = await onOneConnection([read, read]);
      assert.equal(refused!.status, 401);
      assert.match(refused!.body, /revoked/);
    });

    it('a revocation through this process (DELETE /keys/:id on another connection) is honoured on the very next request of the connection', async () => {
      clock.set(T0);
      const admin = await addKey(stores.api, 'admin', ['admin'], {}, T0);
      const k = await addKey(stores.api, 'revoked-here', ['jobs:read'], {}, T0);
      const read = () => call('GET', '/jobs', k.key);
      const [before, after] = await onOneConnection([
        read,
        async () => {
          const revoke = await call('DELETE', `/keys/${k.id}`, admin.key, false);
          assert.equal(revoke.status, 200, revoke.body);
          return read();
        },
      ]);
      assert.equal(before!.status, 200);
      assert.equal(after!.status, 401);
      assert.match(after!.body, /revoked/);
    });

    it('an expiry takes effect at its instant, cached or not', async () => {
      clock.set(T0);
      const k = await addKey(stores.api, 'expiring', ['jobs:read'], { expiresAt: T0 + 100 }, T0);
      const read = () => call('GET', '/jobs', k.key);
      const [before, after] = await onOneConnection([
        read,
        () => {
          clock.advance(100);
          return read();
        },
      ]);
      assert.equal(before!.status, 200);
      assert.equal(after!.status, 401);
      assert.match(after!.body, /expired/);
    });

    it('another key on the same connection is checked on its own: none or an unknown one is refused, a real one sees only its own jobs', async () => {
      clock.set(T0);
      const writer = await addKey(stores.api, 'writer', ['jobs:read', 'jobs:write'], {}, T0);
      const other = await addKey(stores.api, 'other', ['jobs:read'], {}, T0);
      const job = (await stores.api.jobs.create({
        keyId: writer.id,
        seeds: ['https://cache.example/'],
        source: 'test',
        options: { maxPages: 1, maxDepth: 0, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false },
      })) as Job;
      // The unknown key differs from the writer's in its last character only.
      const last = writer.key.at(-1) === 'A' ? 'B' : 'A';
      const unknown = writer.key.slice(0, -1) + last;
      const answers = await onOneConnection([
        () => call('GET', `/jobs/${job.id}`, writer.key),
        () => call('GET', `/jobs/${job.id}`, unknown),
        () => call('GET', `/jobs/${job.id}`, null),
        () => call('GET', `/jobs/${job.id}`, other.key),
        () => call('GET', `/jobs/${job.id}`, writer.key),
      ]);
      assert.deepEqual(answers.map((a) => a.status), [200, 401, 401, 404, 200]);
      assert.match(answers[3]!.body, /JOB_NOT_FOUND/);
    });
  });
}
