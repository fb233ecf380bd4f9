import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Store } from './types.ts';

/** The store the configuration selects: PostgreSQL when DATABASE_URL is set, else SQLite under dataDir. */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres/index.ts');
    return openPostgresStore({ url: config.databaseUrl, settleAndClaim: true });
  }
  const { openSqliteStore } = await import('./sqlite/index.ts');
  return openSqliteStore({ path: path.join(config.dataDir, 'owl.db') });
}

/** Where the embedded store lives, for messages. */
export function describeStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl) return `PostgreSQL ${redactUrl(config.databaseUrl)}`;
  return `SQLite ${path.join(config.dataDir, 'owl.db')}`;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
