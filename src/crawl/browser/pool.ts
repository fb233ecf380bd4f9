/**
 * A bounded pool of headless Chromium browsers. At most `maxBrowsers` browsers (launching and
 * draining ones included) with at most `pagesPerBrowser` tabs each; renders beyond that wait in
 * line. A browser is retired after `retireAfter` pages (drained, closed, replaced on demand) and
 * dropped when it disconnects unexpectedly (its renders fail with BROWSER; a new one is launched
 * by the next render). Each session gets its own context (cookies, proxy); renders without a
 * session get a throw-away context.
 */
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core';
import { isOwlError, OwlError } from '../../errors.ts';
import { isForbiddenAddress } from '../target-guard.ts';
import type { ProxyHandle } from '../types.ts';
import { toBrowserError } from './browser-errors.ts';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH } from './chromium-args.ts';
import { startGuardProxy, type GuardProxy } from './guard-proxy.ts';
import { TRACKER_SCRIPT, type SettleOptions } from './page-scripts.ts';
import { toPlaywrightProxy } from './proxy-settings.ts';
import { renderInPage, type PageRender } from './render-page.ts';
import { checkRenderTarget, hasForbiddenLiteralHost } from './request-guard.ts';

export type PageOutcome = 'ok' | 'error' | 'crash' | 'timeout';
export type RestartReason = 'page_limit' | 'crash';

export interface BrowserPoolOptions {
  /** Chromium binary (default '/usr/bin/chromium'). */
  executablePath: string;
  /** Browsers running at most, launching and draining ones included (default 2). */
  maxBrowsers: number;
  /** Tabs rendering at once per browser (default 4). */
  pagesPerBrowser: number;
  /** Pages a browser renders before it is drained and replaced (default 200). */
  retireAfter: number;
  /** Timeout of the navigation up to `domcontentloaded` (default 20000). */
  navigationTimeoutMs: number;
  /** Whole render once a tab is assigned, waiting for late content included (default navigationTimeoutMs + 5000). */
  pageTimeoutMs?: number;
  /** Abort image, font and media requests (default true). */
  blockResources?: boolean;
  /** User-Agent of every context (default: Chromium's own). */
  userAgent?: string;
  /** Longest wait for late content and infinite scroll after `domcontentloaded` (default 3000). */
  settleMaxMs?: number;
  /** Scrolls to the bottom at most this many times while the page grows (default 5). */
  maxScrolls?: number;
  /** Idle session contexts kept open per browser; the least recently used beyond it are closed (default 16). */
  maxSessions?: number;
  /** A browser with no render for this long is closed (an idle service holds no Chromium; default 60000). */
  idleCloseMs?: number;
  /** Which resolved addresses are refused when `allowPrivate` is false (default: target-guard's `isForbiddenAddress`). */
  isForbiddenAddress?: (ip: string) => boolean;
  /** Observers for metrics (the worker maps these to browser_pool_active, browser_pages_total{outcome}, browser_restarts_total{reason}). */
  events?: { onBrowserCount?(n: number): void; onPage?(outcome: PageOutcome): void; onRestart?(reason: RestartReason): void };
}

export interface RenderRequest {
  url: string;
  proxy?: ProxyHandle | null;
  allowPrivate: boolean;
  signal?: AbortSignal;
  screenshotPath?: string | null;
  /** session key: contexts are isolated per session (own cookies, own proxy) */
  session?: string;
}

export interface RenderResult extends PageRender {
  url: string;
  /** Wall time from the tab being assigned to the DOM being read. */
  fetchMs: number;
}

export interface BrowserPool {
  /** Rejects with OwlError: TIMEOUT, BROWSER, NETWORK, PROXY, TARGET_FORBIDDEN, INVALID_URL, CANCELLED. */
  render(req: RenderRequest): Promise<RenderResult>;
  /** Browsers running now (launched and not yet closed). */
  active(): number;
  close(): Promise<void>;
}

const BLOCKED_RESOURCE_TYPES: ReadonlySet<string> = new Set(['image', 'font', 'media']);
/** Closing a tab, context or browser that hangs must not hold a slot forever. */
const CLOSE_WAIT_MS = 5_000;
const LAUNCH_TIMEOUT_MS = 30_000;
const VIEWPORT = { width: 1280, height: 800 };
const QUIET_MS = 50;
const NO_LINK_QUIET_MS = 400;

interface Session {
  key: string | null;
  ready: Promise<BrowserContext>;
  closed: boolean;
  guard: GuardProxy | null;
  users: number;
  lastUsed: number;
}

interface Entry {
  state: 'launching' | 'up' | 'closing' | 'gone';
  browser: Browser | null;
  ready: Promise<Browser>;
  inFlight: number;
  assigned: number;
  retiring: boolean;
  /** Aborted with a BROWSER error when the browser disconnects unexpectedly. */
  crashed: AbortController;
  sessions: Map<string, Session>;
  /**
   * Tabs that finished a render cleanly, oldest first, reused by their session's next render (a
   * new tab costs a renderer process start). At most pagesPerBrowser per browser in all.
   */
  parked: Array<{ session: Session; page: Page }>;
  /** Closes the browser once it has been idle for idleCloseMs (set while nothing renders on it). */
  idleTimer: NodeJS.Timeout | null;
}

async function bounded(p: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
  clearTimeout(timer);
}

function cancelled(signal: AbortSignal, url: string): OwlError {
  return isOwlError(signal.reason) ? signal.reason : new OwlError('CANCELLED', 'The render was aborted', { url }, { cause: signal.reason });
}

export function createBrowserPool(options: BrowserPoolOptions): BrowserPool {
  const o = {
    executablePath: options.executablePath || DEFAULT_CHROMIUM_PATH,
    maxBrowsers: options.maxBrowsers ?? 2,
    pagesPerBrowser: options.pagesPerBrowser ?? 4,
    retireAfter: options.retireAfter ?? 200,
    navigationTimeoutMs: options.navigationTimeoutMs ?? 20_000,
    blockResources: options.blockResources ?? true,
    userAgent: options.userAgent,
    maxSessions: options.maxSessions ?? 16,
    idleCloseMs: options.idleCloseMs ?? 60_000,
    isForbidden: options.isForbiddenAddress ?? isForbiddenAddress,
    events: options.events ?? {},
  };
  const pageTimeoutMs = options.pageTimeoutMs ?? o.navigationTimeoutMs + 5_000;
  const settle: SettleOptions = { quietMs: QUIET_MS, noLinkQuietMs: NO_LINK_QUIET_MS, maxMs: options.settleMaxMs ?? 3_000, maxScrolls: options.maxScrolls ?? 5 };
  for (const [name, v] of [['maxBrowsers', o.maxBrowsers], ['pagesPerBrowser', o.pagesPerBrowser], ['retireAfter', o.retireAfter]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new OwlError('CONFIG_INVALID', `Browser pool option ${name} must be a positive integer`, { [name]: v });
  }

  const entries: Entry[] = [];
  let waiters: Array<() => void> = [];
  let closed = false;
  let lastCount = 0;

  const countRunning = (): number => entries.filter((e) => e.state === 'up' || e.state === 'closing').length;
  const emitCount = (): void => {
    const n = countRunning();
    if (n === lastCount) return;
    lastCount = n;
    o.events.onBrowserCount?.(n);
  };
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const remove = (e: Entry): void => {
    const i = entries.indexOf(e);
    if (i >= 0) entries.splice(i, 1);
  };

  const closeSession = async (s: Session): Promise<void> => {
    s.closed = true;
    await bounded(s.ready.then((c) => c.close()));
    await s.guard?.close();
  };

  const onDisconnected = (e: Entry): void => {
    if (e.state === 'closing' || e.state === 'gone') return;
    e.state = 'gone';
    remove(e);
    e.crashed.abort(new OwlError('BROWSER', 'The browser crashed or disconnected', { crash: true }));
    for (const s of e.sessions.values()) void s.guard?.close();
    e.sessions.clear();
    o.events.onRestart?.('crash');
    emitCount();
    wake();
  };

  const launch = (): Entry => {
    const e: Entry = {
      state: 'launching', browser: null, ready: null as unknown as Promise<Browser>, inFlight: 0, assigned: 0, retiring: false,
      crashed: new AbortController(), sessions: new Map(), parked: [], idleTimer: null,
    };
    e.ready = (async () => {
      const browser = await chromium.launch({ executablePath: o.executablePath, headless: true, args: [...CHROMIUM_ARGS], timeout: LAUNCH_TIMEOUT_MS });
      e.browser = browser;
      browser.on('disconnected', () => onDisconnected(e));
      if (closed || e.state !== 'launching') {
        await bounded(browser.close());
        throw new OwlError('BROWSER', 'The browser pool is closed');
      }
      e.state = 'up';
      emitCount();
      return browser;
    })();
    e.ready.catch(() => {
      if (e.state === 'launching') e.state = 'gone';
      remove(e);
      emitCount();
      wake();
    });
    entries.push(e);
    return e;
  };

  /**
   * Drains nothing itself: called once the last render of a retiring browser has finished, or when
   * it has been idle (reason null: closing an idle browser is not a restart).
   */
  const retire = async (e: Entry, reason: RestartReason | null = 'page_limit'): Promise<void> => {
    if (e.idleTimer) clearTimeout(e.idleTimer);
    e.idleTimer = null;
    e.state = 'closing';
    const sessions = [...e.sessions.values()];
    e.sessions.clear();
    if (e.browser) await bounded(e.browser.close());
    for (const s of sessions) await s.guard?.close();
    e.state = 'gone';
    remove(e);
    if (reason) o.events.onRestart?.(reason);
    emitCount();
    wake();
  };

  const waitForSlot = (signal: AbortSignal | undefined, url: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        waiters = waiters.filter((w) => w !== done);
        reject(cancelled(signal!, url));
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      waiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const acquire = async (signal: AbortSignal | undefined, url: string): Promise<Entry> => {
    for (;;) {
      if (closed) throw new OwlError('BROWSER', 'The browser pool is closed', { url });
      if (signal?.aborted) throw cancelled(signal, url);
      let best: Entry | null = null;
      for (const e of entries) {
        if ((e.state === 'up' || e.state === 'launching') && !e.retiring && e.inFlight < o.pagesPerBrowser && (best === null || e.inFlight < best.inFlight)) best = e;
      }
      if (best === null && entries.length < o.maxBrowsers) best = launch();
      if (best === null) {
        await waitForSlot(signal, url);
        continue;
      }
      if (best.idleTimer) clearTimeout(best.idleTimer);
      best.idleTimer = null;
      best.inFlight++;
      best.assigned++;
      if (best.assigned >= o.retireAfter) best.retiring = true;
      try {
        await best.ready;
      } catch (err) {
        best.inFlight--;
        throw toBrowserError(err, { url, viaProxy: false, refused: false });
      }
      return best;
    }
  };

  const release = (e: Entry): void => {
    e.inFlight--;
    if (e.retiring && e.inFlight === 0 && e.state === 'up') void retire(e);
    else if (e.inFlight === 0 && e.state === 'up' && !closed) {
      e.idleTimer = setTimeout(() => {
        e.idleTimer = null;
        if (e.inFlight === 0 && e.state === 'up' && !closed) void retire(e, null);
      }, o.idleCloseMs);
      e.idleTimer.unref();
    }
    wake();
  };

  const routeHandler = (allowPrivate: boolean) => (route: Route): Promise<void> => {
    const req = route.request();
    let verdict: Promise<void>;
    if (o.blockResources && BLOCKED_RESOURCE_TYPES.has(req.resourceType())) verdict = route.abort('blockedbyclient');
    else if (!allowPrivate && URL.canParse(req.url()) && hasForbiddenLiteralHost(new URL(req.url()), o.isForbidden)) verdict = route.abort('addressunreachable');
    else verdict = route.continue();
    // The tab may close while a request is paused; nothing is left to answer then.
    return verdict.catch(() => undefined);
  };

  const openSession = (e: Entry, req: RenderRequest): Session => {
    const key = req.session ? `${req.session}\u0000${req.allowPrivate ? 1 : 0}\u0000${req.proxy?.url ?? ''}` : null;
    if (key !== null) {
      const existing = e.sessions.get(key);
      if (existing) {
        existing.users++;
        existing.lastUsed = performance.now();
        return existing;
      }
    }
    const s: Session = { key, ready: null as unknown as Promise<BrowserContext>, closed: false, guard: null, users: 1, lastUsed: performance.now() };
    s.ready = (async () => {
      if (!req.allowPrivate) s.guard = await startGuardProxy({ upstream: req.proxy?.url ?? null, isForbidden: o.isForbidden });
      const proxy = s.guard ? { server: s.guard.server } : req.proxy ? toPlaywrightProxy(req.proxy.url) : undefined;
      const context = await e.browser!.newContext({ proxy, userAgent: o.userAgent, serviceWorkers: 'block', viewport: VIEWPORT });
      await context.addInitScript(TRACKER_SCRIPT);
      if (o.blockResources || !req.allowPrivate) await context.route('**/*', routeHandler(req.allowPrivate));
      return context;
    })();
    s.ready.catch(() => {
      if (key !== null && e.sessions.get(key) === s) e.sessions.delete(key);
      void s.guard?.close();
    });
    if (key !== null) e.sessions.set(key, s);
    return s;
  };

  const takeParked = (e: Entry, s: Session): Page | null => {
    for (let i = e.parked.length - 1; i >= 0; i--) {
      const p = e.parked[i]!;
      if (p.session !== s) continue;
      e.parked.splice(i, 1);
      if (!p.page.isClosed()) return p.page;
    }
    return null;
  };

  const park = (e: Entry, s: Session, page: Page): void => {
    e.parked = e.parked.filter((p) => !p.session.closed && !p.page.isClosed());
    e.parked.push({ session: s, page });
    while (e.parked.length > o.pagesPerBrowser) void bounded(e.parked.shift()!.page.close());
  };

  const closeSessionLater = (e: Entry, s: Session): Promise<void> => {
    s.users--;
    s.lastUsed = performance.now();
    if (s.key === null) return closeSession(s);
    if (e.sessions.size <= o.maxSessions) return Promise.resolve();
    const idle = [...e.sessions.values()].filter((x) => x.users === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    const evict = idle.slice(0, e.sessions.size - o.maxSessions);
    for (const x of evict) e.sessions.delete(x.key!);
    return Promise.all(evict.map(closeSession)).then(() => undefined);
  };

  const render = async (req: RenderRequest): Promise<RenderResult> => {
    checkRenderTarget(req.url, req.allowPrivate, o.isForbidden);
    const entry = await acquire(req.signal, req.url);
    const t0 = performance.now();
    const deadline = t0 + pageTimeoutMs;
    const stop = new AbortController();
    const holder: { page: Page | null; session: Session | null; refusalsBefore: number; tabCrashed: boolean } = { page: null, session: null, refusalsBefore: 0, tabCrashed: false };
    const timer = setTimeout(() => stop.abort(new OwlError('TIMEOUT', 'The render exceeded its page timeout', { url: req.url })), pageTimeoutMs);
    const onCallerAbort = (): void => stop.abort(cancelled(req.signal!, req.url));
    const onCrash = (): void => stop.abort(entry.crashed.signal.reason);
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    entry.crashed.signal.addEventListener('abort', onCrash, { once: true });
    if (req.signal?.aborted) onCallerAbort();
    if (entry.crashed.signal.aborted) onCrash();
    const stopped = new Promise<never>((_, reject) => {
      const fail = (): void => {
        if (holder.page) void bounded(holder.page.close());
        reject(stop.signal.reason);
      };
      if (stop.signal.aborted) fail();
      else stop.signal.addEventListener('abort', fail, { once: true });
    });
    stopped.catch(() => undefined);

    const work = (async () => {
      const session = openSession(entry, req);
      holder.session = session;
      try {
        const context = await session.ready;
        holder.refusalsBefore = session.guard?.refusals() ?? 0;
        if (stop.signal.aborted) throw stop.signal.reason;
        let page = takeParked(entry, session);
        page ??= await context.newPage();
        holder.page = page;
        const onTabCrash = (): void => {
          holder.tabCrashed = true;
          stop.abort(new OwlError('BROWSER', 'The tab crashed', { url: req.url, crash: true }));
        };
        let reusable = false;
        try {
          if (stop.signal.aborted) throw stop.signal.reason;
          page.on('crash', onTabCrash);
          const r = await renderInPage(page, req.url, { navigationTimeoutMs: o.navigationTimeoutMs, settle, deadline, screenshotPath: req.screenshotPath ?? null, viaProxy: Boolean(req.proxy) });
          reusable = !stop.signal.aborted;
          return r;
        } finally {
          page.off('crash', onTabCrash);
          // Only a tab that finished cleanly is kept; after any error it is closed with whatever it was doing.
          // Throw-away contexts (no session) close with their tab.
          if (reusable && session.key !== null && !session.closed && entry.state === 'up') park(entry, session, page);
          else await bounded(page.close());
        }
      } finally {
        await closeSessionLater(entry, session);
      }
    })();
    work.catch(() => undefined);

    let outcome: PageOutcome = 'error';
    try {
      const r = await Promise.race([work, stopped]);
      outcome = 'ok';
      return { url: req.url, ...r, fetchMs: performance.now() - t0 };
    } catch (err) {
      const refused = (holder.session?.guard?.refusals() ?? 0) > holder.refusalsBefore;
      const e = stop.signal.aborted && isOwlError(stop.signal.reason)
        ? stop.signal.reason
        : toBrowserError(err, { url: req.url, viaProxy: Boolean(req.proxy), refused });
      // Crashes are known from Playwright's events (the tab's 'crash', the browser's 'disconnected'),
      // never from a message. A protocol error can overtake the event by a turn: give it one.
      if (!holder.tabCrashed && !entry.crashed.signal.aborted) await new Promise((resolve) => setImmediate(resolve));
      const crashed = holder.tabCrashed || entry.crashed.signal.aborted || e.details.crash === true;
      outcome = e.code === 'TIMEOUT' ? 'timeout' : crashed ? 'crash' : 'error';
      if (crashed && e.code !== 'BROWSER') throw new OwlError('BROWSER', 'The browser crashed during the render', { url: req.url, crash: true }, { cause: e });
      throw e;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
      entry.crashed.signal.removeEventListener('abort', onCrash);
      // The tab's own cleanup must finish before the slot is reused, but a hung browser must not hold it.
      await bounded(work);
      release(entry);
      o.events.onPage?.(outcome);
    }
  };

  return {
    render,
    active: countRunning,
    close: async () => {
      if (closed) return;
      closed = true;
      wake();
      const all = [...entries];
      for (const e of all) if (e.state === 'up' || e.state === 'launching') e.state = 'closing';
      await Promise.all(all.map(async (e) => {
        if (e.idleTimer) clearTimeout(e.idleTimer);
        const sessions = [...e.sessions.values()];
        e.sessions.clear();
        await e.ready.then((b) => bounded(b.close()), () => undefined);
        for (const s of sessions) await s.guard?.close();
        e.state = 'gone';
        remove(e);
      }));
      emitCount();
    },
  };
}
