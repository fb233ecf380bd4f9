import { entryKindOf, FrontierState as S } from '../frontier-state.ts';
import type { ClaimOptions, FrontierEntry, JobOptions, JobStatus } from '../types.ts';
import type { Db, Query } from './db.ts';
import { LIVE } from './rows.ts';

/** Pages of hosts a claim looks at before giving up when hosts give nothing (not due, other modes). */
const MAX_HOST_PAGES = 8;
/** Fair-share rounds over one page of hosts (a round only repeats for hosts that gave their whole share). */
const MAX_SHARE_ROUNDS = 6;

/**
 * Locks up to `limit` hosts that may give work, oldest waiting entry first. SKIP LOCKED: a host
 * another worker is claiming from (or settling into) right now is left to that worker, so claims
 * never wait and the per-host cap is checked by one claimer at a time.
 */
const LOCK_HOSTS = `
  SELECT host, in_flight, head_id FROM hosts
  WHERE head_id IS NOT NULL AND head_id > $1 AND next_fetch_at <= $2 AND in_flight < $3
  ORDER BY head_id LIMIT $4
  FOR UPDATE SKIP LOCKED`;

/**
 * Leases due entries of the locked hosts in one statement (the graphile-worker pattern: FOR UPDATE
 * SKIP LOCKED … RETURNING): up to `cap` per host, round-robin across hosts (rank within the host
 * first, then the host's age), and updates each host's counter, next fetch time and oldest waiting
 * entry. Candidates are read without locks and only the chosen rows are locked (locking writes to
 * every row it touches); SKIP LOCKED there steps over a row a cancel is dropping right now. It runs after LOCK_HOSTS in the same transaction, so its snapshot sees every lease that
 * a previous holder of those host locks committed.
 */
const LEASE = `
  WITH h AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::int[]) AS h(host, cap, ord)
  ), live AS MATERIALIZED (
    SELECT coalesce(array_agg(j.seq), '{}') AS seqs FROM jobs j WHERE ${LIVE} AND ($5::text[] IS NULL OR j.mode = ANY ($5::text[]))
  ), cand AS (
    SELECT c.id, h.host, h.ord, row_number() OVER (PARTITION BY h.host ORDER BY c.id) AS rank
    FROM h CROSS JOIN LATERAL (
      SELECT f.id FROM frontier f
      WHERE f.host = h.host AND f.state = ${S.waiting} AND f.not_before <= $4 AND f.job_seq = ANY ((SELECT seqs FROM live)::bigint[])
      ORDER BY f.id LIMIT h.cap
    ) c
  ), chosen AS MATERIALIZED (
    SELECT f.id, f.host FROM frontier f
    WHERE f.id IN (SELECT id FROM cand ORDER BY rank, ord LIMIT $6) AND f.state = ${S.waiting}
    ORDER BY f.id
    FOR UPDATE OF f SKIP LOCKED
  ), leased AS (
    UPDATE frontier f SET state = ${S.leased}, lease_token = gen_random_uuid()::text, lease_until = $7, worker_id = $8
    FROM chosen WHERE f.id = chosen.id
    RETURNING f.id, f.job_seq, f.url, f.host, f.depth, f.attempts, f.lease_token, f.kind, f.lastmod
  ), per_host AS (
    SELECT h.host, count(l.id)::int AS n FROM h LEFT JOIN leased l ON l.host = h.host GROUP BY h.host
  ), touched AS (
    UPDATE hosts SET in_flight = hosts.in_flight + p.n,
      next_fetch_at = CASE WHEN p.n > 0 THEN greatest(hosts.next_fetch_at, $9) ELSE hosts.next_fetch_at END,
      head_id = (
        SELECT f.id FROM frontier f JOIN jobs j ON j.seq = f.job_seq
        WHERE f.host = p.host AND f.state = ${S.waiting} AND ${LIVE} AND f.id <> ALL ((SELECT coalesce(array_agg(c.id), '{}') FROM chosen c)::bigint[])
        ORDER BY f.id LIMIT 1)
    FROM per_host p WHERE hosts.host = p.host
  )
  SELECT l.id, l.job_seq, l.url, l.host, l.depth, l.attempts, l.lease_token, l.kind, l.lastmod, j.id AS job_id, j.options,
    j.status AS job_status
  FROM leased l JOIN jobs j ON j.seq = l.job_seq`;

const START_JOBS = `UPDATE jobs SET status = 'running', started_at = coalesce(started_at, $2) WHERE seq = ANY ($1::bigint[]) AND status = 'queued'`;

interface HostRow {
  host: string;
  in_flight: number;
  head_id: number;
}

export interface LeasedRow {
  id: number;
  job_seq: number;
  url: string;
  host: string;
  depth: number;
  attempts: number;
  lease_token: string;
  kind: number;
  lastmod: number | null;
  job_id: string;
  options: JobOptions;
  job_status: JobStatus;
}

/** What a claim transaction needs besides the options: the clock and the lease deadline. */
function claimParams(opts: ClaimOptions, now: number) {
  return {
    leaseUntil: now + opts.leaseMs,
    perHostCap: opts.hostDelayMs > 0 ? 1 : opts.limit,
    nextFetchAt: opts.hostDelayMs > 0 ? now + opts.hostDelayMs : 0,
    modes: opts.modes ?? null,
  };
}

/**
 * The body of a claim transaction: locks hosts (SKIP LOCKED) and leases their due entries. It never
 * waits for a lock, so it may run at the end of a transaction that already holds job and host rows
 * (settleAndClaim) without joining a deadlock.
 */
export async function leaseIn(q: Query, opts: ClaimOptions, now: number): Promise<LeasedRow[]> {
  const out: LeasedRow[] = [];
  if (opts.limit <= 0) return out;
  const { leaseUntil, perHostCap, nextFetchAt, modes } = claimParams(opts, now);
  let afterHead = 0;
  for (let page = 0; page < MAX_HOST_PAGES && out.length < opts.limit; page++) {
    const hosts = await q<HostRow>(LOCK_HOSTS, [afterHead, now, opts.maxPerHost, opts.limit]);
    if (hosts.length === 0) break;
    afterHead = hosts[hosts.length - 1]!.head_id;
    let active = hosts.map((h, ord) => ({ host: h.host, ord, room: Math.min(perHostCap, opts.maxPerHost - h.in_flight) }));
    // Rounds of fair shares (as the SQLite store does): every host still able to give is asked for
    // ceil(want / hosts) entries, so a claim reads about `limit` candidates instead of limit × hosts.
    for (let round = 0; round < MAX_SHARE_ROUNDS && active.length > 0 && out.length < opts.limit; round++) {
      const want = opts.limit - out.length;
      const share = Math.max(1, Math.ceil(want / active.length));
      const caps = active.map((h) => Math.min(share, h.room));
      const leased = await q<LeasedRow>(LEASE, [
        active.map((h) => h.host),
        caps,
        active.map((h) => h.ord),
        now,
        modes,
        want,
        leaseUntil,
        opts.workerId,
        nextFetchAt,
      ]);
      out.push(...leased);
      const got = new Map<string, number>();
      for (const r of leased) got.set(r.host, (got.get(r.host) ?? 0) + 1);
      active = active
        .map((h, i) => ({ ...h, room: h.room - (got.get(h.host) ?? 0), full: (got.get(h.host) ?? 0) === caps[i] }))
        .filter((h) => h.full && h.room > 0)
        .map(({ full: _full, ...h }) => h);
    }
    if (hosts.length < opts.limit) break;
  }
  return out;
}

/**
 * After the claim transaction committed: marks newly started jobs running in a separate statement
 * (the claim transaction itself never touches, or waits for, a job row) and shapes the entries.
 */
export async function toEntries(db: Db, rows: LeasedRow[], opts: ClaimOptions, now: number): Promise<FrontierEntry[]> {
  const { leaseUntil } = claimParams(opts, now);
  const starting = [...new Set(rows.filter((r) => r.job_status === 'queued').map((r) => r.job_seq))];
  if (starting.length > 0) await db.query(START_JOBS, [starting, now]);
  return rows
    .map((r) => ({
      id: r.id,
      jobId: r.job_id,
      url: r.url,
      host: r.host,
      kind: entryKindOf(r.kind),
      depth: r.depth,
      lastmod: r.lastmod,
      attempts: r.attempts,
      leaseToken: r.lease_token,
      leaseUntil,
      job: { options: r.options },
    }))
    .sort((a, b) => a.id - b.id);
}
