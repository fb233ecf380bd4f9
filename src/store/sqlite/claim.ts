import { randomUUID } from 'node:crypto';
import type { ClaimOptions, FrontierEntry } from '../types.ts';
import { returnLeases, type Core, type LeasedRow } from './leases.ts';

interface ReadyRow {
  id: number;
  job_seq: number;
  url: string;
  depth: number;
  attempts: number;
}

/** A host with its first due entry (the entry columns are NULL when none is due). */
type HostRow = { host: string; in_flight: number; head_id: number } & ({ id: number } & ReadyRow | { id: null });

interface HostPick {
  host: string;
  capLeft: number;
  lastId: number;
  rows: ReadyRow[];
  /** The first due entry, fetched with the host; undefined once used. */
  first: ReadyRow | null | undefined;
}

/**
 * Leases due URLs inside the caller's write transaction. Expired leases are returned first, so a
 * host's in_flight counter is exactly its unexpired leases. Hosts are visited by their oldest waiting
 * entry and served round-robin: each round takes the next entry of every host still able to give one.
 */
export function claimEntries(core: Core, opts: ClaimOptions, now: number): FrontierEntry[] {
  const { s } = core;
  if (opts.limit <= 0) return [];
  returnLeases(core, s.expiredLeases.all(now) as LeasedRow[]);

  // The mode filter costs a job lookup per frontier row: skip it when every live job is in a served mode.
  let modeList = opts.modes ? `,${opts.modes.join(',')},` : undefined;
  if (modeList !== undefined && s.liveJobOutsideModes.get(modeList) === undefined) modeList = undefined;
  const perHostCap = opts.hostDelayMs > 0 ? 1 : Number.POSITIVE_INFINITY;
  const picks: HostPick[] = [];
  let want = opts.limit;
  let afterHead = 0;
  // Hosts that give nothing (entries not yet due, other modes) are skipped: look at the next page of hosts.
  for (let page = 0; want > 0 && page < 1000; page++) {
    const params = { after: afterHead, now, maxPerHost: opts.maxPerHost, limit: opts.limit, modes: modeList };
    const hosts = (modeList === undefined ? s.eligibleHosts.all(params) : s.eligibleHostsInModes.all(params)) as HostRow[];
    if (hosts.length === 0) break;
    afterHead = hosts[hosts.length - 1]!.head_id;
    let active: HostPick[] = hosts.map((h) => ({
      host: h.host,
      capLeft: Math.min(perHostCap, opts.maxPerHost - h.in_flight),
      lastId: 0,
      rows: [],
      first: h.id === null ? null : { id: h.id, job_seq: h.job_seq, url: h.url, depth: h.depth, attempts: h.attempts },
    }));
    picks.push(...active);
    while (want > 0 && active.length > 0) {
      // While every host can give `per` entries, all of them belong to the round-robin result.
      const per = Math.max(1, Math.floor(want / active.length));
      const next: HostPick[] = [];
      for (const pick of active) {
        if (want === 0) break;
        const take = Math.min(per, pick.capLeft, want);
        const rows: ReadyRow[] = [];
        if (pick.first !== undefined) {
          if (pick.first) rows.push(pick.first);
          pick.first = undefined;
        }
        const more = take - rows.length;
        if (more > 0 && (rows.length > 0 || pick.lastId > 0)) {
          const after = rows.length > 0 ? rows[0]!.id : pick.lastId;
          rows.push(
            ...((modeList === undefined
              ? s.readyOfHost.all(pick.host, after, now, more)
              : s.readyOfHostInModes.all(pick.host, after, now, modeList, more)) as ReadyRow[]),
          );
        }
        pick.rows.push(...rows);
        want -= rows.length;
        pick.capLeft -= rows.length;
        if (rows.length > 0) pick.lastId = rows[rows.length - 1]!.id;
        if (rows.length === take && pick.capLeft > 0) next.push(pick);
      }
      active = next;
    }
    if (hosts.length < opts.limit) break;
  }

  const leaseUntil = now + opts.leaseMs;
  const nextFetchAt = opts.hostDelayMs > 0 ? now + opts.hostDelayMs : 0;
  const perJob = new Map<number, number>();
  const entries: FrontierEntry[] = [];
  for (const pick of picks) {
    if (pick.rows.length === 0) continue;
    for (const row of pick.rows) {
      const leaseToken = randomUUID();
      s.lease.run(leaseToken, leaseUntil, opts.workerId, row.id);
      perJob.set(row.job_seq, (perJob.get(row.job_seq) ?? 0) + 1);
      const info = core.jobInfo(row.job_seq);
      entries.push({
        id: row.id,
        jobId: info.id,
        url: row.url,
        host: pick.host,
        depth: row.depth,
        attempts: row.attempts,
        leaseToken,
        leaseUntil,
        job: { options: info.options },
      });
    }
    s.leaseHost.run({ host: pick.host, n: pick.rows.length, nextFetchAt });
  }
  for (const [seq, n] of perJob) s.startJob.run(n, n, now, seq);
  return entries.sort((a, b) => a.id - b.id);
}
