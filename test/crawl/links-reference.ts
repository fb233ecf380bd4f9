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
 * - title: the text of the first <title> element until its end tag, ASCII whitespace collapsed
 *   and trimmed, null when empty. A self-closing `<title/>` counts as an empty first title
 *   (htmlparser2 would leave it open and run its text across the following markup).
 */
import { Parser } from 'htmlparser2';
import type { ExtractedPage } from '../../src/crawl/types.ts';

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

export function referenceExtractPage(html: string, pageUrl: string): ExtractedPage {
  const hrefs: string[] = [];
  let baseHref: string | null = null;
  let titleState: 'before' | 'inside' | 'done' = 'before';
  let titleText = '';
  const parser: SelfClosingAwareParser = new SelfClosingAwareParser({
    onopentag(name, attribs) {
      const href = Object.prototype.hasOwnProperty.call(attribs, 'href') ? attribs.href : undefined;
      if ((name === 'a' || name === 'area') && href !== undefined) hrefs.push(href);
      if (name === 'base' && href !== undefined && baseHref === null) baseHref = href;
      if (name === 'title' && titleState === 'before') titleState = parser.selfClosing ? 'done' : 'inside';
    },
    ontext(text) {
      if (titleState === 'inside') titleText += text;
    },
    onclosetag(name) {
      if (name === 'title' && titleState === 'inside') titleState = 'done';
    },
  });
  parser.write(html);
  parser.end();

  const collapsed = titleText.replace(/[\t\n\f\r ]+/g, ' ').trim();
  return { links: resolveAll(hrefs, baseHref, pageUrl), title: collapsed === '' ? null : collapsed };
}

function tryUrl(raw: string, base?: URL): URL | null {
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}

function resolveAll(hrefs: string[], baseHref: string | null, pageUrl: string): string[] {
  const pageBase = tryUrl(pageUrl);
  const base = baseHref === null ? pageBase : (tryUrl(baseHref, pageBase ?? undefined) ?? pageBase);
  const links: string[] = [];
  for (const href of hrefs) {
    const url = tryUrl(href, base ?? undefined);
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    url.hash = '';
    if (!links.includes(url.href)) links.push(url.href);
  }
  return links;
}
