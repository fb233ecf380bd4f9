/**
 * The frontier's one call, `settleAndClaim`, used for one half at a time: tests (and benchmarks)
 * that look at claiming or settling alone read better with these two.
 */
import type { ClaimOptions, FrontierEntry, Outcome, SettleResult, Store } from '../../src/store/types.ts';

/** Claims without settling anything. */
export async function claim(store: Pick<Store, 'frontier'>, opts: ClaimOptions): Promise<FrontierEntry[]> {
  return (await store.frontier.settleAndClaim([], opts, opts.now)).entries;
}

/** Settles without claiming; resolves when the outcomes are durable. */
export async function settle(store: Pick<Store, 'frontier'>, outcomes: Outcome[], now?: number): Promise<SettleResult> {
  const claimNothing: ClaimOptions = { workerId: 'settle-only', limit: 0, leaseMs: 1, maxPerHost: 1, hostDelayMs: 0, now };
  return (await store.frontier.settleAndClaim(outcomes, claimNothing, now)).settled;
}
