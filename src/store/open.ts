import path from 'node:path';
import type { Config } from '../config/schema.ts';
import { redactUrl } from '../redact.ts';
import type { Store } from './types.ts';

export interface StoreEvents {
  /** The embedded store's group commit failed (it is retried with backoff): log and count it. */
  onCommitFailure?: (err: unknown) => void;
}

/** The store the configuration selects: PostgreSQL when DATABASE_URL is set, else SQLite under dataDir. */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>, events: StoreEvents = {}): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres/index.ts');
    return openPostgresStore({ url: config.databaseUrl });
  }
  const { openSqliteStore } = await import('./sqlite/index.ts');
  return openSqliteStore({ path: path.join(config.dataDir, 'owl.db'), onCommitFailure: events.onCommitFailure });
}

/** Where the embedded store lives, for messages. */
export function describeStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl) return `PostgreSQL ${redactUrl(config.databaseUrl)}`;
  return `SQLite ${path.join(config.dataDir, 'owl.db')}`;
}
