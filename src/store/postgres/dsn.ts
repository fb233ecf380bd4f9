import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { OwlError } from '../../errors.ts';
import { redactUrl } from '../../redact.ts';

/** libpq's sslmode values. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The pg pool settings a DSN describes, plus what the store must know about the server in between. */
export type PostgresUrlConfig = pg.PoolConfig & {
  /**
   * True behind a transaction pooler (PgBouncer/Supavisor in transaction mode: port 6543,
   * `pgbouncer=true` or `pool_mode=transaction`): no session state may be relied on, so the
   * store sends no startup `statement_timeout` and uses only transaction-scoped locks and SET LOCAL.
   */
  transactionPooler: boolean;
  sslmode: SslMode;
};

/** Ports on which hosted poolers run in transaction mode (Supabase's Supavisor). */
const TRANSACTION_POOLER_PORTS = new Set([6543]);

function invalid(message: string, dsn: string): OwlError {
  return new OwlError('CONFIG_INVALID', `DATABASE_URL: ${message}`, { setting: 'DATABASE_URL', value: redactUrl(dsn) });
}

function readPem(file: string, what: string, dsn: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(`cannot read ${what} ${file}: ${(e as Error).message}`, dsn);
  }
}

/**
 * Parses a libpq-style URL (`postgres://user:pass@host:port/db?sslmode=require&application_name=owl`)
 * into pg pool settings. TLS follows libpq's sslmode:
 * - `disable` — no TLS. `allow` and `prefer` — no TLS either: pg cannot fall back between TLS and
 *   plain connections the way libpq does, and a fallback would hide the downgrade anyway. Ask for
 *   `require` or stronger when the link must be encrypted.
 * - `require` — encrypted, certificate not verified (libpq verifies the chain when `sslrootcert` is given: so do we).
 * - `verify-ca` — chain verified against `sslrootcert` (or the system CAs), host name not checked.
 * - `verify-full` — chain and host name verified.
 * `sslrootcert=system` uses Node's bundled CAs; `sslcert`/`sslkey` give a client certificate.
 * A `host` query parameter (a socket folder or a host name) overrides the URL's host.
 */
export function parsePostgresUrl(dsn: string): PostgresUrlConfig {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw invalid('not a URL (expected postgres://user:password@host:port/database)', dsn);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalid(`scheme ${url.protocol} is not postgres: or postgresql:`, dsn);
  }
  const q = url.searchParams;
  const known = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'pgbouncer', 'pool_mode', 'connect_timeout', 'host', 'options']);
  for (const key of q.keys()) {
    if (!known.has(key)) throw invalid(`unknown parameter ${key} (known: ${[...known].join(', ')})`, dsn);
  }
  const host = q.get('host') ?? (decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')) || 'localhost');
  const port = url.port ? Number(url.port) : 5432;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
  const sslmodeRaw = q.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(sslmodeRaw)) {
    throw invalid(`sslmode=${sslmodeRaw} is not one of ${SSL_MODES.join(', ')}`, dsn);
  }
  const sslmode = sslmodeRaw as SslMode;
  const poolMode = q.get('pool_mode');
  if (poolMode !== null && !['transaction', 'session', 'statement'].includes(poolMode)) {
    throw invalid(`pool_mode=${poolMode} is not transaction, session or statement`, dsn);
  }
  const transactionPooler = q.get('pgbouncer') === 'true' || poolMode === 'transaction' || (poolMode === null && TRANSACTION_POOLER_PORTS.has(port));

  const config: PostgresUrlConfig = {
    host,
    port,
    database,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    ssl: sslOptions(sslmode, q, dsn),
    transactionPooler,
    sslmode,
  };
  const appName = q.get('application_name');
  if (appName) config.application_name = appName;
  const connectTimeout = q.get('connect_timeout');
  if (connectTimeout !== null) {
    const seconds = Number(connectTimeout);
    if (!Number.isFinite(seconds) || seconds < 0) throw invalid(`connect_timeout=${connectTimeout} is not a number of seconds`, dsn);
    // libpq treats 0 as "wait forever"; so does pg.
    config.connectionTimeoutMillis = seconds * 1000;
  }
  const options = q.get('options');
  if (options) {
    if (transactionPooler) throw invalid('options= (startup parameters) are not passed through a transaction pooler', dsn);
    config.options = options;
  }
  return config;
}

function sslOptions(mode: SslMode, q: URLSearchParams, dsn: string): false | ConnectionOptions {
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const rootCert = q.get('sslrootcert');
  const tls: ConnectionOptions = {};
  if (rootCert && rootCert !== 'system') tls.ca = readPem(rootCert, 'sslrootcert', dsn);
  const cert = q.get('sslcert');
  const key = q.get('sslkey');
  if (cert) tls.cert = readPem(cert, 'sslcert', dsn);
  if (key) tls.key = readPem(key, 'sslkey', dsn);
  if (mode === 'require' && !rootCert) {
    tls.rejectUnauthorized = false;
    return tls;
  }
  tls.rejectUnauthorized = true;
  // verify-full keeps Node's host-name check (pg passes the host, and SNI for names); verify-ca
  // (or require with a root certificate) verifies the chain only, so the name may differ.
  if (mode !== 'verify-full') tls.checkServerIdentity = () => undefined;
  return tls;
}
