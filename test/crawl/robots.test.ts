import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpFetcher } from '../../src/crawl/http-fetcher.ts';
import { createRobotsCache, productToken } from '../../src/crawl/robots.ts';
import type { FetchRequest, FetchResponse, Fetcher } from '../../src/crawl/types.ts';
import { OwlError, isOwlError } from '../../src/errors.ts';
import { closedPort } from '../fixtures/http-fixture.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';

const UA = 'owl-test/1.0 (+https://example.test/bot)';
const ROBOTS = [
  'User-agent: *',
  'Disallow: /private',
  'Crawl-delay: 2',
  '',
  'User-agent: owl-test',
  'Disallow: /graph/1',
  'Allow: /graph/1/ok',
  'Crawl-delay: 0.5',
  '',
].join('\n');

const local = { allowPrivate: true };

describe('productToken', () => {
  it('takes the product name of the user agent, lower-cased', () => {
    assert.equal(productToken(UA), 'owl-test');
    assert.equal(productToken('sparkling-owl-spin/0.1 (+https://github.com/x)'), 'sparkling-owl-spin');
    assert.equal(productToken('Googlebot'), 'googlebot');
    assert.equal(productToken('  '), '*');
  });
});

describe('robots cache with the HTTP fetcher', () => {
  const fetcher = createHttpFetcher({ userAgent: UA, connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, maxBodyBytes: 1 << 20, maxRedirects: 5 });
  const sites: FixtureSite[] = [];
  let site: FixtureSite;
  const start = async (o: Parameters<typeof startFixtureSite>[0]): Promise<FixtureSite> => {
    const s = await startFixtureSite(o);
    sites.push(s);
    return s;
  };
  before(async () => {
    site = await start({ robotsTxt: ROBOTS });
  });
  after(async () => {
    await fetcher.close();
    await Promise.all(sites.map((s) => s.close()));
  });

  it('applies the group of our product token, with its crawl-delay in ms', async () => {
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    assert.deepEqual(await robots.check(`${site.url}/graph/1`, local), { allowed: false, crawlDelayMs: 500 });
    assert.deepEqual(await robots.check(`${site.url}/graph/1/ok`, local), { allowed: true, crawlDelayMs: 500 });
    assert.equal((await robots.check(`${site.url}/graph/2`, local)).allowed, true);
    assert.equal((await robots.check(`${site.url}/private`, local)).allowed, true);
    const other = createRobotsCache({ fetcher, userAgent: 'otherbot/2.0' });
    assert.deepEqual(await other.check(`${site.url}/private/x`, local), { allowed: false, crawlDelayMs: 2000 });
    assert.equal((await other.check(`${site.url}/graph/1`, local)).allowed, true);
  });

  it('fetches robots.txt once per origin for concurrent callers', async () => {
    const s = await start({ robotsTxt: ROBOTS });
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => robots.check(`${s.url}/graph/${i}`, local)));
    // `Disallow: /graph/1` is a prefix: /graph/1 and /graph/10 … /graph/19.
    assert.deepEqual(results.map((r) => r.allowed), Array.from({ length: 20 }, (_, i) => !String(i).startsWith('1')));
    await robots.check(`${s.url}/graph/3`, local);
    assert.equal(s.hits('/robots.txt'), 1);
    assert.equal(robots.size(), 1);
  });

  it('allows everything on 4xx and nothing on 5xx or 429', async () => {
    const cases: Array<[number, boolean]> = [[404, true], [403, true], [410, true], [500, false], [503, false], [429, false]];
    for (const [status, allowed] of cases) {
      const s = await start({ robotsStatus: status, robotsTxt: 'User-agent: *\nDisallow: /\n' });
      const robots = createRobotsCache({ fetcher, userAgent: UA });
      assert.equal((await robots.check(`${s.url}/graph/0`, local)).allowed, allowed, `robots.txt status ${status}`);
    }
  });

  it('follows redirects of robots.txt and treats a redirect loop as no file', async () => {
    const moved = await start({
      pages: {
        '/robots.txt': { status: 301, headers: { location: '/moved/robots.txt' } },
        '/moved/robots.txt': { headers: { 'content-type': 'text/plain' }, body: 'User-agent: *\nDisallow: /graph/\n' },
      },
    });
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    assert.equal((await robots.check(`${moved.url}/graph/0`, local)).allowed, false);
    assert.equal((await robots.check(`${moved.url}/other`, local)).allowed, true);
    const looping = await start({ pages: { '/robots.txt': { status: 302, headers: { location: '/robots.txt?again' } }, '/robots.txt?again': { status: 302, headers: { location: '/robots.txt' } } } });
    assert.equal((await robots.check(`${looping.url}/graph/0`, local)).allowed, true);
  });

  it('disallows an unreachable origin', async () => {
    const port = await closedPort();
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    const check = await robots.check(`http://127.0.0.1:${port}/x`, local);
    assert.deepEqual({ ...check, retryAt: undefined }, { allowed: false, crawlDelayMs: null, unavailable: true, retryAt: undefined });
    assert.ok(check.retryAt! > Date.now(), 'the file is asked for again later');
    assert.equal(robots.size(), 1);
  });

  it('does not cache a forbidden-target verdict, which depends on the caller', async () => {
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    const refused = await robots.check(`${site.url}/graph/2`, { allowPrivate: false });
    assert.equal(refused.allowed, false);
    assert.equal(refused.forbidden, true, 'the target guard refused the host: not a robots.txt rule');
    assert.equal(robots.size(), 0);
    assert.equal((await robots.check(`${site.url}/graph/2`, local)).allowed, true);
  });

  it('rejects a malformed URL with INVALID_URL', async () => {
    const robots = createRobotsCache({ fetcher, userAgent: UA });
    await assert.rejects(robots.check('not a url', local), (e) => isOwlError(e, 'INVALID_URL'));
  });
});

/** A fetcher answering from a table, counting calls, optionally held until released. */
function fakeFetcher(answer: (url: string) => Partial<FetchResponse> | Error) {
  const calls: FetchRequest[] = [];
  let gate: Promise<void> | null = null;
  let release: () => void = () => {};
  const fetcher: Fetcher = {
    async fetch(req) {
      calls.push(req);
      if (gate !== null) await gate;
      const a = answer(req.url);
      if (a instanceof Error) throw a;
      return { url: req.url, finalUrl: req.url, status: 200, headers: {}, contentType: 'text/plain', body: '', bytes: 0, fetchMs: 1, redirects: 0, ...a };
    },
    close: async () => {},
  };
  return {
    fetcher,
    calls,
    hold: () => {
      gate = new Promise((r) => (release = r));
    },
    release: () => {
      gate = null;
      release();
    },
  };
}

describe('robots cache policy', () => {
  it('shares one in-flight fetch and passes proxy, allowPrivate and accept: text', async () => {
    const f = fakeFetcher(() => ({ body: 'User-agent: *\nDisallow: /no\n' }));
    const robots = createRobotsCache({ fetcher: f.fetcher, userAgent: UA });
    f.hold();
    const proxy = { id: 'http://p:1', url: 'http://u:pw@p:1' };
    const pending = [robots.check('https://a.example/no', { proxy, allowPrivate: false }), robots.check('https://a.example/yes', { allowPrivate: false })];
    await new Promise((r) => setImmediate(r));
    assert.equal(f.calls.length, 1);
    f.release();
    assert.deepEqual((await Promise.all(pending)).map((r) => r.allowed), [false, true]);
    assert.deepEqual(f.calls[0], { url: 'https://a.example/robots.txt', proxy, allowPrivate: false, accept: 'text' });
  });

  it('refetches after the TTL, and after the shorter error TTL for failures', async () => {
    let t = 1_000_000;
    let failing = true;
    const f = fakeFetcher((url) => (url.startsWith('https://down.example') && failing ? new OwlError('TIMEOUT', undefined, { url }) : { body: '' }));
    const robots = createRobotsCache({ fetcher: f.fetcher, userAgent: UA, ttlMs: 60_000, errorTtlMs: 5_000, now: () => t });
    await robots.check('https://up.example/', local);
    assert.equal((await robots.check('https://down.example/', local)).allowed, false);
    assert.equal(f.calls.length, 2);
    t += 4_999;
    await robots.check('https://up.example/', local);
    assert.equal((await robots.check('https://down.example/', local)).allowed, false);
    assert.equal(f.calls.length, 2);
    t += 2;
    failing = false;
    assert.equal((await robots.check('https://down.example/', local)).allowed, true);
    assert.equal(f.calls.length, 3);
    t += 60_000;
    await robots.check('https://up.example/', local);
    assert.equal(f.calls.length, 4);
  });

  it('keeps at most maxEntries origins, dropping the least recently used', async () => {
    const f = fakeFetcher(() => ({ body: '' }));
    const robots = createRobotsCache({ fetcher: f.fetcher, userAgent: UA, maxEntries: 2 });
    await robots.check('https://a.example/', local);
    await robots.check('https://b.example/', local);
    await robots.check('https://a.example/x', local);
    await robots.check('https://c.example/', local);
    assert.equal(robots.size(), 2);
    assert.equal(f.calls.length, 3);
    await robots.check('https://a.example/y', local);
    assert.equal(f.calls.length, 3, 'a was used recently and kept');
    await robots.check('https://b.example/', local);
    assert.equal(f.calls.length, 4, 'b was dropped');
  });

  it('treats an empty or missing body as no rules and ignores a bad crawl-delay', async () => {
    const f = fakeFetcher((url) => (url.startsWith('https://odd.example') ? { body: 'User-agent: *\nCrawl-delay: soon\nDisallow: /a\n' } : { body: null }));
    const robots = createRobotsCache({ fetcher: f.fetcher, userAgent: UA });
    assert.deepEqual(await robots.check('https://none.example/a', local), { allowed: true, crawlDelayMs: null });
    assert.deepEqual(await robots.check('https://odd.example/a', local), { allowed: false, crawlDelayMs: null });
  });
});
