import type { ClaimOptions, FrontierEntry, Frontier, Outcome, SettleAndClaimResult } from '../types.ts';
import { leaseIn, toEntries } from './claim.ts';
import { HOT_TX, type Db, type Query } from './db.ts';
import { extendLeases, requeueIn, requeueLeases } from './leases.ts';
import { settleIn } from './settle.ts';

/** Expired leases are looked for at most this often per handle on the wall clock (a lease is at least 1 s long). */
const REQUEUE_EVERY_MS = 250;

/** The earliest politeness deadline among hosts that have waiting URLs and room for another fetch. */
const NEXT_DUE = `
  SELECT min(next_fetch_at) AS at FROM hosts
  WHERE head_id IS NOT NULL AND next_fetch_at > $1 AND in_flight < $2`;

/**
 * The scale-out frontier: every worker shares it through PostgreSQL. `settleAndClaim` settles and
 * claims in one transaction (one commit per worker loop turn): the settle takes job rows, frontier
 * rows and host rows in that order; the claim that follows takes its locks with SKIP LOCKED only,
 * so it never waits and cannot join a deadlock. Expired leases are returned between the two.
 */
export class PgFrontier implements Frontier {
  private lastRequeueAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: Db) {}

  /** A caller-given clock always looks for expired leases; the wall clock at most every REQUEUE_EVERY_MS. */
  private requeueDue(explicitNow: boolean, now: number): boolean {
    if (explicitNow) return true;
    const due = now - this.lastRequeueAt >= REQUEUE_EVERY_MS || now < this.lastRequeueAt;
    if (due) this.lastRequeueAt = now;
    return due;
  }

  async settleAndClaim(outcomes: Outcome[], claim: ClaimOptions, now: number = Date.now()): Promise<SettleAndClaimResult> {
    const claimNow = claim.now ?? now;
    const requeue = claim.limit > 0 && this.requeueDue(claim.now !== undefined, claimNow);
    const { settled, rows, nextDueAt } = await this.db.tx(async (q: Query) => {
      const settledHere = await settleIn(q, outcomes, now);
      if (requeue) await requeueIn(q, { expiredAt: claimNow });
      const leased = await leaseIn(q, claim, claimNow);
      let next: number | null = null;
      if (claim.limit > 0 && leased.length < claim.limit) {
        const [row] = await q<{ at: number | null }>(NEXT_DUE, [claimNow, claim.maxPerHost]);
        next = row?.at ?? null;
      }
      return { settled: settledHere, rows: leased, nextDueAt: next };
    }, HOT_TX);
    const entries: FrontierEntry[] = rows.length === 0 ? [] : await toEntries(this.db, rows, claim, claimNow);
    return { entries, settled: Promise.resolve(settled), nextDueAt };
  }

  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now: number = Date.now()): Promise<void> {
    return extendLeases(this.db, entries, now + leaseMs);
  }

  releaseLeases(workerId: string): Promise<number> {
    return requeueLeases(this.db, { workerId });
  }

  requeueExpired(now: number = Date.now()): Promise<number> {
    return requeueLeases(this.db, { expiredAt: now });
  }

  async deferHost(host: string, until: number): Promise<void> {
    await this.db.query(
      `INSERT INTO hosts AS h (host, next_fetch_at) VALUES ($1, $2)
       ON CONFLICT (host) DO UPDATE SET next_fetch_at = greatest(h.next_fetch_at, excluded.next_fetch_at)`,
      [host, until],
    );
  }
}
