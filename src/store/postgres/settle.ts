import { FrontierKind as K, FrontierState as S } from '../frontier-state.ts';
import { MAX_SITEMAP_NESTING, MAX_SITEMAPS_PER_JOB, type DiscoveredUrl, type FinishedJob, type Outcome, type PageRecord, type SettleResult } from '../types.ts';
import type { Query } from './db.ts';
import { isLive, isUuid } from './rows.ts';
import { publishJobEnds } from './webhooks.ts';

/**
 * Locks the jobs of a batch in seq order. Holding them serialises every settle (and cancel) of a
 * job, which makes the admission cap, de-duplication and the "finished" decision exact.
 */
const LOCK_JOBS = `
  SELECT seq, id, status, admitted, max_pages, max_depth FROM jobs
  WHERE id = ANY ($1::uuid[]) ORDER BY seq FOR UPDATE`;

/**
 * One statement for the whole batch: ends the leases whose token matches (rows locked in id order),
 * records pages of final outcomes, and admits discovered links of accepted `done` outcomes —
 * de-duplicated per job against the frontier and within the batch, in discovery order, up to each
 * job's room under maxPages.
 */
const APPLY = `
  WITH o AS (
    SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::smallint[], $5::bigint[], $6::text[])
      AS o(ord, id, token, new_state, not_before, last_error)
  ), locked AS (
    SELECT f.id FROM frontier f JOIN o ON o.id = f.id AND f.lease_token = o.token
    WHERE f.state = ${S.leased} ORDER BY f.id FOR UPDATE OF f
  ), upd AS (
    UPDATE frontier f SET state = o.new_state,
      attempts = f.attempts + CASE WHEN o.new_state = ${S.done} THEN 0 ELSE 1 END,
      not_before = CASE WHEN o.new_state = ${S.done} OR o.new_state = ${S.failed} THEN f.not_before ELSE o.not_before END,
      last_error = coalesce(o.last_error, f.last_error),
      lease_token = NULL, lease_until = NULL, worker_id = NULL
    FROM o JOIN locked ON locked.id = o.id WHERE f.id = o.id
    RETURNING o.ord, f.id, f.job_seq, f.host, f.state, f.kind
  ), pg AS (
    INSERT INTO pages (job_seq, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth, fetched_at,
      content_hash, lastmod, content, change, previous_page_id, revisit)
    SELECT u.job_seq, p.url, p.final_url, p.status_code, p.title, p.bytes, p.fetch_ms, p.error_code, p.content_type, p.mode,
      p.links_found, p.depth, p.fetched_at, p.content_hash, p.lastmod, p.content, p.change, p.previous_page_id, p.revisit::json
    FROM unnest($7::int[], $8::text[], $9::text[], $10::int[], $11::text[], $12::bigint[], $13::int[], $14::text[], $15::text[],
      $16::text[], $17::int[], $18::int[], $19::bigint[], $27::text[], $28::bigint[], $29::bytea[], $33::text[], $34::bigint[], $35::text[])
      AS p(ord, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth, fetched_at,
        content_hash, lastmod, content, change, previous_page_id, revisit)
    JOIN upd u ON u.ord = p.ord
    ORDER BY p.ord
  ), l AS (
    SELECT * FROM unnest($20::int[], $21::bigint[], $22::text[], $23::text[], $24::int[], $30::smallint[], $31::bigint[])
      WITH ORDINALITY AS l(ord, job_seq, url, host, depth, kind, lastmod, n)
  ), accepted_links AS (
    SELECT DISTINCT ON (l.job_seq, l.url) l.* FROM l JOIN upd u ON u.ord = l.ord ORDER BY l.job_seq, l.url, l.n
  ), fresh AS (
    SELECT a.*, row_number() OVER (PARTITION BY a.job_seq, a.kind ORDER BY a.n) AS k FROM accepted_links a
    WHERE NOT EXISTS (SELECT 1 FROM frontier f WHERE f.job_seq = a.job_seq AND f.url_hash = decode(md5(a.url), 'hex'))
  ), ins AS (
    INSERT INTO frontier (job_seq, url, host, depth, kind, lastmod)
    SELECT fr.job_seq, fr.url, fr.host, fr.depth, fr.kind, fr.lastmod
    FROM fresh fr JOIN unnest($25::bigint[], $26::int[], $32::int[]) AS r(job_seq, room, sitemap_room) ON r.job_seq = fr.job_seq
    WHERE fr.k <= CASE WHEN fr.kind = ${K.sitemap} THEN r.sitemap_room ELSE r.room END ORDER BY fr.n
    ON CONFLICT DO NOTHING
    RETURNING id, job_seq, host, kind
  )
  SELECT 'u' AS t, ord, id, job_seq, host, state, kind FROM upd
  UNION ALL SELECT 'i', NULL, id, job_seq, host, ${S.waiting}, kind FROM ins`;

/** Sitemap entries a job already admitted (read only when a batch admits sitemaps). */
const SITEMAPS_ADMITTED = `
  SELECT job_seq, count(*)::int AS n FROM frontier WHERE job_seq = ANY ($1::bigint[]) AND kind = ${K.sitemap} GROUP BY job_seq`;

/**
 * Counters and, when nothing is left waiting or leased, the job's end (failed when no page was
 * fetched); and the hosts' lease counters and oldest waiting entries, rows locked in host order.
 * One statement: the job rows are already locked by LOCK_JOBS, so host rows are the only locks it
 * can wait for, and it runs last, so host locks are held only until COMMIT.
 */
const FINISH = `
  WITH touched AS (
    INSERT INTO hosts AS h (host, in_flight, head_id)
    SELECT * FROM unnest($6::text[], $7::int[], $8::bigint[]) AS t(host, in_flight, head_id) ORDER BY host
    ON CONFLICT (host) DO UPDATE SET in_flight = h.in_flight + excluded.in_flight, head_id = least(h.head_id, excluded.head_id)
  ), d AS (
    SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $9::int[]) AS d(seq, admitted, fetched, failed, sitemaps)
  ), n AS (
    SELECT j.seq, j.admitted + d.admitted AS admitted, j.fetched + d.fetched AS fetched, j.failed + d.failed AS failed,
      j.sitemaps + d.sitemaps AS sitemaps,
      j.status IN ('queued', 'running') AND j.admitted + d.admitted = j.fetched + d.fetched + j.failed + d.failed
        AND j.sitemaps + d.sitemaps = 0 AS ends
    FROM jobs j JOIN d ON d.seq = j.seq
  )
  UPDATE jobs j SET admitted = n.admitted, fetched = n.fetched, failed = n.failed, sitemaps = n.sitemaps,
    status = CASE WHEN NOT n.ends THEN j.status WHEN n.fetched = 0 AND n.failed > 0 THEN 'failed' ELSE 'done' END,
    finished_at = CASE WHEN n.ends THEN $5 ELSE j.finished_at END,
    reason = CASE WHEN n.ends AND n.fetched = 0 AND n.failed > 0 THEN (
      SELECT p.error_code FROM pages p WHERE p.job_seq = j.seq AND p.error_code IS NOT NULL
      GROUP BY p.error_code ORDER BY count(*) DESC, p.error_code ASC LIMIT 1) ELSE j.reason END
  FROM n WHERE j.seq = n.seq
  RETURNING j.id, j.status, j.reason, n.ends, j.admitted, j.fetched, j.failed, j.started_at, j.finished_at, j.options->'schedule'->>'id' AS schedule_id`;

interface LockedJob {
  seq: number;
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  admitted: number;
  max_pages: number;
  max_depth: number;
}

interface AppliedRow {
  t: 'u' | 'i';
  ord: number | null;
  id: number;
  job_seq: number;
  host: string;
  state: number;
  kind: number;
}

/** Column arrays for unnest(): one round trip per statement whatever the batch size. */
class Columns<T extends Record<string, unknown>> {
  readonly cols: { [K in keyof T]: T[K][] };
  constructor(keys: (keyof T)[]) {
    this.cols = Object.fromEntries(keys.map((k) => [k, []])) as unknown as { [K in keyof T]: T[K][] };
  }
  push(row: T): void {
    for (const k of Object.keys(this.cols) as (keyof T)[]) this.cols[k].push(row[k]);
  }
}

/** The body of a settle transaction (lock order jobs → frontier → hosts); settleAndClaim runs a claim after it. */
export async function settleIn(q: Query, outcomes: Outcome[], now: number): Promise<SettleResult> {
  if (outcomes.length === 0) return { accepted: [], enqueued: 0, finishedJobs: [] };
  // The first outcome for an entry is the candidate; a repeat in the same batch is refused.
  const firstOf = new Map<number, number>();
  outcomes.forEach((o, i) => {
    if (!firstOf.has(o.entry.id)) firstOf.set(o.entry.id, i);
  });
  const jobIds = [...new Set(outcomes.map((o) => o.entry.jobId).filter(isUuid))];

  const jobs = new Map((await q<LockedJob>(LOCK_JOBS, [jobIds])).map((j) => [j.id, j]));

  const o = new Columns<{ ord: number; id: number; token: string; state: number; notBefore: number | null; lastError: string | null }>(
    ['ord', 'id', 'token', 'state', 'notBefore', 'lastError'],
  );
  const p = new Columns<{
    ord: number; url: string; finalUrl: string | null; statusCode: number | null; title: string | null; bytes: number; fetchMs: number;
    errorCode: string | null; contentType: string | null; mode: string; linksFound: number; depth: number; fetchedAt: number;
    contentHash: string | null; lastmod: number | null; content: Buffer | null; change: string | null; previousPageId: number | null;
    revisit: string | null;
  }>(['ord', 'url', 'finalUrl', 'statusCode', 'title', 'bytes', 'fetchMs', 'errorCode', 'contentType', 'mode', 'linksFound', 'depth', 'fetchedAt',
    'contentHash', 'lastmod', 'content', 'change', 'previousPageId', 'revisit']);
  const l = new Columns<{ ord: number; seq: number; url: string; host: string; depth: number; kind: number; lastmod: number | null }>(
    ['ord', 'seq', 'url', 'host', 'depth', 'kind', 'lastmod'],
  );
  const addPage = (ord: number, page: PageRecord): void =>
    p.push({
      ord, url: page.url, finalUrl: page.finalUrl, statusCode: page.statusCode, title: page.title, bytes: page.bytes,
      fetchMs: Math.round(page.fetchMs), errorCode: page.errorCode, contentType: page.contentType, mode: page.mode,
      linksFound: page.linksFound, depth: page.depth, fetchedAt: page.fetchedAt, contentHash: page.contentHash, lastmod: page.lastmod,
      content: page.content === null ? null : Buffer.from(page.content.buffer, page.content.byteOffset, page.content.byteLength),
      change: page.change ?? null, previousPageId: page.previousPageId ?? null, revisit: page.revisit ? JSON.stringify(page.revisit) : null,
    });
  const addLinks = (ord: number, job: LockedJob, discovered: DiscoveredUrl[]): void => {
    for (const link of discovered) {
      const sitemap = link.kind === 'sitemap';
      if (link.depth > (sitemap ? MAX_SITEMAP_NESTING : job.max_depth)) continue;
      l.push({ ord, seq: job.seq, url: link.url, host: link.host, depth: link.depth, kind: sitemap ? K.sitemap : K.page, lastmod: link.lastmod ?? null });
    }
  };

  outcomes.forEach((outcome, ord) => {
    const job = jobs.get(outcome.entry.jobId);
    if (!job || firstOf.get(outcome.entry.id) !== ord) return;
    const live = isLive(job.status);
    const base = { ord, id: outcome.entry.id, token: outcome.entry.leaseToken };
    switch (outcome.kind) {
      case 'done':
        o.push({ ...base, state: S.done, notBefore: null, lastError: null });
        addPage(ord, outcome.page);
        if (live) addLinks(ord, job, outcome.discovered);
        break;
      case 'sitemap':
        o.push({ ...base, state: outcome.errorCode === null ? S.done : S.failed, notBefore: null, lastError: outcome.errorCode });
        if (live) addLinks(ord, job, outcome.discovered);
        break;
      case 'retry':
        o.push({ ...base, state: live ? S.waiting : S.dropped, notBefore: outcome.notBefore, lastError: outcome.errorCode });
        break;
      case 'failed':
        o.push({ ...base, state: S.failed, notBefore: null, lastError: outcome.page.errorCode });
        addPage(ord, outcome.page);
        break;
    }
  });
  const room = [...jobs.values()].filter((j) => isLive(j.status));
  const sitemapsAdmitted = new Map<number, number>();
  if (l.cols.kind.some((k) => k === K.sitemap)) {
    for (const r of await q<{ job_seq: number; n: number }>(SITEMAPS_ADMITTED, [room.map((j) => j.seq)])) sitemapsAdmitted.set(r.job_seq, r.n);
  }

  const applied = await q<AppliedRow>(APPLY, [
    o.cols.ord, o.cols.id, o.cols.token, o.cols.state, o.cols.notBefore, o.cols.lastError,
    p.cols.ord, p.cols.url, p.cols.finalUrl, p.cols.statusCode, p.cols.title, p.cols.bytes, p.cols.fetchMs, p.cols.errorCode,
    p.cols.contentType, p.cols.mode, p.cols.linksFound, p.cols.depth, p.cols.fetchedAt,
    l.cols.ord, l.cols.seq, l.cols.url, l.cols.host, l.cols.depth,
    room.map((j) => j.seq), room.map((j) => Math.max(0, j.max_pages - j.admitted)),
    p.cols.contentHash, p.cols.lastmod, p.cols.content, l.cols.kind, l.cols.lastmod,
    room.map((j) => Math.max(0, MAX_SITEMAPS_PER_JOB - (sitemapsAdmitted.get(j.seq) ?? 0))),
    p.cols.change, p.cols.previousPageId, p.cols.revisit,
  ]);

  const accepted = outcomes.map(() => false);
  const perJob = new Map<number, { admitted: number; fetched: number; failed: number; sitemaps: number }>();
  const perHost = new Map<string, { inFlight: number; head: number | null }>();
  const jobDelta = (seq: number) => {
    let d = perJob.get(seq);
    if (!d) {
      d = { admitted: 0, fetched: 0, failed: 0, sitemaps: 0 };
      perJob.set(seq, d);
    }
    return d;
  };
  const hostDelta = (host: string) => {
    let d = perHost.get(host);
    if (!d) {
      d = { inFlight: 0, head: null };
      perHost.set(host, d);
    }
    return d;
  };
  const lowerHead = (host: string, id: number) => {
    const d = hostDelta(host);
    if (d.head === null || id < d.head) d.head = id;
  };
  let enqueued = 0;
  for (const row of applied) {
    const page = row.kind === K.page;
    if (row.t === 'u') {
      accepted[row.ord!] = true;
      hostDelta(row.host).inFlight -= 1;
      if (row.state === S.waiting) lowerHead(row.host, row.id);
      else if (!page) jobDelta(row.job_seq).sitemaps -= 1;
      else if (row.state === S.done) jobDelta(row.job_seq).fetched += 1;
      else if (row.state === S.failed) jobDelta(row.job_seq).failed += 1;
    } else {
      if (page) {
        enqueued += 1;
        jobDelta(row.job_seq).admitted += 1;
      } else {
        jobDelta(row.job_seq).sitemaps += 1;
      }
      lowerHead(row.host, row.id);
    }
  }

  const finishedJobs: FinishedJob[] = [];
  if (perJob.size > 0 || perHost.size > 0) {
    const seqs = [...perJob.keys()];
    const hosts = [...perHost.keys()];
    const ended = await q<{
      id: string; status: 'done' | 'failed'; reason: string | null; ends: boolean;
      admitted: number; fetched: number; failed: number; started_at: number | null; finished_at: number | null; schedule_id: string | null;
    }>(FINISH, [
      seqs, seqs.map((s) => perJob.get(s)!.admitted), seqs.map((s) => perJob.get(s)!.fetched), seqs.map((s) => perJob.get(s)!.failed), now,
      hosts, hosts.map((h) => perHost.get(h)!.inFlight), hosts.map((h) => perHost.get(h)!.head),
      seqs.map((s) => perJob.get(s)!.sitemaps),
    ]);
    const ends = ended.filter((e) => e.ends);
    for (const e of ends) finishedJobs.push({ id: e.id, status: e.status, reason: e.reason });
    // In the transaction that sets the final status: each job's end is published once, by the one settle that ends it.
    if (ends.length > 0) {
      await publishJobEnds(q, ends.map((e) => ({ ...e, startedAt: e.started_at, finishedAt: e.finished_at, scheduleId: e.schedule_id })), now);
    }
  }
  return { accepted, enqueued, finishedJobs };
}
