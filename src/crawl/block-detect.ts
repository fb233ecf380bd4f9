/**
 * Block, rate-limit and captcha/challenge detection. Runs on every fetched page, so it scans at
 * most the first SCAN_LIMIT characters of a body with patterns compiled once at load.
 *
 * Precision matters as much as recall (operators are paged on captcha spikes). The rule:
 * 1. A vendor interstitial marker (`STRONG`: strings found only on a vendor's challenge or denial
 *    page, never in the sensor scripts those vendors inject into normal pages) decides alone on a
 *    non-2xx answer; on a 2xx answer the page must also carry a challenge title or be
 *    challenge-shaped, so an article quoting such a marker is not flagged.
 * 2. Otherwise a page is a captcha only when it is challenge-shaped, asks the visitor to prove
 *    being human (challenge title or phrase) and has no field to type into. Its vendor is the
 *    embedded widget (reCAPTCHA, hCaptcha, Turnstile) or `generic`. Widgets alone never decide:
 *    they sit on ordinary login, contact and newsletter forms.
 * "Challenge-shaped" = the whole body fits in the scan window, little visible text, few links.
 */
import type { BlockVerdict } from './types.ts';

export interface BlockInput {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string | null;
  /** Clock for HTTP-date Retry-After values (default Date.now()). */
  now?: number;
}

export type CaptchaVendor =
  | 'recaptcha'
  | 'hcaptcha'
  | 'cloudflare'
  | 'turnstile'
  | 'datadome'
  | 'perimeterx'
  | 'aws_waf'
  | 'akamai'
  | 'imperva'
  | 'generic';

/** The fixed label set of `vendor` (bounded metric labels). */
export const CAPTCHA_VENDORS: readonly CaptchaVendor[] = [
  'recaptcha', 'hcaptcha', 'cloudflare', 'turnstile', 'datadome', 'perimeterx', 'aws_waf', 'akamai', 'imperva', 'generic',
];

/** Characters of a body that are looked at. Challenge pages are far smaller than this. */
export const SCAN_LIMIT = 64 * 1024;
/** Most visible characters a challenge-shaped page has (they show a sentence or two, a widget, a footer). */
const MAX_CHALLENGE_TEXT = 2_000;
/** Most links a challenge-shaped page has (privacy, help, vendor). */
const MAX_CHALLENGE_LINKS = 12;

/**
 * Literal, lower-case markers. They are searched in one pass (STRONG_ANY) over the lower-cased
 * window; when several vendors match, the earlier row wins.
 */
const STRONG: ReadonlyArray<readonly [CaptchaVendor, readonly string[]]> = [
  ['cloudflare', ['window._cf_chl_opt', '/cdn-cgi/challenge-platform/h/', 'cf-browser-verification', 'jschl-answer', 'jschl_vc', 'cf-challenge-running', 'cf_captcha_kind', 'cf-captcha-container', 'cf-please-wait']],
  ['datadome', ['captcha-delivery.com']],
  ['perimeterx', ['id="px-captcha"', "id='px-captcha'", 'captcha.px-cdn.net', 'captcha.px-cloud.net', 'window._pxblockedurl', 'px-captcha-error']],
  ['aws_waf', ['window.gokuprops', 'awswafcaptcha', 'captchascript.rendercaptcha', '.captcha.awswaf.com']],
  ['akamai', ['errors.edgesuite.net', 'reference&#32;&#35;', 'sec-if-cpt-container', '/_sec/cp_challenge/', 'bm-verify']],
  // `_Incapsula_Resource?SWJIYLWA=` is the sensor on normal pages; `?CWUDNSAI=` is the block iframe.
  ['imperva', ['incapsula incident id', '_incapsula_resource?cwudnsai', 'distil_r_captcha', '/distil_r_blocked.html']],
  ['recaptcha', ['our systems have detected unusual traffic from your computer network']],
];
const VENDOR_OF_NEEDLE: ReadonlyMap<string, CaptchaVendor> = new Map(STRONG.flatMap(([v, needles]) => needles.map((n) => [n, v] as const)));
const VENDOR_RANK: ReadonlyMap<CaptchaVendor, number> = new Map(STRONG.map(([v], i) => [v, i]));
/** All needles in one case-sensitive alternation over the lower-cased window: one pass, not one per needle. */
const STRONG_ANY = new RegExp([...VENDOR_OF_NEEDLE.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
/** Titles that only Cloudflare's interstitial uses. */
const CLOUDFLARE_TITLE = /^just a moment\.{0,3}$/;

const WIDGETS: ReadonlyArray<readonly [CaptchaVendor, RegExp]> = [
  ['turnstile', /challenges\.cloudflare\.com\/turnstile|class=["'][^"']*\bcf-turnstile\b/i],
  ['hcaptcha', /(?:js|newassets|assets|api)\.hcaptcha\.com|hcaptcha\.com\/1\/api\.js|class=["'][^"']*\bh-captcha\b/i],
  // reCAPTCHA v3 (`api.js?render=<key>`) is invisible scoring loaded on every page, not a challenge.
  ['recaptcha', /recaptcha\/(?:api2|enterprise)\/(?:anchor|bframe)|(?:google\.com|recaptcha\.net)\/recaptcha\/(?:api|enterprise)\.js(?![^"'\s>]*render=(?!explicit))|class=["'][^"']*\bg-recaptcha\b/i],
];

/** Frame URLs seen by the browser: the widget's own document, so a plain host check suffices. */
const FRAME_WIDGETS: ReadonlyArray<readonly [CaptchaVendor, RegExp]> = [
  ['datadome', /^https?:\/\/[^/]*captcha-delivery\.com\//i],
  ['perimeterx', /^https?:\/\/captcha\.px-(?:cdn|cloud)\.net\//i],
  ['turnstile', /^https?:\/\/challenges\.cloudflare\.com\//i],
  ['hcaptcha', /^https?:\/\/[^/]*hcaptcha\.com\//i],
  ['recaptcha', /^https?:\/\/(?:www\.)?(?:google\.com|recaptcha\.net)\/recaptcha\//i],
];
/** Frames of these vendors are only served on a block page, so they decide on their own. */
const STRONG_FRAME_VENDORS: ReadonlySet<CaptchaVendor> = new Set(['datadome', 'perimeterx']);

const CHALLENGE_TITLE =
  /^(?:just a moment\.{0,3}|pardon our interruption\.{0,3}|one more step|security check|human verification|are you a (?:robot|human)\??|(?:re)?captcha(?: challenge| verification)?|verify(?:ing)? (?:that )?you are (?:a )?human\.{0,3}|please verify you are (?:a )?human\.?|bot verification|robot check|checking your browser\.{0,3}|ddos-guard|access to this page has been denied\.?)$/i;

/** Tested on the visible text, where entities are already decoded. */
const CHALLENGE_PHRASE =
  /verify(?:ing)? (?:that )?you(?: are|'re) (?:a )?human|are you a robot\?|(?:confirm|prove) (?:that )?you(?: are|'re) not a robot|i'?m not a robot|unusual traffic from your (?:computer )?network|checking (?:if the site connection is secure|your browser before accessing)|enable javascript and cookies to continue|press (?:&|and) hold|complete the security check|please (?:solve|complete) (?:the |this )?captcha|performing security verification/i;

const TITLE = /<title[^>]*>([\s\S]{0,300}?)<\/title>/i;
// One alternative per element: a back-reference (`<\/\1>`) makes V8 about three times slower here.
const INVISIBLE = /<script\b[\s\S]*?<\/script\s*>|<style\b[\s\S]*?<\/style\s*>|<noscript\b[\s\S]*?<\/noscript\s*>|<template\b[\s\S]*?<\/template\s*>|<svg\b[\s\S]*?<\/svg\s*>|<!--[\s\S]*?-->/gi;
const TAG = /<[^>]*>/g;
const APOSTROPHE = /&(?:#39|#x27|rsquo|apos);|’/gi;
const AMPERSAND = /&amp;/gi;
const ENTITY = /&(?:#\d+|#x[0-9a-f]+|[a-z]+);/gi;
const SPACE = /\s+/g;
const LINK = /<a\s[^>]*href\s*=/gi;
/** Any field a visitor types into; captcha widgets' own hidden `*-captcha-response` textareas excluded. */
const TYPED_FIELD = /<textarea\b(?![^>]*captcha-response)|<input\b(?![^>]*\btype\s*=\s*["']?(?:hidden|submit|button|checkbox|radio|image|reset)\b)[^>]*>/i;

/** Visible text of a page, entities that phrases rely on decoded, whitespace collapsed. */
function visibleText(html: string): string {
  return html
    .replace(INVISIBLE, ' ')
    .replace(TAG, ' ')
    .replace(APOSTROPHE, "'")
    .replace(AMPERSAND, '&')
    .replace(ENTITY, ' ')
    .replace(SPACE, ' ');
}

/** The visible text when the page is challenge-shaped, else null. */
function challengeShapedText(scan: string, complete: boolean): string | null {
  if (!complete) return null;
  LINK.lastIndex = 0;
  for (let links = 0; LINK.exec(scan) !== null; ) if (++links > MAX_CHALLENGE_LINKS) return null;
  const text = visibleText(scan);
  return text.length <= MAX_CHALLENGE_TEXT ? text : null;
}

function firstMatch(table: ReadonlyArray<readonly [CaptchaVendor, RegExp]>, text: string): CaptchaVendor | null {
  for (const [vendor, re] of table) if (re.test(text)) return vendor;
  return null;
}

function strongVendor(lower: string, title: string): CaptchaVendor | null {
  let best: CaptchaVendor | null = null;
  for (const m of lower.matchAll(STRONG_ANY)) {
    const v = VENDOR_OF_NEEDLE.get(m[0])!;
    if (best === null || VENDOR_RANK.get(v)! < VENDOR_RANK.get(best)!) best = v;
    if (best === STRONG[0]![0]) break;
  }
  return best ?? (CLOUDFLARE_TITLE.test(title) ? 'cloudflare' : null);
}

function headerVendor(headers: Record<string, string>): CaptchaVendor | null {
  if (/\bchallenge\b/i.test(headers['cf-mitigated'] ?? '')) return 'cloudflare';
  if (/\b(?:captcha|challenge)\b/i.test(headers['x-amzn-waf-action'] ?? '')) return 'aws_waf';
  return null;
}

function findCaptcha(status: number, html: string, frameUrls: readonly string[]): CaptchaVendor | null {
  const complete = html.length <= SCAN_LIMIT;
  const scan = complete ? html : html.slice(0, SCAN_LIMIT);

  let frameVendor: CaptchaVendor | null = null;
  for (const url of frameUrls) {
    frameVendor = firstMatch(FRAME_WIDGETS, url);
    if (frameVendor) break;
  }

  const rawTitle = TITLE.exec(scan)?.[1];
  const title = rawTitle === undefined ? '' : visibleText(rawTitle).trim().toLowerCase();
  const titled = CHALLENGE_TITLE.test(title);
  const is2xx = status >= 200 && status < 300;

  // Ordered cheapest first: most pages are 2xx, untitled and fail the link count at once, so
  // they never pay for the marker scan. `text` is the visible text of a challenge-shaped page.
  const shapeFirst = is2xx && !titled;
  let text = shapeFirst ? challengeShapedText(scan, complete) : null;
  if (!shapeFirst || text !== null) {
    const strong = strongVendor(scan.toLowerCase(), title) ?? (frameVendor && STRONG_FRAME_VENDORS.has(frameVendor) ? frameVendor : null);
    if (strong) return strong;
  }
  if (!shapeFirst) text = challengeShapedText(scan, complete);
  if (text === null || (!titled && !CHALLENGE_PHRASE.test(text)) || TYPED_FIELD.test(scan)) return null;
  return firstMatch(WIDGETS, scan) ?? frameVendor ?? 'generic';
}

/** Retry-After (delta-seconds or HTTP-date) → ms from now, null when absent/invalid, never negative. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const ms = Number(v) * 1000;
    return Number.isSafeInteger(ms) ? ms : null;
  }
  // Date.parse accepts many non-HTTP strings ("5.5", "1"); an HTTP-date always starts with a day name.
  if (!/^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i.test(v)) return null;
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - now);
}

export function detectBlock(input: BlockInput): BlockVerdict {
  const { status, headers } = input;
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: parseRetryAfter(headers['retry-after'], input.now) };
  const vendor = headerVendor(headers) ?? (input.body ? findCaptcha(status, input.body, []) : null);
  if (vendor) return { kind: 'captcha', vendor };
  if (status === 403) return { kind: 'blocked' };
  return null;
}

/** For the browser path: decide from the rendered DOM's HTML plus the URLs of its frames. */
export function detectBlockInDom(input: { status: number; html: string; frameUrls: string[] }): BlockVerdict {
  if (input.status === 429) return { kind: 'rate_limited', retryAfterMs: null };
  const vendor = findCaptcha(input.status, input.html, input.frameUrls);
  if (vendor) return { kind: 'captcha', vendor };
  if (input.status === 403) return { kind: 'blocked' };
  return null;
}
