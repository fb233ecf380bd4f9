import { createHash } from 'node:crypto';
import pg from 'pg';
import { OwlError } from '../../errors.ts';

/** Runs one statement; rows come back typed by the caller. */
export type Query = <R = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

/** bigint columns (epoch ms, ids, counts) as JS numbers: every value the store keeps stays below 2^53. */
const INT8_OID = 20;
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** SQLSTATE classes and codes that mean "the server is not reachable or not accepting work now". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;
/** Node socket errors and pg's own messages for a lost or refused connection. */
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_MESSAGES = /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout|Cannot use a pool after calling end|not queryable|the database system is (starting up|shutting down)/i;
/** Deadlock and serialization failures: the transaction is retried from the start. */
const RETRY_SQLSTATE = new Set(['40P01', '40001']);

export function isUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_NODE_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.test(code)))) return true;
  if (e instanceof AggregateError) return e.errors.some(isUnavailable);
  return UNAVAILABLE_MESSAGES.test(e.message);
}

/** An unreachable server becomes STORE_UNAVAILABLE (retryable, 503); anything else propagates as it is. */
export function translate(e: unknown): unknown {
  if (e instanceof OwlError) return e;
  if (isUnavailable(e)) {
    return new OwlError('STORE_UNAVAILABLE', `PostgreSQL: ${(e as Error).message || (e as { code?: string }).code}`, {}, { cause: e });
  }
  return e;
}

export interface DbOptions {
  /** Behind a transaction pooler session settings do not stick: the timeout is set per transaction. */
  transactionPooler: boolean;
  statementTimeoutMs: number;
}

/**
 * Parameterised statements become named prepared statements on a direct connection: each
 * connection parses and plans the store's big claim/settle statements once instead of on every
 * call. Behind a transaction pooler a prepared statement may not exist on the next server
 * connection, so there every statement stays unnamed.
 */
function queryConfig(sql: string, params: unknown[] | undefined, named: boolean): pg.QueryConfig {
  if (!named || params === undefined) return { text: sql, values: params };
  return { name: `owl_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`, text: sql, values: params };
}

/** A pg pool with error translation and transactions that are retried on deadlock or serialization failure. */
export class Db {
  private closed = false;

  constructor(
    readonly pool: pg.Pool,
    private readonly opts: DbOptions,
  ) {
    // An idle client whose socket dies emits 'error' on the pool; the pool drops it and reconnects on demand.
    pool.on('error', () => {});
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One statement in its own (implicit) transaction. */
  query: Query = async <R,>(sql: string, params?: unknown[]): Promise<R[]> => {
    if (this.closed) throw new OwlError('STORE_UNAVAILABLE', 'The PostgreSQL store is closed');
    try {
      const res = await this.pool.query(queryConfig(sql, params, !this.opts.transactionPooler));
      return res.rows as R[];
    } catch (e) {
      throw translate(e);
    }
  };

  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; rolls back on any error.
   * `asyncCommit` (SET LOCAL synchronous_commit = off) returns from COMMIT before the WAL is flushed:
   * a server crash may then forget the last few hundred milliseconds of such transactions, which for
   * claims and settles only means those URLs are fetched again (at-least-once fetching, a page
   * still recorded once), never an inconsistent frontier.
   * `genericPlans` (SET LOCAL plan_cache_mode = force_generic_plan) plans each named statement once
   * per connection. Left to itself PostgreSQL keeps re-planning the big claim and settle statements
   * for every call (their custom plans look cheaper than the generic one), which cost about a fifth
   * of the server CPU per URL in bench/frontier.ts (about 215 → 165 ms per 1,000 URLs). Their
   * parameters are arrays whose size the planner cannot see anyway, so the generic plan is the same.
   */
  async tx<T>(fn: (q: Query) => Promise<T>, opts: { asyncCommit?: boolean; genericPlans?: boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn, opts.asyncCommit ?? false, opts.genericPlans ?? false);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (attempt < 4 && typeof code === 'string' && RETRY_SQLSTATE.has(code)) continue;
        throw translate(e);
      }
    }
  }

  private async once<T>(fn: (q: Query) => Promise<T>, asyncCommit: boolean, genericPlans: boolean): Promise<T> {
    if (this.closed) throw new OwlError('STORE_UNAVAILABLE', 'The PostgreSQL store is closed');
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors of idle clients only: a connection lost while this transaction
    // holds the client (between two statements) would otherwise be an unhandled 'error' event.
    const onError = (e: Error) => {
      broken = e;
    };
    client.on('error', onError);
    try {
      let begin = 'BEGIN';
      if (this.opts.transactionPooler) begin += `; SET LOCAL statement_timeout = ${this.opts.statementTimeoutMs}`;
      if (asyncCommit) begin += '; SET LOCAL synchronous_commit = off';
      if (genericPlans && !this.opts.transactionPooler) begin += '; SET LOCAL plan_cache_mode = force_generic_plan';
      await client.query(begin);
      const named = !this.opts.transactionPooler;
      const q: Query = async <R,>(sql: string, params?: unknown[]) => (await client.query(queryConfig(sql, params, named))).rows as R[];
      const result = await fn(q);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      if (isUnavailable(e)) broken = e as Error;
      else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
      }
      throw e;
    } finally {
      client.off('error', onError);
      // A client whose connection failed is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** Settings of the frontier's hot transactions (claim, settle, settleAndClaim): see Db.tx. */
export const HOT_TX = { asyncCommit: true, genericPlans: true } as const;
