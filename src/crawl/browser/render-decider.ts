/**
 * Mode "auto": decides per HTTP-fetched page whether it must be rendered in the browser, and
 * learns per site so that a site built on client-side rendering goes straight to the browser.
 *
 * A page needs the browser when what a crawler wants is not in its HTML yet:
 * - an empty single-page-app root (`<div id="root"></div>`, `id="app"`, `__next`, `__nuxt`,
 *   `___gatsby`) or a `__NEXT_DATA__` payload, with little visible text; or
 * - no links and little visible text, but scripts or a `<noscript>` hint that JavaScript is needed.
 * A server-rendered page with content is left alone even when it carries scripts.
 */
import type { ExtractedPage } from '../types.ts';

export interface RenderDeciderOptions {
  /** Pages of a site that needed the browser before the whole site is marked (default 3). */
  learnAfter?: number;
  /** Visible characters below which a page counts as empty (default 200). */
  littleTextChars?: number;
  /** Sites remembered at most; the oldest are forgotten beyond it (default 10000). */
  maxSites?: number;
}

export interface RenderDecider {
  needsBrowser(site: string, html: string, extracted: ExtractedPage): boolean;
  markSite(site: string, needsBrowser: boolean): void;
  siteNeedsBrowser(site: string): boolean;
}

const SPA_ROOT_EMPTY = /<div\b[^>]*\bid\s*=\s*["']?(?:root|app|__next|__nuxt|___gatsby)\b["']?[^>]*>\s*<\/div>/i;
const NEXT_DATA = /<script\b[^>]*\bid\s*=\s*["']?__NEXT_DATA__/i;
const SCRIPT = /<script\b/i;
const NOSCRIPT_HINT = /<noscript\b[^>]*>[\s\S]{0,400}?\b(?:javascript|enable js|js is disabled|requires js)\b/i;
/** Elements whose text a visitor never sees as page content. */
const HIDDEN_BLOCKS = /<(script|style|noscript|template|head|svg)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;

/** Visible text length of an HTML document, roughly: hidden blocks, tags and whitespace removed. */
export function visibleTextLength(html: string): number {
  return html
    .replace(HIDDEN_BLOCKS, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z0-9#]+;/gi, 'x')
    .replace(/\s+/g, '')
    .length;
}

/** The per-page rule, without learning. */
export function looksClientRendered(html: string, extracted: ExtractedPage, littleTextChars = 200): boolean {
  const spaShell = SPA_ROOT_EMPTY.test(html) || NEXT_DATA.test(html);
  const noLinks = extracted.links.length === 0;
  if (!spaShell && !noLinks) return false;
  if (!spaShell && !SCRIPT.test(html) && !NOSCRIPT_HINT.test(html)) return false;
  return visibleTextLength(html) < littleTextChars;
}

export function createRenderDecider(opts: RenderDeciderOptions = {}): RenderDecider {
  const learnAfter = opts.learnAfter ?? 3;
  const littleText = opts.littleTextChars ?? 200;
  const maxSites = opts.maxSites ?? 10_000;
  /** Pages that needed the browser, per site not yet marked. Map order is insertion order (oldest first). */
  const counts = new Map<string, number>();
  const marked = new Map<string, boolean>();

  const remember = <V>(map: Map<string, V>, site: string, value: V): void => {
    map.delete(site);
    map.set(site, value);
    if (map.size > maxSites) map.delete(map.keys().next().value!);
  };

  const markSite = (site: string, needsBrowser: boolean): void => {
    counts.delete(site);
    remember(marked, site, needsBrowser);
  };

  return {
    needsBrowser(site, html, extracted) {
      const known = marked.get(site);
      if (known === true) return true;
      const needs = looksClientRendered(html, extracted, littleText);
      if (needs && known === undefined) {
        const n = (counts.get(site) ?? 0) + 1;
        if (n >= learnAfter) markSite(site, true);
        else remember(counts, site, n);
      }
      return needs;
    },
    markSite,
    siteNeedsBrowser: (site) => marked.get(site) === true,
  };
}
