import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ApiKey, AuditEntry, AuditStore, KeyStore, ListOptions, NewApiKey, Scope, StoredApiKey } from '../types.ts';
import { toKey as keyOf, withoutHash, type KeyRow as StoredKeyRow } from '../key-rows.ts';
import type { SqliteCore } from './core.ts';

type KeyRow = StoredKeyRow<string>;
const toKey = (row: KeyRow): StoredApiKey => keyOf(row, JSON.parse(row.scopes) as Scope[]);

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insert: p(`INSERT INTO api_keys (id, name, prefix, hash, scopes, rate, max_running_jobs, max_pages_per_day, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byHash: p('SELECT * FROM api_keys WHERE hash = ?'),
    byId: p('SELECT * FROM api_keys WHERE id = ?'),
    all: p('SELECT * FROM api_keys ORDER BY created_at, id'),
    revoke: p('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
    touch: p('UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?'),
    record: p('INSERT INTO audit_log (at, key_id, action, target, address) VALUES (?, ?, ?, ?, ?)'),
    auditPage: p('SELECT id, at, key_id AS keyId, action, target, address FROM audit_log WHERE (@after IS NULL OR id < @after) ORDER BY id DESC LIMIT @limit'),
    auditBefore: p('DELETE FROM audit_log WHERE at < ?'),
  };
}

/**
 * API keys of the embedded store. The request buckets live in this process's memory: one process
 * owns a SQLite store (`owl keys` reaches a running `owl serve` through its control socket).
 */
export class SqliteKeys implements KeyStore {
  private statements: ReturnType<typeof prepare> | undefined;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly core: SqliteCore) {}

  /** Prepared on first use: the tables exist only after migrate(). */
  get s(): ReturnType<typeof prepare> {
    this.statements ??= prepare(this.core.db);
    return this.statements;
  }

  create(key: NewApiKey, now: number = Date.now()): Promise<ApiKey> {
    return this.core.run(() => {
      const id = randomUUID();
      this.s.insert.run(id, key.name, key.prefix, key.hash, JSON.stringify(key.scopes), key.rate ?? null, key.maxRunningJobs ?? null, key.maxPagesPerDay ?? null, now, key.expiresAt ?? null);
      return withoutHash(toKey(this.s.byId.get(id) as KeyRow));
    });
  }

  findByHash(hash: string): Promise<StoredApiKey | undefined> {
    return this.core.run(() => {
      const row = this.s.byHash.get(hash) as KeyRow | undefined;
      return row && toKey(row);
    });
  }

  get(id: string): Promise<ApiKey | undefined> {
    return this.core.run(() => {
      const row = this.s.byId.get(id) as KeyRow | undefined;
      return row && withoutHash(toKey(row));
    });
  }

  list(): Promise<ApiKey[]> {
    return this.core.run(() => (this.s.all.all() as KeyRow[]).map((r) => withoutHash(toKey(r))));
  }

  revoke(id: string, now: number = Date.now()): Promise<ApiKey | undefined> {
    return this.core.run(() => {
      this.s.revoke.run(now, id);
      const row = this.s.byId.get(id) as KeyRow | undefined;
      return row && withoutHash(toKey(row));
    });
  }

  touch(id: string, now: number): Promise<void> {
    return this.core.run(() => {
      this.s.touch.run(now, id);
    });
  }

  usage(id: string, since: number): Promise<{ liveJobs: number; pages: number }> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const { s } = this.core;
      return { liveJobs: s.liveJobsOfKey.get(id) as number, pages: s.pagesOfKeySince.get({ key: id, since }) as number };
    });
  }

  take(id: string, rate: number, burst: number, now: number = Date.now()): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const b = this.buckets.get(id) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
    const allowed = tokens >= 1;
    this.buckets.set(id, { tokens: allowed ? tokens - 1 : tokens, at: Math.max(b.at, now) });
    return Promise.resolve({ allowed, retryAfterMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / rate) });
  }
}

export class SqliteAudit implements AuditStore {
  constructor(
    private readonly core: SqliteCore,
    private readonly keys: SqliteKeys,
  ) {}

  record(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    return this.core.run(() => {
      this.keys.s.record.run(entry.at, entry.keyId, entry.action, entry.target, entry.address);
    });
  }

  list(opts: ListOptions): Promise<AuditEntry[]> {
    return this.core.run(() => this.keys.s.auditPage.all({ after: opts.after === undefined ? null : Number(opts.after), limit: opts.limit }) as AuditEntry[]);
  }

  deleteBefore(cutoff: number): Promise<number> {
    return this.core.run(() => this.keys.s.auditBefore.run(cutoff).changes);
  }
}
