/**
 * One render in an open tab: navigate, let the page settle, scroll, read the DOM, judge blocks.
 * The pool owns the tab's life (timeouts, crash, closing); this module only drives it.
 */
import type { Page, Response } from 'playwright-core';
import { OwlError } from '../../errors.ts';
import { detectBlockInDom } from '../block-detect.ts';
import { normalizeTitle } from '../links.ts';
import type { BlockVerdict } from '../types.ts';
import { normalizeUrl } from '../url.ts';
import { GUARD_HEADER } from './guard-proxy.ts';
import { settleAndSnapshotScript, type PageSnapshot, type SettleOptions } from './page-scripts.ts';

export interface PageRenderOptions {
  navigationTimeoutMs: number;
  settle: SettleOptions;
  /** `performance.now()` by which the pool gives up on the page; settling stops short of it. */
  deadline: number;
  screenshotPath: string | null;
  /** The session goes through an upstream proxy (connection failures are the proxy's). */
  viaProxy: boolean;
}

export interface PageRender {
  finalUrl: string;
  status: number;
  /** Lower-case header names of the main document's response. */
  headers: Record<string, string>;
  /** `document.documentElement.outerHTML` after scripts, late content and scrolling. */
  html: string;
  title: string | null;
  /** Absolute, normalised http(s) links of the rendered DOM, fragments dropped, de-duplicated. */
  links: string[];
  /** UTF-8 size of `html`. */
  bytes: number;
  /** http(s) URLs of the page's frames (loaded or named by an iframe's src). */
  frameUrls: string[];
  blocked: BlockVerdict;
  /** Where a screenshot of a blocked page was written, else null. */
  screenshotPath: string | null;
}

/** A script navigating away mid-read destroys the context; the new document is read instead. */
const MAX_READ_ATTEMPTS = 3;
/** Time kept back from the page deadline for reading the DOM and closing the tab. */
const READ_MARGIN_MS = 300;

function uniqueLinks(hrefs: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const h of hrefs) {
    const u = normalizeUrl(h);
    if (u !== null) seen.add(u);
  }
  return [...seen];
}

function frameUrlsOf(page: Page, iframeSrcs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    const u = f.url();
    if (/^https?:/i.test(u)) out.add(u);
  }
  for (const s of iframeSrcs) if (/^https?:/i.test(s)) out.add(s);
  return [...out];
}

/** The guard proxy answered instead of the target: a refusal or a connection it could not make. */
function throwIfGuardAnswered(response: Response, url: string, viaProxy: boolean): void {
  const guard = response.headers()[GUARD_HEADER];
  if (guard === undefined) return;
  const details = { url, finalUrl: response.url() };
  if (guard === 'refused') throw new OwlError('TARGET_FORBIDDEN', undefined, details);
  throw new OwlError(viaProxy ? 'PROXY' : 'NETWORK', `The connection to ${new URL(response.url()).host} failed`, details);
}

/** Drives `page` (fresh or reused: every listener it adds is removed before it returns). */
export async function renderInPage(page: Page, url: string, o: PageRenderOptions): Promise<PageRender> {
  let mainResponse: Response | null = null;
  const onResponse = (r: Response): void => {
    if (r.frame() === page.mainFrame() && r.request().isNavigationRequest()) mainResponse = r;
  };
  page.on('response', onResponse);
  try {
    return await navigateAndRead(page, url, o, () => mainResponse);
  } finally {
    page.off('response', onResponse);
  }
}

async function navigateAndRead(page: Page, url: string, o: PageRenderOptions, lastMainResponse: () => Response | null): Promise<PageRender> {
  const first = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: o.navigationTimeoutMs });
  if (first === null) throw new OwlError('BROWSER', 'The navigation produced no response', { url });
  throwIfGuardAnswered(first, url, o.viaProxy);

  let snap: PageSnapshot | null = null;
  for (let attempt = 1; snap === null; attempt++) {
    try {
      const maxMs = Math.max(0, Math.min(o.settle.maxMs, o.deadline - performance.now() - READ_MARGIN_MS));
      snap = (await page.evaluate(settleAndSnapshotScript({ ...o.settle, maxMs }))) as PageSnapshot;
    } catch (err) {
      const navigatedAway = err instanceof Error && /Execution context was destroyed|navigat/i.test(err.message);
      if (!navigatedAway || attempt >= MAX_READ_ATTEMPTS) throw err;
      await page.waitForLoadState('domcontentloaded', { timeout: o.navigationTimeoutMs });
    }
  }

  const response: Response = lastMainResponse() ?? first;
  throwIfGuardAnswered(response, url, o.viaProxy);
  const headers = response.headers();
  const status = response.status();
  const frameUrls = frameUrlsOf(page, snap.iframeSrcs);
  const blocked = detectBlockInDom({ status, html: snap.html, frameUrls });
  let screenshotPath: string | null = null;
  if (blocked !== null && o.screenshotPath) {
    await page.screenshot({ path: o.screenshotPath, type: 'png', fullPage: false });
    screenshotPath = o.screenshotPath;
  }
  return {
    finalUrl: page.url(),
    status,
    headers,
    html: snap.html,
    title: normalizeTitle(snap.title),
    links: uniqueLinks(snap.hrefs),
    bytes: Buffer.byteLength(snap.html, 'utf8'),
    frameUrls,
    blocked,
    screenshotPath,
  };
}
