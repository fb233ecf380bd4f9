import type Database from 'better-sqlite3';
import { OwlError } from '../../errors.ts';
import { loadMigrations as loadFrom, migrationsDir, type Migration } from '../migration-files.ts';

const MIGRATIONS_DIR = migrationsDir(import.meta.url, 'sqlite');

/** The SQLite migrations (`migrations/NNN-name.sql`), each applied in its own transaction. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return loadFrom(dir);
}

/** Applies pending migrations; refuses (SCHEMA_TOO_NEW) a database migrated by a newer program. */
export function runMigrations(db: Database.Database, migrations: Migration[] = loadMigrations(), now: number = Date.now()): { applied: number[]; version: number } {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const appliedVersions = db.prepare('SELECT version FROM schema_migrations').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  const applied: number[] = [];
  const check = (): Set<number> => {
    const present = new Set(appliedVersions.all() as number[]);
    const newest = Math.max(0, ...present);
    if (newest > latest) {
      throw new OwlError('SCHEMA_TOO_NEW', `The database schema is at version ${newest}; this program knows up to ${latest}`, {
        databaseVersion: newest,
        codeVersion: latest,
      });
    }
    return present;
  };
  check();
  for (const m of migrations) {
    // Re-checked inside the write transaction so two processes migrating at once apply each step once.
    const step = db.transaction(() => {
      if (check().has(m.version)) return false;
      db.exec(m.sql);
      record.run(m.version, now);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return { applied, version: latest };
}
