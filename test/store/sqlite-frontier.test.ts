import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFrontier, WINDOW, type ClaimRequest, type QueuedEntry } from '../../src/store/sqlite/frontier.ts';

const entry = (id: number, host: string, extra: Partial<QueuedEntry> = {}): QueuedEntry => ({
  id,
  jobSeq: 1,
  url: `http://${host}/${id}`,
  host,
  depth: 0,
  attempts: 0,
  notBefore: 0,
  kind: 0,
  lastmod: null,
  ...extra,
});

const request = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  limit: 100,
  maxPerHost: 10_000,
  hostDelayMs: 0,
  now: 1_000,
  serves: () => true,
  ...overrides,
});

/** A frontier whose "disk" is an array of entries (what the table would hold for waiting URLs). */
function withDisk(disk: QueuedEntry[]): { frontier: MemoryFrontier; reads: number[] } {
  const reads: number[] = [];
  const frontier = new MemoryFrontier((host, after, limit) => {
    reads.push(after);
    return disk.filter((e) => e.host === host && e.id > after).slice(0, limit);
  });
  return { frontier, reads };
}

const ids = (entries: QueuedEntry[]) => entries.map((e) => e.id);

describe('in-memory frontier', () => {
  it('visits hosts by their oldest waiting entry and takes one from each before a second from any', () => {
    const { frontier } = withDisk([]);
    for (const [id, host] of [[5, 'c'], [1, 'a'], [2, 'a'], [3, 'b'], [4, 'a'], [6, 'c']] as const) frontier.admit(entry(id, host));
    assert.deepEqual(ids(frontier.take(request({ limit: 4 })).picked), [1, 3, 5, 2]);
    assert.deepEqual(ids(frontier.take(request({ limit: 10 })).picked), [4, 6]);
  });

  it('skips entries not yet due or of jobs it does not serve, without losing them', () => {
    const { frontier } = withDisk([]);
    frontier.admit(entry(1, 'a', { notBefore: 2_000 }));
    frontier.admit(entry(2, 'a', { jobSeq: 7 }));
    frontier.admit(entry(3, 'a'));
    assert.deepEqual(ids(frontier.take(request({ serves: (seq) => seq !== 7 })).picked), [3]);
    assert.deepEqual(ids(frontier.take(request({ now: 2_000 })).picked), [1, 2]);
  });

  it('says when a claim that left slots unused can get more: the next host deadline or retry time', () => {
    const { frontier } = withDisk([]);
    frontier.admit(entry(1, 'a'));
    frontier.admit(entry(2, 'a'));
    frontier.admit(entry(3, 'b', { notBefore: 1_700 }));
    frontier.admit(entry(4, 'c'));
    // Under a host delay each host gives one entry and is deferred by the delay.
    const first = frontier.take(request({ hostDelayMs: 250 }));
    assert.deepEqual(ids(first.picked), [1, 4]);
    assert.equal(first.nextDueAt, 1_250, "host a's deadline comes before b's retry");
    const early = frontier.take(request({ hostDelayMs: 250, now: 1_100 }));
    assert.deepEqual(ids(early.picked), []);
    assert.equal(early.nextDueAt, 1_250);
    const due = frontier.take(request({ hostDelayMs: 250, now: 1_250 }));
    assert.deepEqual(ids(due.picked), [2]);
    assert.equal(due.nextDueAt, 1_700, "only b's retry is left");
    // A claim that is filled says nothing.
    frontier.admit(entry(5, 'd'));
    frontier.admit(entry(6, 'e'));
    assert.equal(frontier.take(request({ limit: 1, now: 1_300 })).nextDueAt, null);
  });

  it('keeps at most WINDOW waiting entries of a host in memory and reads the rest from disk as it drains', () => {
    const total = WINDOW * 3 + 10;
    const disk = Array.from({ length: total }, (_, i) => entry(i + 1, 'big'));
    const { frontier, reads } = withDisk(disk);
    for (const e of disk) frontier.admit(e); // what admission does: the overflow stays on disk
    assert.equal(reads.length, 0);
    const taken: number[] = [];
    for (let i = 0; i < total && taken.length < total; i++) {
      const batch = frontier.take(request({ limit: 50 })).picked;
      if (batch.length === 0) break;
      taken.push(...ids(batch));
    }
    assert.deepEqual(taken, disk.map((e) => e.id), 'every entry once, in id order');
    assert.ok(reads.length >= 3 && reads.every((after, i) => i === 0 || after > reads[i - 1]!), `windows read in order: ${reads.join(',')}`);
  });

  it('counts leases against maxPerHost and frees the slot when the lease ends', () => {
    const { frontier } = withDisk([]);
    for (let id = 1; id <= 4; id++) frontier.admit(entry(id, 'a'));
    const first = frontier.take(request({ maxPerHost: 2 })).picked;
    assert.deepEqual(ids(first), [1, 2]);
    const leases = first.map((e) => frontier.grant(e, `t${e.id}`, 5_000, 'w'));
    assert.deepEqual(frontier.take(request({ maxPerHost: 2 })).picked, []);
    frontier.endLease(leases[0]!);
    assert.deepEqual(ids(frontier.take(request({ maxPerHost: 2 })).picked), [3]);
  });

  it('a host delay gives one entry per claim and defers the host', () => {
    const { frontier } = withDisk([]);
    for (let id = 1; id <= 3; id++) frontier.admit(entry(id, 'a'));
    assert.deepEqual(ids(frontier.take(request({ hostDelayMs: 500 })).picked), [1]);
    assert.deepEqual(frontier.take(request({ hostDelayMs: 500, now: 1_499 })).picked, []);
    assert.deepEqual(ids(frontier.take(request({ hostDelayMs: 500, now: 1_500 })).picked), [2]);
  });

  it('a rollback restores queues, leases, deferrals and spill marks exactly', () => {
    const disk = Array.from({ length: WINDOW + 5 }, (_, i) => entry(i + 1, 'a'));
    const { frontier } = withDisk(disk);
    for (const e of disk) frontier.admit(e);
    frontier.admit(entry(1000, 'b'));
    frontier.admit(entry(1001, 'b'));
    const before = frontier.take(request({ limit: 3 })).picked;
    const leases = before.map((e) => frontier.grant(e, `t${e.id}`, 5_000, 'w'));

    frontier.begin();
    frontier.endLease(leases[0]!);
    frontier.requeue({ ...leases[0]!.entry, attempts: 1 });
    frontier.defer('b', 9_999);
    frontier.dropJob(1, ['b']);
    const taken = frontier.take(request({ limit: WINDOW })).picked;
    for (const e of taken) frontier.grant(e, 'x', 5_000, 'w2');
    frontier.rollback();

    assert.equal(frontier.leaseCount, 3);
    assert.equal(frontier.lease(leases[0]!.entry.id)?.token, leases[0]!.token);
    const rest = frontier.take(request({ limit: 1000 })).picked;
    const expected = [...disk.map((e) => e.id), 1000, 1001].filter((id) => !ids(before).includes(id)).sort((x, y) => x - y);
    assert.deepEqual(ids(rest).sort((x, y) => x - y), expected);
  });

  it('serves hundreds of hosts fairly: the first claim takes one entry from each of the oldest hosts', () => {
    const { frontier } = withDisk([]);
    let id = 0;
    for (let round = 0; round < 3; round++) for (let h = 0; h < 300; h++) frontier.admit(entry(++id, `h${h}`));
    const first = frontier.take(request({ limit: 200 })).picked;
    assert.equal(first.length, 200);
    assert.equal(new Set(first.map((e) => e.host)).size, 200);
    assert.deepEqual(ids(first), Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
