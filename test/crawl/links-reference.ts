/**
 * Reference definition of extractPage on htmlparser2's Parser and `new URL`, used only by tests
 * to prove the fast scanner in src/crawl/links.ts equal. Deliberately written without any of
 * the fast code (no shared helpers), so a bug in one is not copied into the other.
 *
 * Rules:
 * - links: `href` of every <a>/<area> start tag (first `href` attribute wins), in order;
 * - base: the first <base> with an `href`, resolved against the page URL (the page URL when
 *   that fails); it applies to all links, also those before it;
 * - each href resolved with `new URL(href, base)`, kept when http(s), fragment dropped, deduped;
 * - nofollow: the resolved links none of whose anchors lacks a `rel` token `nofollow` (tokens split
 *   on ASCII whitespace, compared ASCII case-insensitively); absent when empty;
 * - title: the text of the first <title> element until its end tag, ASCII whitespace collapsed
 *   and trimmed, null when empty. A self-closing `<title/>` counts as an empty first title
 *   (htmlparser2 would leave it open and run its text across the following markup).
 * - head (only with `{metadata: true}`): `lang` of the first <html> that has one; every <meta>
 *   with `content` (name, property, http-equiv or null); every <link> with `rel` and `href`; the
 *   text of every <script> whose `type` is application/ld+json (case, spaces and parameters
 *   ignored) up to its end tag — a self-closing one gives no block; the base as an href.
 */
import { Parser } from 'htmlparser2';
import type { ExtractedPage, PageHeadTags } from '../../src/crawl/types.ts';

class SelfClosingAwareParser extends Parser {
  /** True while htmlparser2 handles a start tag written `<x ... />`. */
  selfClosing = false;

  override onselfclosingtag(endIndex: number): void {
    this.selfClosing = true;
    try {
      super.onselfclosingtag(endIndex);
    } finally {
      this.selfClosing = false;
    }
  }
}

function attr(attribs: Record<string, string>, name: string): string | null {
  return Object.hasOwn(attribs, name) ? attribs[name]! : null;
}

export function referenceExtractPage(html: string, pageUrl: string, opts?: { metadata?: boolean }): ExtractedPage {
  const anchors: Array<{ href: string; nofollow: boolean }> = [];
  let baseHref: string | null = null;
  let titleState: 'before' | 'inside' | 'done' = 'before';
  let titleText = '';
  const head: PageHeadTags = { lang: null, baseUrl: null, metas: [], links: [], jsonLd: [] };
  let jsonLdText: string | null = null;
  const parser: SelfClosingAwareParser = new SelfClosingAwareParser({
    onopentag(name, attribs) {
      const href = attr(attribs, 'href');
      if ((name === 'a' || name === 'area') && href !== null) {
        const rel = attr(attribs, 'rel');
        const tokens = rel === null ? [] : rel.split(/[\t\n\f\r ]+/).map((t) => t.replace(/[A-Z]/g, (ch) => ch.toLowerCase()));
        anchors.push({ href, nofollow: tokens.includes('nofollow') });
      }
      if (name === 'base' && href !== null && baseHref === null) baseHref = href;
      if (name === 'title' && titleState === 'before') titleState = parser.selfClosing ? 'done' : 'inside';
      if (name === 'html' && head.lang === null) head.lang = attr(attribs, 'lang');
      if (name === 'meta') {
        const content = attr(attribs, 'content');
        if (content !== null) head.metas.push({ name: attr(attribs, 'name'), property: attr(attribs, 'property'), httpEquiv: attr(attribs, 'http-equiv'), content });
      }
      if (name === 'link') {
        const rel = attr(attribs, 'rel');
        if (rel !== null && href !== null) head.links.push({ rel, href });
      }
      if (name === 'script' && !parser.selfClosing) {
        const type = attr(attribs, 'type');
        const media = type === null ? '' : type.split(';')[0]!.trim().toLowerCase();
        jsonLdText = media === 'application/ld+json' ? '' : null;
      }
    },
    ontext(text) {
      if (titleState === 'inside') titleText += text;
      if (jsonLdText !== null) jsonLdText += text;
    },
    onclosetag(name) {
      if (name === 'title' && titleState === 'inside') titleState = 'done';
      if (name === 'script' && jsonLdText !== null) {
        head.jsonLd.push(jsonLdText);
        jsonLdText = null;
      }
    },
  });
  parser.write(html);
  parser.end();
  // htmlparser2 leaves an unterminated script open at the end: its text still counts.
  if (jsonLdText !== null) head.jsonLd.push(jsonLdText);

  const collapsed = titleText.replace(/[\t\n\f\r ]+/g, ' ').trim();
  const pageBase = tryUrl(pageUrl);
  const base = baseHref === null ? pageBase : (tryUrl(baseHref, pageBase ?? undefined) ?? pageBase);
  const followed: string[] = [];
  const marked: string[] = [];
  const links: string[] = [];
  for (const { href, nofollow } of anchors) {
    const url = tryUrl(href, base ?? undefined);
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    url.hash = '';
    if (!links.includes(url.href)) links.push(url.href);
    (nofollow ? marked : followed).push(url.href);
  }
  const page: ExtractedPage = { links, title: collapsed === '' ? null : collapsed };
  const nofollow = marked.filter((u, k) => marked.indexOf(u) === k && !followed.includes(u));
  if (nofollow.length > 0) page.nofollow = nofollow;
  if (opts?.metadata === true) {
    head.baseUrl = base === null ? null : base.href;
    page.head = head;
  }
  return page;
}

function tryUrl(raw: string, base?: URL): URL | null {
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}
