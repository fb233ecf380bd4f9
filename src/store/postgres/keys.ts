import type { ApiKey, AuditEntry, AuditStore, KeyStore, ListOptions, NewApiKey, Scope, StoredApiKey } from '../types.ts';
import { toKey as keyOf, withoutHash, type KeyRow as StoredKeyRow } from '../key-rows.ts';
import type { Db } from './db.ts';
import { isUuid } from './rows.ts';

type KeyRow = StoredKeyRow<Scope[]>;
const toKey = (row: KeyRow): StoredApiKey => keyOf(row, row.scopes);

const COLUMNS = 'id, name, prefix, hash, scopes, rate, max_running_jobs, max_pages_per_day, created_at, last_used_at, expires_at, revoked_at';

/**
 * Refills the key's bucket for the time elapsed, then takes a token when one is there: one
 * statement, so concurrent requests in several API processes each see the previous one's take.
 */
const TAKE = `
  WITH p AS (SELECT $1::uuid AS key_id, $2::float8 AS rate, $3::float8 AS burst, $4::bigint AS now)
  INSERT INTO key_buckets AS b (key_id, tokens, updated_at, allowed) SELECT key_id, burst - 1, now, true FROM p
  ON CONFLICT (key_id) DO UPDATE SET
    tokens = (SELECT least(p.burst, b.tokens + greatest(0, p.now - b.updated_at) * p.rate / 1000.0)
      - CASE WHEN least(p.burst, b.tokens + greatest(0, p.now - b.updated_at) * p.rate / 1000.0) >= 1 THEN 1 ELSE 0 END FROM p),
    allowed = (SELECT least(p.burst, b.tokens + greatest(0, p.now - b.updated_at) * p.rate / 1000.0) >= 1 FROM p),
    updated_at = (SELECT greatest(b.updated_at, p.now) FROM p)
  RETURNING tokens, allowed`;

export class PgKeys implements KeyStore {
  constructor(private readonly db: Db) {}

  async create(key: NewApiKey, now: number = Date.now()): Promise<ApiKey> {
    const [row] = await this.db.query<KeyRow>(
      `INSERT INTO api_keys (id, name, prefix, hash, scopes, rate, max_running_jobs, max_pages_per_day, created_at, expires_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [key.name, key.prefix, key.hash, key.scopes, key.rate ?? null, key.maxRunningJobs ?? null, key.maxPagesPerDay ?? null, now, key.expiresAt ?? null],
    );
    return withoutHash(toKey(row!));
  }

  async findByHash(hash: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return row && toKey(row);
  }

  async get(id: string): Promise<ApiKey | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return row && withoutHash(toKey(row));
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map((r) => withoutHash(toKey(r)));
  }

  async revoke(id: string, now: number = Date.now()): Promise<ApiKey | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<KeyRow>(`UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING ${COLUMNS}`, [id, now]);
    return row && withoutHash(toKey(row));
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.query('UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $1', [id, now]);
  }

  async usage(id: string, since: number): Promise<{ liveJobs: number; pages: number }> {
    if (!isUuid(id)) return { liveJobs: 0, pages: 0 };
    const [row] = await this.db.query<{ live: number; pages: number }>(
      `SELECT (SELECT count(*)::int FROM jobs WHERE key_id = $1 AND status IN ('queued', 'running')) AS live,
              (SELECT count(*)::int FROM pages p WHERE p.fetched_at >= $2 AND p.job_seq IN
                 (SELECT seq FROM jobs WHERE key_id = $1 AND (finished_at IS NULL OR finished_at >= $2))) AS pages`,
      [id, since],
    );
    return { liveJobs: row!.live, pages: row!.pages };
  }

  async take(id: string, rate: number, burst: number, now: number = Date.now()): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const [row] = await this.db.query<{ tokens: number; allowed: boolean }>(TAKE, [id, rate, burst, now]);
    const { tokens, allowed } = row!;
    return { allowed, retryAfterMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / rate) };
  }
}

export class PgAudit implements AuditStore {
  constructor(private readonly db: Db) {}

  async record(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.db.query('INSERT INTO audit_log (at, key_id, action, target, address) VALUES ($1, $2, $3, $4, $5)', [
      entry.at,
      entry.keyId,
      entry.action,
      entry.target,
      entry.address,
    ]);
  }

  async list(opts: ListOptions): Promise<AuditEntry[]> {
    return this.db.query<AuditEntry>(
      `SELECT id, at, key_id AS "keyId", action, target, address FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
      [opts.after === undefined ? null : Number(opts.after), opts.limit],
    );
  }

  async deleteBefore(cutoff: number): Promise<number> {
    const rows = await this.db.query<{ n: number }>('WITH d AS (DELETE FROM audit_log WHERE at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d', [cutoff]);
    return rows[0]!.n;
  }
}
