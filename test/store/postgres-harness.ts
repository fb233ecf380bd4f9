/**
 * Throw-away schemas on the shared PostgreSQL server (127.0.0.1:5432, user postgres, trust) for
 * store tests: each harness gets `owl_t_<random>` in the database `owl_postgres_test` (created on
 * first use) and drops it afterwards, so parallel test files never meet.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/index.ts';
import type { Store } from '../../src/store/types.ts';

export const PG_ADMIN_URL = process.env.OWL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_TEST_DB = 'owl_postgres_test';

let ensured: Promise<void> | undefined;

/** Creates the test database once per process (tolerating a concurrent creator). */
export function ensureTestDatabase(): Promise<void> {
  ensured ??= (async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_TEST_DB]);
      if (!rowCount) {
        try {
          await admin.query(`CREATE DATABASE ${PG_TEST_DB}`);
        } catch (e) {
          // 42P04 duplicate_database, 23505: another test process created it at the same moment.
          if (!['42P04', '23505'].includes((e as { code?: string }).code ?? '')) throw e;
        }
      }
    } finally {
      await admin.end();
    }
  })();
  return ensured;
}

/** The test database's URL on the given host and port (a test's TCP proxy, or the server itself). */
export function testDatabaseUrl(host = '127.0.0.1', port = 5432): string {
  return `postgres://postgres@${host}:${port}/${PG_TEST_DB}`;
}

export interface TestSchema {
  name: string;
  /** pg pool settings that put every connection into the schema. */
  pool: pg.PoolConfig;
  /** A DSN carrying the schema as a startup option, for child processes (`owl worker`). */
  url: (host?: string, port?: number) => string;
  open: (opts?: Partial<PostgresStoreOptions>) => Store;
  query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
  drop: () => Promise<void>;
}

export async function createTestSchema(): Promise<TestSchema> {
  await ensureTestDatabase();
  const name = `owl_t_${randomBytes(6).toString('hex')}`;
  const options = `-c search_path=${name}`;
  const admin = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2, options });
  admin.on('error', () => {});
  await admin.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    pool: { options },
    url: (host, port) => `${testDatabaseUrl(host, port)}?options=${encodeURIComponent(options)}`,
    open: (opts) => openPostgresStore({ url: testDatabaseUrl(), ...opts, pool: { options, ...opts?.pool } }),
    query: (sql, params) => admin.query(sql, params),
    drop: async () => {
      await admin.query(`DROP SCHEMA ${name} CASCADE`);
      await admin.end();
    },
  };
}
