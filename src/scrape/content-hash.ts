/**
 * `contentHash`: a stable fingerprint of what a page says, to tell a changed page from a
 * re-fetched one. sha256, hex (64 characters), of a canonical JSON document:
 *   {"v":1,"main": MAIN, "data": DATA, "items": ITEMS}
 * - MAIN is the main content's text (the page's `text`, computed whenever text or markdown is
 *   asked for, or the text of a non-HTML document), Unicode NFC, whitespace runs collapsed to one
 *   space and trimmed: re-wrapping and indentation do not change it, nor does anything outside
 *   the main content (a clock, a "last visited" line in the footer, the navigation);
 * - when no main content was computed (a metadata-only or extract-only HTML page), MAIN is the
 *   cheap and stable stand-in {"title", "description", "canonical"} from the metadata;
 * - DATA and ITEMS are the extracted values (null without rules), with object keys sorted and every
 *   string that is an absolute http(s) URL stripped of tracking parameters (utm_*, gclid, fbclid,
 *   …) and its fragment, so links decorated per visit do not change it;
 * - JSON documents hash their parsed value (as DATA); PDFs without extracted text the SHA-256 of their bytes.
 */
import { hash } from 'node:crypto';
import { collapseWhitespace } from './values.ts';

const TRACKING = /^(?:utm_[a-z_]+|gclid|gclsrc|dclid|gbraid|wbraid|fbclid|msclkid|mc_cid|mc_eid|yclid|_ga|_gl|igshid|twclid|ttclid|li_fat_id|mkt_tok|_hsenc|_hsmi|vero_id|oly_anon_id|oly_enc_id|rb_clickid|s_cid|ref_src)$/i;

/** `url` without tracking parameters and fragment; other strings unchanged. */
export function stripTracking(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  // Nothing to strip without a query or a fragment: most URLs, and parsing each costs microseconds.
  if (value.indexOf('?') === -1 && value.indexOf('#') === -1) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  url.hash = '';
  if (url.search !== '') {
    for (const key of Array.from(url.searchParams.keys())) if (TRACKING.test(key)) url.searchParams.delete(key);
  }
  return url.href;
}

/** A canonical form: object keys sorted, URLs stripped of tracking; JSON.stringify of it is stable. */
function canonical(value: unknown): unknown {
  if (typeof value === 'string') return stripTracking(value);
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value ?? null;
}

export function normaliseForHash(text: string): string {
  return collapseWhitespace(text.normalize('NFC'));
}

export interface HashInput {
  /** The main content's text, or null when none was computed. */
  mainText: string | null;
  /** Used when mainText is null. */
  fallback?: { title: string | null; description: string | null; canonical: string | null };
  data?: unknown;
  items?: unknown;
}

/** `canonical(fallback)` written out: its keys in sorted order, each string stripped of tracking (every page without main content pays for this). */
function canonicalFallback(f: NonNullable<HashInput['fallback']>): unknown {
  const strip = (v: string | null) => (v === null ? null : stripTracking(v));
  return { canonical: strip(f.canonical), description: strip(f.description), title: strip(f.title) };
}

/** JSON of a fallback string as canonical() and JSON.stringify would write it. */
function fallbackJson(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(stripTracking(v));
}

export function contentHash(input: HashInput): string {
  const f = input.fallback;
  if (input.mainText === null && f !== undefined && (input.data ?? null) === null && (input.items ?? null) === null) {
    // The document of every page without main content or extracted data (a metadata-only crawl),
    // written out: the same bytes as the general path below, without building and walking objects.
    const text = `{"v":1,"main":{"canonical":${fallbackJson(f.canonical)},"description":${fallbackJson(f.description)},"title":${fallbackJson(f.title)}},"data":null,"items":null}`;
    return hash('sha256', text, 'hex');
  }
  const main = input.mainText !== null ? normaliseForHash(input.mainText) : input.fallback === undefined ? null : canonicalFallback(input.fallback);
  const doc = { v: 1, main, data: canonical(input.data ?? null), items: canonical(input.items ?? null) };
  // The one-shot hash: no Hash object per page (half the cost of createHash().update().digest() on a small record).
  return hash('sha256', JSON.stringify(doc), 'hex');
}

export function bytesHash(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

/** Hash of the extracted data and items alone (a schedule tells a data change from a text change with it). */
export function dataHash(data: unknown, items: unknown): string {
  const doc = { v: 1, data: canonical(data ?? null), items: canonical(items ?? null) };
  return hash('sha256', JSON.stringify(doc), 'hex');
}
