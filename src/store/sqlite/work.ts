import type { ClaimOptions, FrontierEntry, Frontier, Outcome, SettleAndClaimResult, SettleResult } from '../types.ts';
import { claimEntries } from './claim.ts';
import { BACKLOG_LIMIT, type SqliteCore } from './core.ts';
import type { Lease } from './frontier.ts';
import { returnLeases } from './leases.ts';
import { acceptOutcomes, type SettleReport } from './settle.ts';

/** After a claim that failed once its outcomes were accepted, the caller asks again this much later. */
const CLAIM_RETRY_MS = 1_000;

/**
 * The embedded store's frontier. `settleAndClaim` accepts outcomes in memory (their host slots
 * free at once, retries back in line), claims from memory, and hands both to the group commit:
 * the claim does not wait for the write, and `settled` resolves when it is done.
 */
export class SqliteFrontier implements Frontier {
  constructor(private readonly core: SqliteCore) {}

  settleAndClaim(outcomes: Outcome[], claim: ClaimOptions, now: number = Date.now()): Promise<SettleAndClaimResult> {
    const { core } = this;
    let settled: Promise<SettleResult>;
    try {
      // A failing disk: refuse (nothing is accepted) rather than let memory run ahead without bound.
      if (core.backlog > BACKLOG_LIMIT) core.commitWaiting();
      settled = this.settle(outcomes, now);
    } catch (e) {
      return core.run(() => {
        throw e;
      });
    }
    // The outcomes are accepted now, so nothing below may reject: a claim that fails comes back
    // empty and is asked again a moment later.
    const claimNow = claim.now ?? now;
    let claimed: ReturnType<typeof claimEntries> = { entries: [], changes: [], nextDueAt: claimNow + CLAIM_RETRY_MS };
    try {
      claimed = core.inMemory(() => claimEntries(core, claim, claimNow));
      // Links admitted by settles still waiting for their commit are not claimable yet: commit now
      // rather than let a frontier that only has those go idle. A failed commit is retried by the core.
      if (claimed.entries.length === 0 && claim.limit > 0 && core.linksAwaitingCommit > 0) {
        core.commitWaiting();
        claimed = core.inMemory(() => claimEntries(core, claim, claimNow));
      }
    } catch {
      // Reported by the commit failure hook (or, for a closed store, by the next call).
    }
    core.queue(claimed.changes, claimNow);
    return Promise.resolve({ entries: claimed.entries, settled, nextDueAt: claimed.nextDueAt });
  }

  private settle(outcomes: Outcome[], now: number): Promise<SettleResult> {
    const { core } = this;
    if (outcomes.length === 0) return Promise.resolve({ accepted: [], enqueued: 0, finishedJobs: [] });
    const { accepted, items } = core.inMemory(() => acceptOutcomes(core, outcomes));
    if (items.length === 0) return Promise.resolve({ accepted, enqueued: 0, finishedJobs: [] });
    const report: SettleReport = { enqueued: 0, finishedJobs: [] };
    let links = 0;
    for (const item of items) if (item.kind === 'done') links += item.discovered.length;
    return new Promise<SettleResult>((resolve, reject) => {
      core.queue([{ kind: 'settled', items, report }], now, { waiter: { accepted, report, resolve, reject }, outcomes: items.length, links });
    });
  }

  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now: number = Date.now()): Promise<void> {
    return this.core.run(() => {
      const { frontier } = this.core;
      for (const e of entries) frontier.extend(e.id, e.leaseToken, now + leaseMs);
    });
  }

  releaseLeases(workerId: string): Promise<number> {
    return this.core.run(() => this.returnNow(this.core.frontier.leasesOf(workerId), Date.now()));
  }

  requeueExpired(now: number = Date.now()): Promise<number> {
    return this.core.run(() => this.returnNow(this.core.frontier.expired(now), now));
  }

  deferHost(host: string, until: number): Promise<void> {
    return this.core.run(() => this.core.frontier.defer(host, until));
  }

  private returnNow(leases: Lease[], now: number): number {
    const change = this.core.inMemory(() => returnLeases(this.core, leases));
    if (change) this.core.queue([change], now);
    return leases.length;
  }
}
