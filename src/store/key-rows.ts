/** api_keys rows as both stores read them; only how `scopes` is held differs (JSON text in SQLite, text[] in PostgreSQL). */
import type { ApiKey, Scope, StoredApiKey } from './types.ts';

export interface KeyRow<Scopes> {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: Scopes;
  rate: number | null;
  max_running_jobs: number | null;
  max_pages_per_day: number | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** The key of a row whose scopes the store has decoded. */
export function toKey(row: KeyRow<unknown>, scopes: Scope[]): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes,
    prefix: row.prefix,
    hash: row.hash,
    rate: row.rate,
    maxRunningJobs: row.max_running_jobs,
    maxPagesPerDay: row.max_pages_per_day,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

export function withoutHash(key: StoredApiKey): ApiKey {
  const { hash: _hash, ...rest } = key;
  return rest;
}
