import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBrowserPool, type BrowserPool, type PageOutcome, type RestartReason } from '../../../src/crawl/browser/pool.ts';
import { isOwlError, type ErrorCode } from '../../../src/errors.ts';
import { closedPort } from '../../fixtures/http-fixture.ts';
import { startProxyServer, type ProxyServer } from '../../fixtures/proxy-server.ts';
import { startJsSite, type JsSite } from './js-site.ts';
import { chromiumDescendants, killChromium } from './processes.ts';

const BASE = {
  executablePath: '/usr/bin/chromium',
  navigationTimeoutMs: 3_000,
  pageTimeoutMs: 8_000,
  settleMaxMs: 1_500,
};

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (isOwlError(err)) return err.code;
    throw err;
  }
}

function recorder() {
  const pages: PageOutcome[] = [];
  const restarts: RestartReason[] = [];
  const counts: number[] = [];
  return { pages, restarts, counts, events: { onPage: (o: PageOutcome) => pages.push(o), onRestart: (r: RestartReason) => restarts.push(r), onBrowserCount: (n: number) => counts.push(n) } };
}

describe('browser pool', () => {
  let site: JsSite;
  let pool: BrowserPool;
  // Pages that finish by themselves (late links, a scroll that stops growing) get bounds no loaded
  // machine reaches, so what they prove does not depend on the machine's speed.
  let patient: BrowserPool;
  const rec = recorder();
  let tmp: string;

  before(async () => {
    site = await startJsSite();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'owl-browser-'));
    pool = createBrowserPool({ ...BASE, maxBrowsers: 1, pagesPerBrowser: 4, retireAfter: 1_000, events: rec.events });
    patient = createBrowserPool({ ...BASE, navigationTimeoutMs: 60_000, pageTimeoutMs: 120_000, settleMaxMs: 60_000, maxBrowsers: 1, pagesPerBrowser: 4, retireAfter: 1_000 });
  });
  after(async () => {
    await patient.close();
    await pool.close();
    await site.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads links that exist only after scripts ran: resolved, normalised, http(s) only, de-duplicated', async () => {
    const r = await pool.render({ url: `${site.origin}/js-links`, allowPrivate: true });
    assert.equal(r.status, 200);
    assert.equal(r.title, 'Scripted title');
    assert.deepEqual(r.links, [`${site.origin}/a`, `${site.origin}/b`, `${site.origin}/c?x=1`]);
    assert.equal(r.finalUrl, `${site.origin}/js-links`);
    assert.match(r.headers['content-type'] ?? '', /text\/html/);
    assert.match(r.html, /^<html>/);
    assert.equal(r.bytes, Buffer.byteLength(r.html));
    assert.equal(r.blocked, null);
    assert.equal(pool.active(), 1);
  });

  it('waits for links inserted 500 ms after load', async () => {
    const r = await patient.render({ url: `${site.origin}/late-links`, allowPrivate: true });
    assert.deepEqual(r.links, [`${site.origin}/late`]);
  });

  it('returns a page that never stops polling once the settle bound is reached', async () => {
    const r = await pool.render({ url: `${site.origin}/polling`, allowPrivate: true });
    assert.deepEqual(r.links, [`${site.origin}/x`]);
  });

  it('scrolls an infinite-scroll page until it stops growing', async () => {
    const r = await patient.render({ url: `${site.origin}/scroll`, allowPrivate: true });
    assert.deepEqual(r.links, [0, 1, 2, 3].map((i) => `${site.origin}/item/${i}`));
    assert.equal(site.hits('/more?n=4'), 0);
  });

  it('blocks images, fonts and media but not stylesheets', async () => {
    const r = await pool.render({ url: `${site.origin}/resources`, allowPrivate: true });
    assert.deepEqual(r.links, [`${site.origin}/next`]);
    assert.equal(site.hits('/style.css'), 1);
    assert.equal(site.hits('/pixel.png'), 0);
    assert.equal(site.hits('/font.woff2'), 0);
    assert.equal(site.hits('/clip.mp4'), 0);
  });

  it('fails a page that never finishes loading with TIMEOUT and serves the next page', async () => {
    assert.equal(await codeOf(pool.render({ url: `${site.origin}/hang`, allowPrivate: true })), 'TIMEOUT');
    assert.equal(rec.pages.at(-1), 'timeout');
    const r = await pool.render({ url: `${site.origin}/page/after-hang`, allowPrivate: true });
    assert.equal(r.status, 200);
  });

  it('honours the caller signal with CANCELLED', async () => {
    const ac = new AbortController();
    const p = pool.render({ url: `${site.origin}/held-page`, allowPrivate: true, signal: ac.signal });
    await site.nextHit('/hold');
    ac.abort();
    assert.equal(await codeOf(p), 'CANCELLED');
  });

  it('detects a reCAPTCHA interstitial from its frame and screenshots it', async () => {
    const shot = path.join(tmp, 'recaptcha.png');
    const r = await pool.render({ url: `${site.origin}/recaptcha`, allowPrivate: true, screenshotPath: shot });
    assert.deepEqual(r.blocked, { kind: 'captcha', vendor: 'recaptcha' });
    assert.ok(r.frameUrls.some((u) => u.startsWith('https://www.google.com/recaptcha/api2/anchor')));
    assert.equal(r.screenshotPath, shot);
    assert.deepEqual([...fs.readFileSync(shot).subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  it('detects a Cloudflare "Just a moment" page and does not screenshot without a path', async () => {
    const r = await pool.render({ url: `${site.origin}/cloudflare`, allowPrivate: true });
    assert.equal(r.status, 403);
    assert.deepEqual(r.blocked, { kind: 'captcha', vendor: 'cloudflare' });
    assert.equal(r.screenshotPath, null);
  });

  it('refuses loopback targets without allowPrivate, literal and by name', async () => {
    assert.equal(await codeOf(pool.render({ url: `${site.origin}/secret`, allowPrivate: false })), 'TARGET_FORBIDDEN');
    const byName = site.origin.replace('127.0.0.1', 'localhost');
    assert.equal(await codeOf(pool.render({ url: `${byName}/secret`, allowPrivate: false })), 'TARGET_FORBIDDEN');
    assert.equal(await codeOf(pool.render({ url: 'file:///etc/passwd', allowPrivate: true })), 'INVALID_URL');
    assert.equal(site.hits('/secret'), 0);
  });

  it('keeps cookies per session and isolates sessions from each other', async () => {
    await pool.render({ url: `${site.origin}/set-cookie`, allowPrivate: true, session: 'alice' });
    const alice = await pool.render({ url: `${site.origin}/echo-cookie`, allowPrivate: true, session: 'alice' });
    const bob = await pool.render({ url: `${site.origin}/echo-cookie`, allowPrivate: true, session: 'bob' });
    const anonymous = await pool.render({ url: `${site.origin}/echo-cookie`, allowPrivate: true });
    assert.match(alice.html, /<p id="c">sid=abc123<\/p>/);
    assert.match(bob.html, /<p id="c">none<\/p>/);
    assert.match(anonymous.html, /<p id="c">none<\/p>/);
  });

  it('fails a render whose tab crashes with BROWSER and keeps serving', async () => {
    const p = pool.render({ url: `${site.origin}/held-page`, allowPrivate: true });
    await site.nextHit('/hold');
    assert.ok(killChromium('renderer') >= 1);
    assert.equal(await codeOf(p), 'BROWSER');
    assert.equal(rec.pages.at(-1), 'crash');
    const r = await pool.render({ url: `${site.origin}/page/after-tab-crash`, allowPrivate: true });
    assert.equal(r.status, 200);
    assert.equal(pool.active(), 1);
  });

  it('fails in-flight renders with BROWSER when the browser dies, replaces it, and counts correctly', async () => {
    const restartsBefore = rec.restarts.length;
    const p = pool.render({ url: `${site.origin}/held-page`, allowPrivate: true });
    await site.nextHit('/hold');
    assert.ok(killChromium(null) >= 1);
    assert.equal(await codeOf(p), 'BROWSER');
    assert.equal(rec.pages.at(-1), 'crash');
    assert.deepEqual(rec.restarts.slice(restartsBefore), ['crash']);
    assert.equal(pool.active(), 0);
    assert.equal(rec.counts.at(-1), 0);
    const r = await pool.render({ url: `${site.origin}/page/after-crash`, allowPrivate: true });
    assert.equal(r.status, 200);
    assert.equal(pool.active(), 1);
    assert.equal(rec.counts.at(-1), 1);
  });
});

describe('browser pool retirement and queueing', () => {
  let site: JsSite;
  let pool: BrowserPool;
  const rec = recorder();

  before(async () => {
    site = await startJsSite();
    pool = createBrowserPool({ ...BASE, maxBrowsers: 1, pagesPerBrowser: 2, retireAfter: 3, events: rec.events });
  });
  after(async () => {
    await pool.close();
    await site.close();
  });

  it('renders 7 pages on one browser slot at a time, retiring it every 3 pages', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => pool.render({ url: `${site.origin}/page/${i}`, allowPrivate: true })));
    assert.ok(results.every((r) => r.status === 200 && r.links.length === 1));
    assert.deepEqual(rec.restarts, ['page_limit', 'page_limit']);
    assert.ok(Math.max(...rec.counts) <= 1, `browser counts seen: ${rec.counts.join(',')}`);
    assert.deepEqual(rec.pages, Array(7).fill('ok'));
    assert.equal(pool.active(), 1);
  });

  it('reports zero browsers and no Chromium process after close', async () => {
    await pool.close();
    assert.equal(pool.active(), 0);
    assert.equal(rec.counts.at(-1), 0);
    assert.equal(await codeOf(pool.render({ url: `${site.origin}/page/late`, allowPrivate: true })), 'BROWSER');
  });
});

describe('browser pool idle close', () => {
  it('closes a browser that has nothing to render (browser_pool_active back to 0, no Chromium left) and launches one again on demand', async () => {
    const site = await startJsSite();
    const rec = recorder();
    const pool = createBrowserPool({ ...BASE, maxBrowsers: 2, pagesPerBrowser: 4, retireAfter: 200, idleCloseMs: 200, events: rec.events });
    try {
      const first = await pool.render({ url: `${site.origin}/page/1`, allowPrivate: true });
      assert.equal(first.status, 200);
      assert.equal(pool.active(), 1);
      for (let i = 0; i < 200 && pool.active() > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(pool.active(), 0, 'the idle browser was closed');
      assert.equal(rec.counts.at(-1), 0);
      assert.deepEqual(rec.restarts, [], 'closing an idle browser is not a restart');
      assert.deepEqual(chromiumDescendants(), []);
      const again = await pool.render({ url: `${site.origin}/page/2`, allowPrivate: true });
      assert.equal(again.status, 200);
      assert.equal(pool.active(), 1);
    } finally {
      await pool.close();
      await site.close();
    }
  });
});

describe('browser pool guard and proxies', () => {
  let site: JsSite;
  let away: JsSite;
  let proxy: ProxyServer;
  let pool: BrowserPool;

  before(async () => {
    site = await startJsSite('127.0.0.1');
    // 127.0.0.2 plays the private network: only it is forbidden for this pool.
    away = await startJsSite('127.0.0.2');
    site.setAwayOrigin(away.origin);
    proxy = await startProxyServer({ auth: { username: 'owl', password: 's3cret' } });
    pool = createBrowserPool({ ...BASE, maxBrowsers: 1, pagesPerBrowser: 4, retireAfter: 1_000, isForbiddenAddress: (ip) => ip === '127.0.0.2' });
  });
  after(async () => {
    await pool.close();
    await proxy.close();
    await site.close();
    await away.close();
  });

  it('refuses a redirect to a forbidden address without reaching it', async () => {
    assert.equal(await codeOf(pool.render({ url: `${site.origin}/redirect-away`, allowPrivate: false })), 'TARGET_FORBIDDEN');
    assert.equal(away.hits('/secret'), 0);
  });

  it('renders a page but never fetches its subresources and frames on forbidden addresses', async () => {
    const r = await pool.render({ url: `${site.origin}/subresources-away`, allowPrivate: false });
    assert.deepEqual(r.links, [`${site.origin}/ok`]);
    assert.equal(away.hits('/secret.js') + away.hits('/secret-frame'), 0);
  });

  it('follows the same redirect when private targets are allowed', async () => {
    const r = await pool.render({ url: `${site.origin}/redirect-away`, allowPrivate: true });
    assert.equal(r.finalUrl, `${away.origin}/secret`);
    assert.equal(away.hits('/secret'), 1);
  });

  it('sends a session through its own authenticated proxy, and other sessions directly', async () => {
    const handle = { id: proxy.url.replace(/\/\/[^@]*@/, '//'), url: proxy.url };
    const before = proxy.requests();
    const viaProxy = await pool.render({ url: `${site.origin}/page/p1`, allowPrivate: true, proxy: handle, session: 'proxied' });
    assert.equal(viaProxy.status, 200);
    const afterProxied = proxy.requests();
    assert.ok(afterProxied > before, 'the proxy saw the render');
    await pool.render({ url: `${site.origin}/page/p2`, allowPrivate: true, session: 'direct' });
    assert.equal(proxy.requests(), afterProxied);
  });

  it('chains the guard to the upstream proxy when private targets are refused', async () => {
    const handle = { id: 'upstream', url: proxy.url };
    const before = proxy.requests();
    const r = await pool.render({ url: `${site.origin}/page/p3`, allowPrivate: false, proxy: handle });
    assert.equal(r.status, 200);
    assert.ok(proxy.requests() > before);
    assert.equal(await codeOf(pool.render({ url: `${site.origin}/redirect-away`, allowPrivate: false, proxy: handle })), 'TARGET_FORBIDDEN');
    assert.equal(away.hits('/secret'), 1, 'only the allowPrivate render above reached it');
  });

  it('maps a connection the guard could not make to NETWORK, not to the 502 it answered', async () => {
    const port = await closedPort();
    assert.equal(await codeOf(pool.render({ url: `http://127.0.0.1:${port}/`, allowPrivate: false })), 'NETWORK');
  });

  it('maps a dead proxy to PROXY', async () => {
    proxy.setMode('refuse');
    try {
      const code = await codeOf(pool.render({ url: `${site.origin}/page/p4`, allowPrivate: true, proxy: { id: 'dead', url: proxy.url } }));
      assert.equal(code, 'PROXY');
    } finally {
      proxy.setMode('ok');
    }
  });
});

describe('browser pool process hygiene', () => {
  it('fails renders with BROWSER when Chromium cannot be launched, and counts no browser', async () => {
    const counts: number[] = [];
    const pool = createBrowserPool({ ...BASE, executablePath: '/nonexistent/chromium', maxBrowsers: 1, pagesPerBrowser: 1, retireAfter: 10, events: { onBrowserCount: (n) => counts.push(n) } });
    try {
      assert.equal(await codeOf(pool.render({ url: 'http://127.0.0.1:9/', allowPrivate: true })), 'BROWSER');
      assert.equal(await codeOf(pool.render({ url: 'http://127.0.0.1:9/', allowPrivate: true })), 'BROWSER');
      assert.equal(pool.active(), 0);
      assert.deepEqual(counts, []);
    } finally {
      await pool.close();
    }
  });

  it('keeps at most pagesPerBrowser idle tabs per browser however many sessions it serves', async () => {
    const pool = createBrowserPool({ ...BASE, maxBrowsers: 1, pagesPerBrowser: 2, retireAfter: 100 });
    const site = await startJsSite();
    try {
      const renderers = (): number => chromiumDescendants().filter((p) => p.type === 'renderer').length;
      // Chromium keeps a few renderers of its own (a spare one among them); closed tabs' renderers exit shortly after.
      const settled = async (limit: number): Promise<number> => {
        for (let i = 0; i < 40 && renderers() > limit; i++) await new Promise((r) => setTimeout(r, 50));
        return renderers();
      };
      for (let i = 0; i < 2; i++) await pool.render({ url: `${site.origin}/page/${i}`, allowPrivate: true, session: `s${i}` });
      const withTwoParked = await settled(0);
      for (let i = 2; i < 8; i++) await pool.render({ url: `${site.origin}/page/${i}`, allowPrivate: true, session: `s${i}` });
      assert.ok((await settled(withTwoParked)) <= withTwoParked, `renderers: ${renderers()} after 8 sessions, ${withTwoParked} after 2`);
    } finally {
      await pool.close();
      await site.close();
    }
  });

  it('rejects options that cannot work at construction', () => {
    assert.throws(() => createBrowserPool({ ...BASE, maxBrowsers: 0, pagesPerBrowser: 1, retireAfter: 1 }), (e: unknown) => isOwlError(e, 'CONFIG_INVALID'));
  });

  it('leaves no Chromium process of this test behind', async () => {
    const pool = createBrowserPool({ ...BASE, maxBrowsers: 2, pagesPerBrowser: 1, retireAfter: 100 });
    const site = await startJsSite();
    try {
      await Promise.all([pool.render({ url: `${site.origin}/page/1`, allowPrivate: true }), pool.render({ url: `${site.origin}/page/2`, allowPrivate: true })]);
      assert.equal(pool.active(), 2);
    } finally {
      await pool.close();
      await site.close();
    }
    const alive = chromiumDescendants().filter((p) => {
      try {
        return !fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, []);
  });
});
