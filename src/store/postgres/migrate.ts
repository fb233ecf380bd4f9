import { OwlError } from '../../errors.ts';
import { loadMigrations as loadFrom, migrationsDir, type Migration } from '../migration-files.ts';
import type { Db } from './db.ts';

export type { Migration } from '../migration-files.ts';

const MIGRATIONS_DIR = migrationsDir(import.meta.url, 'postgres');

/** The PostgreSQL migrations (`migrations/NNN-name.sql`). */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return loadFrom(dir);
}

/**
 * Applies pending migrations, each in its own transaction that first takes a transaction-scoped
 * advisory lock (released at COMMIT, so it also works through a transaction pooler, unlike a
 * session lock): concurrent starters wait for each other and apply each step once. Refuses with
 * SCHEMA_TOO_NEW when the database records a version this program does not know.
 */
export async function runMigrations(db: Db, migrations: Migration[] = loadMigrations(), now: number = Date.now()): Promise<{ applied: number[]; version: number }> {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const applied: number[] = [];
  const steps: (Migration | null)[] = migrations.length === 0 ? [null] : migrations;
  for (const m of steps) {
    const done = await db.tx(async (q) => {
      // The key is per schema, so stores in different schemas of one database migrate independently.
      await q(`SELECT pg_advisory_xact_lock(hashtext('sparkling-owl-spin:migrate:' || current_schema()))`);
      await q('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
      const rows = await q<{ version: number }>('SELECT version FROM schema_migrations');
      const present = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...present);
      if (newest > latest) {
        throw new OwlError('SCHEMA_TOO_NEW', `The database schema is at version ${newest}; this program knows up to ${latest}`, {
          databaseVersion: newest,
          codeVersion: latest,
        });
      }
      if (!m || present.has(m.version)) return false;
      await q(m.sql);
      await q('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
      return true;
    });
    if (done && m) applied.push(m.version);
  }
  return { applied, version: latest };
}
