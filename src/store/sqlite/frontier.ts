/**
 * The SQLite store's frontier in memory. One process owns a SQLite file (it is opened with an
 * exclusive lock), so what only matters while that process runs lives here instead of in rows:
 * leases, hosts' in-flight counts and politeness deadlines, and the order in which waiting URLs
 * are handed out. The table keeps what must survive a restart: every admitted URL with its
 * state, attempts and retry time. A claim is then a walk over this structure, not a query plus
 * a row update per URL; and a restart has no leases to wait for: every URL that was not
 * settled is waiting again.
 *
 * Memory stays bounded by keeping at most WINDOW waiting URLs per host here; a host's later
 * URLs stay on disk (`spilledAfter`) and are read in by `refill` as its window drains.
 *
 * Every change made inside a store transaction is journaled, so `rollback` restores this
 * structure when the SQL transaction fails.
 */

/** A URL waiting in (or leased from) the frontier. */
export interface QueuedEntry {
  id: number;
  jobSeq: number;
  url: string;
  host: string;
  depth: number;
  attempts: number;
  notBefore: number;
  /** FrontierKind code (page or sitemap). */
  kind: number;
  lastmod: number | null;
}

export interface Lease {
  entry: QueuedEntry;
  token: string;
  until: number;
  workerId: string;
}

/** Waiting URLs kept in memory per host; the rest are read from disk as the host's window drains. */
export const WINDOW = 256;
const REFILL_BELOW = WINDOW / 4;

interface HostState {
  name: string;
  /** Waiting entries in id order, from `start` on (entries before `start` were taken). */
  queue: QueuedEntry[];
  start: number;
  /** Waiting entries of this host with a larger id are on disk only; null when all are here. */
  spilledAfter: number | null;
  /** Leases held on this host (across all workers of this process). */
  inFlight: number;
  /** No claim before this time (politeness delay, Retry-After, robots crawl-delay). */
  nextFetchAt: number;
  /** The head id this host is filed under in the heap; -1 when not filed. */
  filedHead: number;
}

/** Reads a host's waiting entries with an id above `after`, in id order, at most `limit`. */
export type DiskReader = (host: string, after: number, limit: number) => QueuedEntry[];

export interface ClaimRequest {
  limit: number;
  maxPerHost: number;
  hostDelayMs: number;
  now: number;
  /** Whether an entry of this job may be claimed now (the job is live and its mode is served). */
  serves: (jobSeq: number) => boolean;
}

/** What a claim took, and when the hosts it could not serve become due. */
export interface Taken {
  picked: QueuedEntry[];
  /**
   * When fewer than `limit` were picked: the earliest time a host that was not due (politeness
   * deadline) or an entry waiting for a retry becomes due; null when the claim was filled or
   * nothing waits for a time (only full hosts or other modes' jobs).
   */
  nextDueAt: number | null;
}

export class MemoryFrontier {
  private readonly hosts = new Map<string, HostState>();
  /** The latest claim time seen: a host with a politeness deadline after it is remembered. */
  private latestNow = 0;
  /** While a claim runs: the earliest `notBefore` of entries that were served but not due. */
  private earliestRetry = Number.POSITIVE_INFINITY;
  private readonly leases = new Map<number, Lease>();
  /** Hosts with waiting entries, by the id of their oldest one (entries go stale when a head moves). */
  private readonly heap: Array<{ head: number; host: HostState }> = [];
  private journal: Array<() => void> | null = null;
  private readonly touched = new Set<HostState>();

  constructor(private readonly readDisk: DiskReader) {}

  /** Starts journaling changes (called when a store transaction begins). */
  begin(): void {
    this.journal = [];
  }

  /** Keeps the changes; forgets hosts left with nothing to remember. */
  commit(): void {
    this.journal = null;
    for (const host of this.touched) this.forgetIfIdle(host);
    this.touched.clear();
  }

  /** Undoes every change since begin(), newest first. */
  rollback(): void {
    const undo = this.journal ?? [];
    this.journal = null;
    for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
    for (const host of this.touched) this.file(host);
    this.touched.clear();
  }

  get leaseCount(): number {
    return this.leases.size;
  }

  /**
   * Adds a waiting entry: newly admitted (it has the largest id so far), or read at start in
   * (host, id) order. It stays on disk only when its host's window is full or already spilled.
   */
  admit(entry: QueuedEntry): void {
    const host = this.host(entry.host);
    if (host.spilledAfter !== null) return;
    if (host.queue.length - host.start >= WINDOW) {
      this.setSpilledAfter(host, host.queue[host.queue.length - 1]!.id);
      return;
    }
    this.insert(host, entry);
  }

  /** Puts a leased or retried entry back among the waiting ones (it keeps its place by id). */
  requeue(entry: QueuedEntry): void {
    this.insert(this.host(entry.host), entry);
  }

  /** Removes the waiting (not leased) entries of a job, e.g. when it is cancelled. */
  dropJob(jobSeq: number, hostNames: Iterable<string>): void {
    for (const name of hostNames) {
      const host = this.hosts.get(name);
      if (!host) continue;
      const { queue, start } = host;
      host.queue = queue.slice(start).filter((entry) => entry.jobSeq !== jobSeq);
      host.start = 0;
      this.touch(host);
      this.record(() => {
        host.queue = queue;
        host.start = start;
      });
      this.file(host);
    }
  }

  lease(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** Ends a lease (settled, expired or released); the host's slot is free again. */
  endLease(lease: Lease): void {
    this.leases.delete(lease.entry.id);
    const host = this.host(lease.entry.host);
    host.inFlight -= 1;
    this.record(() => {
      this.leases.set(lease.entry.id, lease);
      host.inFlight += 1;
    });
    this.touch(host);
  }

  /** Prolongs a lease; no journal (it is not part of any transaction). */
  extend(id: number, token: string, until: number): void {
    const lease = this.leases.get(id);
    if (lease && lease.token === token) lease.until = until;
  }

  /** Leases whose deadline has passed at `now`. */
  expired(now: number): Lease[] {
    const out: Lease[] = [];
    for (const lease of this.leases.values()) if (lease.until <= now) out.push(lease);
    return out;
  }

  leasesOf(workerId: string): Lease[] {
    const out: Lease[] = [];
    for (const lease of this.leases.values()) if (lease.workerId === workerId) out.push(lease);
    return out;
  }

  /** Keeps every claim off `hostName` until `until`; never shortens a deferral. */
  defer(hostName: string, until: number): void {
    const host = this.host(hostName);
    if (until > host.nextFetchAt) this.setNextFetchAt(host, until);
  }

  /**
   * Picks up to `limit` due entries. Hosts are visited by their oldest waiting entry; each gives
   * one entry before any gives a second (round-robin), within its free slots (`maxPerHost` minus
   * its leases; one per claim under a host delay, which then defers the host). The picked
   * entries leave the queue; the caller leases them with `grant`.
   */
  take(req: ClaimRequest): Taken {
    const picked: QueuedEntry[] = [];
    if (req.now > this.latestNow) this.latestNow = req.now;
    if (req.limit <= 0) return { picked, nextDueAt: null };
    let nextDueAt = Number.POSITIVE_INFINITY;
    this.earliestRetry = Number.POSITIVE_INFINITY;
    const perHostCap = req.hostDelayMs > 0 ? 1 : Number.POSITIVE_INFINITY;
    const visited = new Set<HostState>();
    const again: Array<{ host: HostState; cap: number }> = [];
    // First pass: one entry from each host in head order, as long as hosts and room last.
    while (picked.length < req.limit) {
      const host = this.popHost();
      if (!host) break;
      // A refill may file a host again while it is being visited: once per claim is its turn.
      if (visited.has(host)) continue;
      visited.add(host);
      if (host.nextFetchAt > req.now || host.inFlight >= req.maxPerHost) continue;
      const entry = this.takeDue(host, req);
      if (!entry) continue;
      picked.push(entry);
      const cap = Math.min(perHostCap, req.maxPerHost - host.inFlight) - 1;
      if (cap > 0) again.push({ host, cap });
      if (req.hostDelayMs > 0) this.setNextFetchAt(host, Math.max(host.nextFetchAt, req.now + req.hostDelayMs));
    }
    // Further rounds over the hosts that still have room.
    let round = again;
    while (picked.length < req.limit && round.length > 0) {
      const next: typeof round = [];
      for (const slot of round) {
        if (picked.length >= req.limit) break;
        const entry = this.takeDue(slot.host, req);
        if (!entry) continue;
        picked.push(entry);
        if (--slot.cap > 0) next.push(slot);
      }
      round = next;
    }
    for (const host of visited) {
      this.file(host);
      // A host with waiting entries that is not due (or was just deferred by this claim's delay).
      if (host.nextFetchAt > req.now && host.nextFetchAt < nextDueAt && host.filedHead !== -1) nextDueAt = host.nextFetchAt;
    }
    if (picked.length >= req.limit) return { picked, nextDueAt: null };
    nextDueAt = Math.min(nextDueAt, this.earliestRetry);
    return { picked, nextDueAt: nextDueAt === Number.POSITIVE_INFINITY ? null : nextDueAt };
  }

  /** Leases a taken entry to `workerId`. */
  grant(entry: QueuedEntry, token: string, until: number, workerId: string): Lease {
    const lease: Lease = { entry, token, until, workerId };
    const host = this.host(entry.host);
    this.leases.set(entry.id, lease);
    host.inFlight += 1;
    this.record(() => {
      this.leases.delete(entry.id);
      host.inFlight -= 1;
    });
    return lease;
  }

  // --- internals ---

  private host(name: string): HostState {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, queue: [], start: 0, spilledAfter: null, inFlight: 0, nextFetchAt: 0, filedHead: -1 };
      this.hosts.set(name, host);
    }
    this.touch(host);
    return host;
  }

  private touch(host: HostState): void {
    if (this.journal !== null) this.touched.add(host);
  }

  /** Registers how to undo a change made outside this class in the current transaction (no-op outside one). */
  record(undo: () => void): void {
    this.journal?.push(undo);
  }

  /** The first due entry of `host` whose job is served, removed from the queue; refills from disk as needed. */
  private takeDue(host: HostState, req: ClaimRequest): QueuedEntry | null {
    for (;;) {
      const { queue } = host;
      for (let i = host.start; i < queue.length; i++) {
        const entry = queue[i]!;
        if (entry.notBefore > req.now) {
          // (An entry of a job this worker does not serve may wake it once for nothing: harmless.)
          if (entry.notBefore < this.earliestRetry) this.earliestRetry = entry.notBefore;
          continue;
        }
        if (!req.serves(entry.jobSeq)) continue;
        this.removeAt(host, i);
        if (host.spilledAfter !== null && queue.length - host.start < REFILL_BELOW) this.refill(host);
        return entry;
      }
      if (host.spilledAfter === null || !this.refill(host)) return null;
    }
  }

  /** Reads the next window of `host` from disk; false when nothing more was there. */
  private refill(host: HostState): boolean {
    const after = host.spilledAfter;
    if (after === null) return false;
    const rows = this.readDisk(host.name, after, WINDOW);
    for (const entry of rows) this.insert(host, entry);
    this.setSpilledAfter(host, rows.length === WINDOW ? rows[rows.length - 1]!.id : null);
    return rows.length > 0;
  }

  private insert(host: HostState, entry: QueuedEntry): void {
    const { queue } = host;
    // Mostly an append: new entries have the largest ids; retries and returns keep their place.
    let i = queue.length;
    if (i > host.start && queue[i - 1]!.id > entry.id) {
      let lo = host.start;
      let hi = queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (queue[mid]!.id < entry.id) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    if (i === queue.length) queue.push(entry);
    else queue.splice(i, 0, entry);
    this.record(() => this.removeEntry(host, entry));
    if (i === host.start) this.file(host);
  }

  private removeAt(host: HostState, i: number): void {
    const { queue } = host;
    const entry = queue[i]!;
    if (i === host.start) {
      queue[i] = undefined as unknown as QueuedEntry;
      host.start++;
      if (host.start === queue.length) {
        queue.length = 0;
        host.start = 0;
      } else if (host.start >= 1024 && host.start * 2 >= queue.length) {
        queue.splice(0, host.start);
        host.start = 0;
      }
    } else {
      queue.splice(i, 1);
    }
    this.record(() => this.insert(host, entry));
  }

  private removeEntry(host: HostState, entry: QueuedEntry): void {
    const i = host.queue.indexOf(entry, host.start);
    if (i !== -1) this.removeAt(host, i);
  }

  private setSpilledAfter(host: HostState, after: number | null): void {
    const before = host.spilledAfter;
    host.spilledAfter = after;
    this.record(() => {
      host.spilledAfter = before;
    });
  }

  private setNextFetchAt(host: HostState, at: number): void {
    const before = host.nextFetchAt;
    host.nextFetchAt = at;
    this.record(() => {
      host.nextFetchAt = before;
    });
  }

  /** Files `host` in the heap under its current head, if that changed. */
  private file(host: HostState): void {
    const head = host.start < host.queue.length ? host.queue[host.start]!.id : host.spilledAfter !== null ? host.spilledAfter + 0.5 : -1;
    if (head === host.filedHead) return;
    host.filedHead = head;
    if (head !== -1) heapPush(this.heap, { head, host });
    // Stale entries are skipped when popped; rebuild before they dominate the heap.
    if (this.heap.length > 2 * this.hosts.size + 64) this.rebuildHeap();
  }

  /** The host with the oldest waiting entry, taken off the heap (file() puts it back). */
  private popHost(): HostState | null {
    while (this.heap.length > 0) {
      const top = heapPop(this.heap)!;
      if (top.host.filedHead === top.head && this.hosts.get(top.host.name) === top.host) {
        top.host.filedHead = -1;
        return top.host;
      }
    }
    return null;
  }

  private rebuildHeap(): void {
    this.heap.length = 0;
    for (const host of this.hosts.values()) {
      if (host.filedHead !== -1) this.heap.push({ head: host.filedHead, host });
    }
    this.heap.sort((a, b) => a.head - b.head);
  }

  private forgetIfIdle(host: HostState): void {
    const idle = host.start >= host.queue.length && host.spilledAfter === null && host.inFlight === 0 && host.nextFetchAt <= this.latestNow;
    if (idle && this.hosts.get(host.name) === host) this.hosts.delete(host.name);
  }
}

type HeapItem = { head: number; host: HostState };

function heapPush(heap: HeapItem[], item: HeapItem): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.head <= item.head) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = item;
}

function heapPop(heap: HeapItem[]): HeapItem | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const child = r < n && heap[r]!.head < heap[l]!.head ? r : l;
    if (heap[child]!.head >= last.head) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
