/**
 * A page's metadata from the link scanner's head tags (no DOM is built: a metadata-only crawl
 * keeps the plain crawl's speed). Sources, first found wins:
 * - title: the document's first <title>;
 * - description: meta name=description, og:description, twitter:description;
 * - lang: <html lang>, meta http-equiv=content-language (its first language);
 * - canonical: <link rel=canonical href>, resolved against the document base;
 * - siteName: og:site_name, meta name=application-name;
 * - author: meta name=author, article:author, the first JSON-LD `author` (its name);
 * - publishedTime: article:published_time, meta name=date|dc.date|dcterms.created|pubdate,
 *   the first JSON-LD `datePublished` — the string as the page wrote it;
 * - openGraph: every `og:*` meta (key without `og:`) and `article:*` (key kept whole);
 *   twitter: every `twitter:*` meta (key without `twitter:`), from name= or property=;
 *   a key repeated (several og:image) gives an array of its values in page order;
 * - jsonLd: every <script type=application/ld+json> block parsed (an HTML comment or CDATA
 *   wrapper around it is tolerated); jsonLdInvalid counts blocks that did not parse;
 * - robots: the meta robots directives (all `<meta name=robots>` joined), plus an X-Robots-Tag
 *   header when given (directives without a user-agent prefix); `none` means noindex + nofollow.
 * Strings are whitespace-collapsed and cut at METADATA_STRING_MAX characters.
 */
import type { PageHeadTags } from '../crawl/types.ts';
import { collapseWhitespace } from './values.ts';

export interface RobotsMeta {
  /** The directives as written (meta contents joined with ", "), or null without any. */
  content: string | null;
  noindex: boolean;
  nofollow: boolean;
}

export interface PageMetadata {
  title: string | null;
  description: string | null;
  lang: string | null;
  canonical: string | null;
  siteName: string | null;
  author: string | null;
  publishedTime: string | null;
  openGraph: Record<string, string | string[]>;
  twitter: Record<string, string | string[]>;
  jsonLd: unknown[];
  jsonLdInvalid: number;
  robots: RobotsMeta;
}

/** Longest metadata string kept (characters). */
export const METADATA_STRING_MAX = 4096;

function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = collapseWhitespace(value);
  if (v === '') return null;
  return v.length > METADATA_STRING_MAX ? v.slice(0, METADATA_STRING_MAX) : v;
}

/** JSON-LD text parsed; an HTML comment / CDATA wrapper (old CMS habits) is tolerated. */
export function parseJsonLd(raw: string): { ok: true; value: unknown } | { ok: false } {
  let text = raw.trim();
  if (text === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    text = text
      .replace(/^(?:<!--|\/\/\s*<!\[CDATA\[|<!\[CDATA\[)\s*/, '')
      .replace(/\s*(?:-->|\/\/\s*\]\]>|\]\]>)$/, '')
      .trim();
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  }
}

function addTo(map: Record<string, string | string[]>, key: string, value: string): void {
  if (key === '' || key === '__proto__') return;
  const prev = Object.hasOwn(map, key) ? map[key] : undefined;
  if (prev === undefined) map[key] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else map[key] = [prev, value];
}

function first(map: Record<string, string | string[]>, key: string): string | null {
  const v = Object.hasOwn(map, key) ? map[key] : undefined;
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}

/** Directives of a robots meta or header value, lower-case (`noindex`, `max-snippet:20`). */
function directives(content: string): string[] {
  return content
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== '');
}

/** An X-Robots-Tag value's directives meant for every crawler (`googlebot: noindex` is not). */
function headerDirectives(header: string): string[] {
  return directives(header).filter((d) => {
    const colon = d.indexOf(':');
    // `max-snippet:20` and `unavailable_after: …` are directives; `somebot: noindex` is a UA prefix.
    if (colon === -1) return true;
    const head = d.slice(0, colon).trim();
    return head === 'max-snippet' || head === 'max-image-preview' || head === 'max-video-preview' || head === 'unavailable_after';
  });
}

/** The value at `key` of the first JSON-LD object (in @graph or arrays too) that has one. */
function fromJsonLd(blocks: unknown[], key: string, pick: (v: unknown) => string | null): string | null {
  if (blocks.length === 0) return null;
  const stack: unknown[] = [...blocks].reverse();
  let visited = 0;
  while (stack.length > 0 && visited++ < 1000) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let k = node.length - 1; k >= 0; k--) stack.push(node[k]);
    } else if (typeof node === 'object' && node !== null) {
      const obj = node as Record<string, unknown>;
      if (obj[key] !== undefined) {
        const v = pick(obj[key]);
        if (v !== null) return v;
      }
      if (Array.isArray(obj['@graph'])) stack.push(obj['@graph']);
    }
  }
  return null;
}

function nameOf(v: unknown): string | null {
  if (typeof v === 'string') return clean(v);
  if (Array.isArray(v)) return v.length > 0 ? nameOf(v[0]) : null;
  if (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string') return clean((v as { name: string }).name);
  return null;
}

function stringOf(v: unknown): string | null {
  return typeof v === 'string' ? clean(v) : null;
}

/**
 * Builds the metadata from the scanner's head tags (`extractPage(html, url, {metadata: true})`)
 * and title. `xRobotsTag`: the response's X-Robots-Tag header, when the caller has it.
 */
export function buildMetadata(title: string | null, head: PageHeadTags, xRobotsTag?: string): PageMetadata {
  const named = new Map<string, string>();
  const openGraph: Record<string, string | string[]> = {};
  const twitter: Record<string, string | string[]> = {};
  const robotsContents: string[] = [];
  let contentLanguage: string | null = null;
  for (const meta of head.metas) {
    const content = clean(meta.content);
    const name = meta.name?.trim().toLowerCase() ?? null;
    const property = meta.property?.trim().toLowerCase() ?? null;
    if (name === 'robots' && meta.content.trim() !== '') robotsContents.push(meta.content.trim());
    if (content === null) continue;
    if (name !== null && name !== '' && !named.has(name)) named.set(name, content);
    if (meta.httpEquiv !== null && contentLanguage === null && meta.httpEquiv.trim().toLowerCase() === 'content-language') {
      contentLanguage = clean(content.split(',')[0]);
    }
    // OpenGraph belongs in property=, but many pages write name=; Twitter the other way round.
    const key = property ?? name;
    if (key === null) continue;
    if (key.startsWith('og:')) addTo(openGraph, key.slice(3), content);
    else if (key.startsWith('article:')) addTo(openGraph, key, content);
    else if (key.startsWith('twitter:')) addTo(twitter, key.slice(8), content);
  }

  const jsonLd: unknown[] = [];
  let jsonLdInvalid = 0;
  for (const raw of head.jsonLd) {
    const parsed = parseJsonLd(raw);
    if (parsed.ok) jsonLd.push(parsed.value);
    else jsonLdInvalid++;
  }

  let canonical: string | null = null;
  for (const link of head.links) {
    if (!link.rel.toLowerCase().split(/[\t\n\f\r ]+/).includes('canonical')) continue;
    try {
      const url = head.baseUrl === null ? new URL(link.href.trim()) : new URL(link.href.trim(), head.baseUrl);
      if (url.protocol === 'http:' || url.protocol === 'https:') {
        canonical = url.href;
        break;
      }
    } catch {
      // an unparsable canonical is no canonical; try the next one
    }
  }

  const robotsDirectives = robotsContents.length === 0 ? [] : robotsContents.flatMap(directives);
  if (xRobotsTag !== undefined) robotsDirectives.push(...headerDirectives(xRobotsTag));
  const none = robotsDirectives.includes('none');

  return {
    title,
    description: named.get('description') ?? first(openGraph, 'description') ?? first(twitter, 'description'),
    lang: clean(head.lang) ?? contentLanguage,
    canonical,
    siteName: first(openGraph, 'site_name') ?? named.get('application-name') ?? null,
    author: named.get('author') ?? first(openGraph, 'article:author') ?? fromJsonLd(jsonLd, 'author', nameOf),
    publishedTime:
      first(openGraph, 'article:published_time') ??
      named.get('date') ??
      named.get('dc.date') ??
      named.get('dcterms.created') ??
      named.get('pubdate') ??
      fromJsonLd(jsonLd, 'datePublished', stringOf),
    openGraph,
    twitter,
    jsonLd,
    jsonLdInvalid,
    robots: {
      content: robotsContents.length === 0 ? null : robotsContents.join(', '),
      noindex: none || robotsDirectives.includes('noindex'),
      nofollow: none || robotsDirectives.includes('nofollow'),
    },
  };
}

const jsonString = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

function jsonObject(o: Record<string, unknown>): string {
  for (const _ in o) return JSON.stringify(o);
  return '{}';
}

/**
 * JSON.stringify(m), written field by field: every page's record holds its metadata, and the
 * generic walk over these fifteen keys costs twice as much (580 against 290 ns with the UTF-8
 * length, on a bench page). A field added to PageMetadata must be added here too:
 * test/scrape/scrape-page.test.ts compares the two on every page it scrapes, one of which fills every field.
 */
export function metadataJson(m: PageMetadata): string {
  const r = m.robots;
  return (
    `{"title":${jsonString(m.title)},"description":${jsonString(m.description)},"lang":${jsonString(m.lang)},"canonical":${jsonString(m.canonical)},` +
    `"siteName":${jsonString(m.siteName)},"author":${jsonString(m.author)},"publishedTime":${jsonString(m.publishedTime)},` +
    `"openGraph":${jsonObject(m.openGraph)},"twitter":${jsonObject(m.twitter)},"jsonLd":${m.jsonLd.length === 0 ? '[]' : JSON.stringify(m.jsonLd)},` +
    `"jsonLdInvalid":${m.jsonLdInvalid},"robots":{"content":${jsonString(r.content)},"noindex":${r.noindex},"nofollow":${r.nofollow}}}`
  );
}

/** Metadata of a document that is not HTML (no head tags): its title, if any, and nothing else. */
export function emptyMetadata(title: string | null = null): PageMetadata {
  return {
    title,
    description: null,
    lang: null,
    canonical: null,
    siteName: null,
    author: null,
    publishedTime: null,
    openGraph: {},
    twitter: {},
    jsonLd: [],
    jsonLdInvalid: 0,
    robots: { content: null, noindex: false, nofollow: false },
  };
}
