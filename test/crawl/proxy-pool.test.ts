import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProxyPool, loadProxyList, proxyId } from '../../src/crawl/proxy-pool.ts';
import { isOwlError } from '../../src/errors.ts';

function fakeClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => {
    t += ms;
  } };
}

const A = 'http://user:secret@10.0.0.1:8080';
const B = 'http://10.0.0.2:8080';
const C = 'https://proxy-c.example:3128';

describe('proxyId', () => {
  it('drops credentials and keeps the rest', () => {
    assert.equal(proxyId(A), 'http://10.0.0.1:8080');
    assert.equal(proxyId('https://u:p@Proxy.Example:443'), 'https://proxy.example');
    assert.equal(proxyId('http://10.0.0.2:8080/'), 'http://10.0.0.2:8080/');
  });
});

describe('proxy pool', () => {
  it('round-robins and hands out ids without credentials', () => {
    const pool = createProxyPool({ proxies: [A, B, C], cooldownBaseMs: 1000 });
    assert.equal(pool.configured, 3);
    const handed = Array.from({ length: 6 }, () => pool.next());
    assert.deepEqual(handed.map((h) => h?.id), ['http://10.0.0.1:8080', 'http://10.0.0.2:8080', 'https://proxy-c.example:3128', 'http://10.0.0.1:8080', 'http://10.0.0.2:8080', 'https://proxy-c.example:3128']);
    assert.equal(handed[0]!.url, A);
    assert.ok(!handed.some((h) => h!.id.includes('secret')));
  });

  it('an empty pool hands out nothing', () => {
    const pool = createProxyPool({ proxies: [], cooldownBaseMs: 1000 });
    assert.equal(pool.configured, 0);
    assert.equal(pool.next(), null);
    assert.equal(pool.nextAvailableAt(), null);
    assert.equal(pool.usable(), 0);
    assert.deepEqual(pool.snapshot(), []);
  });

  it('de-duplicates proxies with the same id', () => {
    const pool = createProxyPool({ proxies: [A, 'http://other:pw@10.0.0.1:8080', B], cooldownBaseMs: 1000 });
    assert.equal(pool.configured, 2);
  });

  it('skips proxies in cooldown and brings them back when it ends', () => {
    const clock = fakeClock();
    const pool = createProxyPool({ proxies: [A, B], cooldownBaseMs: 1000, now: clock.now });
    const a = pool.next()!;
    pool.report(a, 'failure', 'ECONNREFUSED');
    assert.equal(pool.usable(), 1);
    assert.deepEqual([pool.next()?.id, pool.next()?.id, pool.next()?.id], [proxyId(B), proxyId(B), proxyId(B)]);
    clock.advance(999);
    assert.equal(pool.usable(), 1);
    clock.advance(1);
    assert.equal(pool.usable(), 2);
    const ids = new Set([pool.next()?.id, pool.next()?.id]);
    assert.equal(ids.size, 2);
  });

  it('doubles the cooldown per consecutive failure, capped; ok resets the streak', () => {
    const clock = fakeClock();
    const pool = createProxyPool({ proxies: [A], cooldownBaseMs: 1000, cooldownMaxMs: 5000, now: clock.now });
    const a = pool.next()!;
    const cooldowns: number[] = [];
    for (let i = 0; i < 5; i++) {
      pool.report(a, i % 2 ? 'blocked' : 'failure');
      const until = pool.nextAvailableAt()!;
      cooldowns.push(until - clock.now());
      clock.advance(until - clock.now());
    }
    assert.deepEqual(cooldowns, [1000, 2000, 4000, 5000, 5000]);
    assert.equal(pool.snapshot()[0]!.failures, 5);
    pool.report(a, 'ok');
    assert.equal(pool.snapshot()[0]!.failures, 0);
    pool.report(a, 'failure');
    assert.equal(pool.nextAvailableAt()! - clock.now(), 1000);
  });

  it('late failures of requests already in flight do not escalate a running cooldown', () => {
    const clock = fakeClock();
    const pool = createProxyPool({ proxies: [A, B], cooldownBaseMs: 1000, now: clock.now });
    const a = pool.next()!;
    pool.report(a, 'failure', 'first');
    pool.report(a, 'failure', 'second, same incident');
    const h = pool.snapshot().find((x) => x.proxy === a.id)!;
    assert.equal(h.failures, 1);
    assert.equal(h.cooldownUntil, clock.now() + 1000);
    assert.equal(h.lastError, 'second, same incident');
  });

  it('all cooling down → next() null and nextAvailableAt() is the earliest return', () => {
    const clock = fakeClock();
    const pool = createProxyPool({ proxies: [A, B], cooldownBaseMs: 1000, now: clock.now });
    const a = pool.next()!;
    const b = pool.next()!;
    pool.report(b, 'failure');
    pool.report(b, 'ok');
    clock.advance(1000);
    pool.report(b, 'failure');
    clock.advance(500);
    pool.report(a, 'blocked', 'captcha');
    assert.equal(pool.next(), null);
    assert.equal(pool.usable(), 0);
    assert.equal(pool.nextAvailableAt(), clock.now() + 500);
    clock.advance(500);
    assert.equal(pool.next()?.id, b.id);
    assert.equal(pool.nextAvailableAt(), clock.now());
  });

  it('reports for unknown proxies are ignored; long details are truncated', () => {
    const pool = createProxyPool({ proxies: [A], cooldownBaseMs: 1000 });
    pool.report({ id: 'http://nope:1', url: 'http://nope:1' }, 'failure');
    assert.equal(pool.usable(), 1);
    pool.report(pool.next()!, 'failure', 'x'.repeat(5000));
    assert.equal(pool.snapshot()[0]!.lastError!.length, 200);
  });

  it('snapshot and merge: the later cooldown wins', () => {
    const clock = fakeClock();
    const w1 = createProxyPool({ proxies: [A, B], cooldownBaseMs: 1000, now: clock.now });
    const w2 = createProxyPool({ proxies: [A, B], cooldownBaseMs: 1000, now: clock.now });
    const a = w1.next()!;
    w1.report(a, 'failure');
    w1.report(a, 'ok');
    clock.advance(1000);
    w1.report(a, 'failure');
    w1.report(a, 'failure');
    const snap = w1.snapshot();
    assert.deepEqual(snap.find((h) => h.proxy === a.id), { proxy: a.id, failures: 1, cooldownUntil: clock.now() + 1000, lastError: 'failure' });
    w2.merge(snap);
    assert.equal(w2.usable(), 1);
    assert.equal(w2.next()?.id, proxyId(B));
    assert.equal(w2.next()?.id, proxyId(B));
    // An older record from the store does not shorten a longer local cooldown.
    const b = { id: proxyId(B), url: B };
    w2.report(b, 'failure');
    w2.merge([{ proxy: b.id, failures: 0, cooldownUntil: clock.now() + 10, lastError: null }, { proxy: 'http://unknown:1', failures: 3, cooldownUntil: clock.now() + 1e6, lastError: 'x' }]);
    assert.equal(w2.snapshot().find((h) => h.proxy === b.id)!.cooldownUntil, clock.now() + 1000);
    assert.equal(w2.snapshot().length, 2);
  });
});

describe('loadProxyList', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function file(text: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'owl-proxies-'));
    dirs.push(dir);
    const f = path.join(dir, 'proxies.txt');
    await writeFile(f, text);
    return f;
  }
  async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    assert.fail('expected a rejection');
  }

  it('merges the list and the file, skipping comments and blank lines, de-duplicating', async () => {
    const f = await file(`# office proxies\n\n${B}\n  ${C}   # squid\r\nhttp://x:y@10.0.0.1:8080\n`);
    assert.deepEqual(await loadProxyList({ proxies: [A, ' ', B], proxyFile: f }), [A, B, C]);
    assert.deepEqual(await loadProxyList({ proxies: [] }), []);
  });

  it('rejects a bad file line with its line number and no password', async () => {
    const f = await file(`${B}\n# ok\nsocks5://user:hunter2@10.0.0.9:1080\n`);
    const e = await rejection(loadProxyList({ proxies: [], proxyFile: f }));
    assert.ok(isOwlError(e, 'CONFIG_INVALID'));
    assert.match(e.message, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3`));
    assert.match(e.message, /socks5/);
    assert.doesNotMatch(e.message, /hunter2/);
  });

  it('rejects bad list entries naming them', async () => {
    for (const bad of ['not a url', 'ftp://10.0.0.1:21', 'http://', 'file:///etc/passwd']) {
      const e = await rejection(loadProxyList({ proxies: [B, bad] }));
      assert.ok(isOwlError(e, 'CONFIG_INVALID'), bad);
      assert.match(e.message, /OWL_PROXIES entry 2/);
    }
  });

  it('rejects a missing file', async () => {
    const e = await rejection(loadProxyList({ proxies: [], proxyFile: path.join(tmpdir(), 'owl-no-such-proxies-file.txt') }));
    assert.ok(isOwlError(e, 'CONFIG_INVALID'));
  });
});
