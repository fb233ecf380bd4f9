import { FrontierState as S } from '../frontier-state.ts';
import type { Db, Query } from './db.ts';
import { LIVE } from './rows.ts';

/**
 * Ends leases without counting an attempt: the URL waits again (live job) or is dropped (finished or
 * cancelled job); each host's counter drops and its oldest waiting entry is lowered. One statement.
 * Rows another transaction holds (a settle of that very lease) are skipped: that transaction decides.
 */
function requeueSql(where: string): string {
  return `
    WITH gone AS (
      SELECT f.id FROM frontier f WHERE f.state = ${S.leased} AND ${where} ORDER BY f.id FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE frontier f SET state = CASE WHEN ${LIVE} THEN ${S.waiting} ELSE ${S.dropped} END, lease_token = NULL, lease_until = NULL, worker_id = NULL
      FROM gone, jobs j WHERE f.id = gone.id AND j.seq = f.job_seq
      RETURNING f.id, f.host, f.state
    ), touched AS (
      INSERT INTO hosts AS h (host, in_flight, head_id)
      SELECT host, -count(*)::int, min(id) FILTER (WHERE state = ${S.waiting}) FROM moved GROUP BY host ORDER BY host
      ON CONFLICT (host) DO UPDATE SET in_flight = h.in_flight + excluded.in_flight, head_id = least(h.head_id, excluded.head_id)
    )
    SELECT count(*)::int AS n FROM moved`;
}

const REQUEUE_EXPIRED = requeueSql('f.lease_until <= $1');
const RELEASE_WORKER = requeueSql('f.worker_id = $1');

export function requeueLeases(db: Db, which: { expiredAt: number } | { workerId: string }): Promise<number> {
  return requeueIn(db.query, which);
}

/** The same inside a caller's transaction (settleAndClaim runs it between its settle and its claim). */
export async function requeueIn(q: Query, which: { expiredAt: number } | { workerId: string }): Promise<number> {
  const [row] =
    'expiredAt' in which
      ? await q<{ n: number }>(REQUEUE_EXPIRED, [which.expiredAt])
      : await q<{ n: number }>(RELEASE_WORKER, [which.workerId]);
  return row?.n ?? 0;
}

/** Rows are locked in id order, like every other multi-row writer of the frontier, so writers never deadlock on them. */
const EXTEND = `
  UPDATE frontier f SET lease_until = $3
  FROM (
    SELECT f2.id FROM frontier f2 JOIN unnest($1::bigint[], $2::text[]) AS e(id, token) ON f2.id = e.id AND f2.lease_token = e.token
    WHERE f2.state = ${S.leased} ORDER BY f2.id FOR UPDATE OF f2
  ) x WHERE f.id = x.id`;

export async function extendLeases(db: Db, entries: { id: number; leaseToken: string }[], until: number): Promise<void> {
  if (entries.length === 0) return;
  await db.query(EXTEND, [entries.map((e) => e.id), entries.map((e) => e.leaseToken), until]);
}
