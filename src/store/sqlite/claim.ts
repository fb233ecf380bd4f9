import { randomUUID } from 'node:crypto';
import { entryKindOf, FrontierKind } from '../frontier-state.ts';
import type { ClaimOptions, FrontierEntry } from '../types.ts';
import { returnLeases, type Core } from './leases.ts';
import type { Change } from './settle.ts';

/**
 * Leases due URLs from the in-memory frontier. Expired leases are returned first, so a host's
 * in-flight count is exactly its unexpired leases. The picking is the frontier's (hosts by their
 * oldest waiting URL, round-robin); the jobs' counters change with the next group commit.
 */
export function claimEntries(core: Core, opts: ClaimOptions, now: number): { entries: FrontierEntry[]; changes: Change[]; nextDueAt: number | null } {
  const changes: Change[] = [];
  if (opts.limit <= 0) return { entries: [], changes, nextDueAt: null };
  const { frontier } = core;
  const returned = returnLeases(core, frontier.expired(now));
  if (returned) changes.push(returned);

  const modes = opts.modes ? new Set<string>(opts.modes) : null;
  const { picked, nextDueAt } = frontier.take({
    limit: opts.limit,
    maxPerHost: opts.maxPerHost,
    hostDelayMs: opts.hostDelayMs,
    now,
    serves: (jobSeq) => {
      const job = core.jobInfo(jobSeq);
      return job.live && (modes === null || modes.has(job.mode));
    },
  });

  const leaseUntil = now + opts.leaseMs;
  const perJob = new Map<number, number>();
  const entries: FrontierEntry[] = [];
  for (const q of picked) {
    const leaseToken = randomUUID();
    frontier.grant(q, leaseToken, leaseUntil, opts.workerId);
    // The job's queued/in-flight counters are pages; a sitemap entry is counted in `sitemaps` until it is read.
    if (q.kind === FrontierKind.page) perJob.set(q.jobSeq, (perJob.get(q.jobSeq) ?? 0) + 1);
    const info = core.jobInfo(q.jobSeq);
    entries.push({
      id: q.id,
      jobId: info.id,
      url: q.url,
      host: q.host,
      kind: entryKindOf(q.kind),
      depth: q.depth,
      lastmod: q.lastmod,
      attempts: q.attempts,
      leaseToken,
      leaseUntil,
      job: { options: info.options },
    });
  }
  if (picked.length > 0) changes.push({ kind: 'claimed', perJob, jobs: new Set(picked.map((q) => q.jobSeq)), now });
  return { entries: entries.sort((a, b) => a.id - b.id), changes, nextDueAt };
}
