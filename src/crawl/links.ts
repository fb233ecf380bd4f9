/**
 * Link and title extraction with a hand-rolled scanner that tokenises exactly as htmlparser2's
 * Tokenizer (HTML mode, entities decoded) does, but only looks closely at what a crawler needs:
 * jumps from `<` to `<` with indexOf, runs the attribute state machine on tags, reads attribute
 * values only for a/area/base (and, when metadata is asked for, html/meta/link/script), and skips
 * comments, CDATA, declarations and the raw-text elements (script, style, title, textarea, xmp —
 * with htmlparser2's own quirks) the same way it does.
 * test/crawl/links-reference.ts is the htmlparser2-based definition this must equal.
 */
import { decodeHTML, decodeHTMLAttribute } from 'entities';
import type { ExtractedPage, PageHeadTags } from './types.ts';
import { createResolver, isNormalizedUrl } from './url.ts';

const TAB = 9;
const LF = 10;
const FF = 12;
const CR = 13;
const SPACE = 32;
const BANG = 33;
const DQUOTE = 34;
const AMP = 38;
const SQUOTE = 39;
const DASH = 45;
const SLASH = 47;
const LT = 60;
const EQ = 61;
const GT = 62;
const QUESTION = 63;
const LBRACKET = 91;

function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === FF || c === CR;
}

function isAsciiAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * What a start tag's name means: whether its href matters, and which closing sequence ends its
 * raw text. htmlparser2 recognises raw-text tags by `<s` + c/t and by `<t`/`<x` + i/e/m, so
 * `<xitle>`, `<tmp>`, `<xextarea>` are raw text too (its quirk, kept to stay equal).
 */
const TAG_OTHER = 0;
const TAG_A_OR_AREA = 1;
const TAG_BASE = 2;
/** The real `<title>`: raw text and, for the first one, the page title. */
const TAG_TITLE = 3;
const TAG_SCRIPT = 4;
const TAG_STYLE = 5;
/** `<xitle>`: raw text ended by `</title`, not a title. */
const TAG_TITLE_LIKE = 6;
const TAG_TEXTAREA = 7;
const TAG_XMP = 8;
/** Read only when metadata is asked for; otherwise handled as TAG_OTHER. */
const TAG_HTML = 9;
const TAG_META = 10;
const TAG_LINK = 11;

/** Closing sequences of raw-text elements, compared as htmlparser2 does: `(c | 0x20) === seq[i]`. */
const SCRIPT_END = codes('</script');
const STYLE_END = codes('</style');
const TITLE_END = codes('</title');
const TEXTAREA_END = codes('</textarea');
const XMP_END = codes('</xmp');

const RAW_TEXT_END: ReadonlyArray<readonly number[] | null> = [
  null, null, null, TITLE_END, SCRIPT_END, STYLE_END, TITLE_END, TEXTAREA_END, XMP_END, null, null, null,
];

function codes(s: string): number[] {
  return Array.from(s, (ch) => ch.charCodeAt(0));
}

/** True when html[from, from + word.length) equals the lower-case `word` under `| 0x20`. */
function matchesLower(html: string, from: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if ((html.charCodeAt(from + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

function tagKind(html: string, start: number, end: number): number {
  const len = end - start;
  const c0 = html.charCodeAt(start) | 0x20;
  if (len === 1) return c0 === 97 /* a */ ? TAG_A_OR_AREA : TAG_OTHER;
  const c1 = html.charCodeAt(start + 1) | 0x20;
  if (c0 === 115 /* s */) {
    if (c1 === 99 /* c */ && len === 6 && matchesLower(html, start + 2, 'ript')) return TAG_SCRIPT;
    if (c1 === 116 /* t */ && len === 5 && matchesLower(html, start + 2, 'yle')) return TAG_STYLE;
    return TAG_OTHER;
  }
  if (c0 === 116 /* t */ || c0 === 120 /* x */) {
    if (c1 === 105 /* i */ && len === 5 && matchesLower(html, start + 2, 'tle')) {
      return c0 === 116 ? TAG_TITLE : TAG_TITLE_LIKE;
    }
    if (c1 === 101 /* e */ && len === 8 && matchesLower(html, start + 2, 'xtarea')) return TAG_TEXTAREA;
    if (c1 === 109 /* m */ && len === 3 && matchesLower(html, start + 2, 'p')) return TAG_XMP;
    return TAG_OTHER;
  }
  if (len === 4) {
    if (c0 === 97 /* a */ && matchesLower(html, start + 1, 'rea')) return TAG_A_OR_AREA;
    if (c0 === 98 /* b */ && matchesLower(html, start + 1, 'ase')) return TAG_BASE;
    if (c0 === 109 /* m */ && matchesLower(html, start + 1, 'eta')) return TAG_META;
    if (c0 === 108 /* l */ && matchesLower(html, start + 1, 'ink')) return TAG_LINK;
    if (c0 === 104 /* h */ && matchesLower(html, start + 1, 'tml')) return TAG_HTML;
  }
  return TAG_OTHER;
}

/** Result of scanning one start tag's attributes (reused between tags). */
interface TagScan {
  /** Index after the tag's `>`, or -1 when the document ends inside the tag (tag dropped). */
  next: number;
  selfClosing: boolean;
  /**
   * Values of the wanted attributes, by their index in the `wanted` list: the first occurrence's
   * value, entities decoded ('' for an attribute without value); null when absent. Four slots,
   * the most any tag wants; slots past the wanted count keep stale values.
   */
  values: Array<string | null>;
}

/** Attributes read from a kind of tag: lower-case names, and a bit per name length for a cheap first test. */
interface Wanted {
  names: readonly string[];
  lengths: number;
}
function wanted(...names: string[]): Wanted {
  return { names, lengths: names.reduce((bits, n) => bits | (1 << n.length), 0) };
}
const WANT_LINK_ATTRS = wanted('href', 'rel');
const WANT_BASE_ATTRS = wanted('href');
const WANT_NONE = wanted();
const WANT_HTML_ATTRS = wanted('lang');
const WANT_META_ATTRS = wanted('name', 'property', 'http-equiv', 'content');
const WANT_LINKTAG_ATTRS = wanted('rel', 'href');
const WANT_SCRIPT_ATTRS = wanted('type');

function attributeValue(html: string, start: number, end: number): string {
  const raw = html.slice(start, end);
  return raw.indexOf('&') === -1 ? raw : decodeHTMLAttribute(raw);
}

/**
 * The same attribute states as scanAttributes, as one sticky regex for tags whose attributes do
 * not matter: irregexp skips them far faster than a JS char loop. Every token is forced to be
 * maximal by a lookahead (a name cannot be split, `name =` must take a value, an unquoted value
 * cannot be split), so there is exactly one way to match and no catastrophic backtracking; a
 * failed match means the document ends inside the tag. Equality is covered by the fuzz test.
 */
const ATTRIBUTES_TO_GT =
  /(?:[\t\n\f\r /]|[^\t\n\f\r />][^\t\n\f\r />=]*(?![^\t\n\f\r />=])(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*"|'[^']*'|(?=>)|[^\t\n\f\r >"'][^\t\n\f\r >]*(?![^\t\n\f\r >]))|(?![\t\n\f\r ]*=)))*>/
    .source;
const SKIP_ATTRIBUTES = new RegExp(ATTRIBUTES_TO_GT, 'y');

/**
 * Everything the scanner would pass over without looking — text, end tags, a `<` that starts
 * no tag, start tags whose name is none of a/area/base or the raw-text ones (nor html/meta/link
 * when `withMetadata`) — in one native regex call. It stops at the first construct that needs
 * the JS path (those tags, `<!`, `<?`, or markup cut off by the end of the document), which then
 * handles it exactly.
 */
function skipUninteresting(withMetadata: boolean): RegExp {
  const metadataTags = withMetadata ? '|[hH][tT][mM][lL]|[mM][eE][tT][aA]|[lL][iI][nN][kK]' : '';
  return new RegExp(
    '(?:[^<]+|</[^>]*>|<(?![a-zA-Z!?/])' +
      '|<(?!(?:[aA]|[aA][rR][eE][aA]|[bB][aA][sS][eE]|[sS][cC][rR][iI][pP][tT]|[sS][tT][yY][lL][eE]' +
      `|[tTxX][iI][tT][lL][eE]|[tTxX][eE][xX][tT][aA][rR][eE][aA]|[tTxX][mM][pP]${metadataTags})[\\t\\n\\f\\r />])` +
      '[a-zA-Z][^\\t\\n\\f\\r />]*' +
      ATTRIBUTES_TO_GT +
      ')*',
    // No `i` flag: explicit ASCII classes match exactly what htmlparser2's `| 0x20` does, and run faster.
    'y',
  );
}
const SKIP_FOR_LINKS = skipUninteresting(false);
const SKIP_FOR_METADATA = skipUninteresting(true);

/**
 * Runs htmlparser2's start-tag attribute states (BeforeAttributeName … InAttributeValueNq)
 * from `p`, the char after the tag name, to the tag's `>`. Written as nested loops rather
 * than a per-char switch: each state is a tight loop and quoted values are skipped by indexOf.
 * The first occurrence of each `wanted` attribute is read into `out.values`.
 */
function scanAttributes(html: string, p: number, want: Wanted, out: TagScan): void {
  const n = html.length;
  const values = out.values;
  const wanted = want.names;
  const lengths = want.lengths;
  const wantedCount = wanted.length;
  for (let k = 0; k < wantedCount; k++) values[k] = null;
  let slash = false; // in SelfClosingTag state
  for (;;) {
    // BeforeAttributeName / InSelfClosingTag: whitespace keeps the state, `/` enters self-closing.
    let c = 0;
    for (;;) {
      if (p >= n) {
        out.next = -1;
        return;
      }
      c = html.charCodeAt(p);
      if (c === GT) {
        out.next = p + 1;
        out.selfClosing = slash;
        return;
      }
      if (c === SLASH) slash = true;
      else if (!isWhitespace(c)) break;
      p++;
    }
    // InAttributeName: the first char is taken whatever it is (`=`, quotes included).
    slash = false;
    const nameStart = p;
    p++;
    for (;;) {
      if (p >= n) {
        out.next = -1;
        return;
      }
      c = html.charCodeAt(p);
      if (c === EQ || c === GT || c === SLASH || isWhitespace(c)) break;
      p++;
    }
    let slot = -1;
    const len = p - nameStart;
    if (len < 31 && (lengths & (1 << len)) !== 0) {
      for (let k = 0; k < wantedCount; k++) {
        const w = wanted[k]!;
        if (w.length === len && matchesLower(html, nameStart, w)) {
          if (values[k] === null) slot = k;
          break;
        }
      }
    }
    // AfterAttributeName
    while (isWhitespace(c)) {
      p++;
      if (p >= n) {
        out.next = -1;
        return;
      }
      c = html.charCodeAt(p);
    }
    if (c !== EQ) {
      // No value; `/`, `>` or the next name's first char is reconsumed.
      if (slot !== -1) values[slot] = '';
      continue;
    }
    // BeforeAttributeValue
    p++;
    for (;;) {
      if (p >= n) {
        out.next = -1;
        return;
      }
      c = html.charCodeAt(p);
      if (!isWhitespace(c)) break;
      p++;
    }
    if (c === DQUOTE || c === SQUOTE) {
      const close = html.indexOf(c === DQUOTE ? '"' : "'", p + 1);
      if (close === -1) {
        out.next = -1;
        return;
      }
      if (slot !== -1) values[slot] = attributeValue(html, p + 1, close);
      p = close + 1;
      continue;
    }
    // InAttributeValueNq: ends at whitespace or `>` (reconsumed), so `href=>` is empty.
    const valueStart = p;
    for (;;) {
      if (p >= n) {
        out.next = -1;
        return;
      }
      c = html.charCodeAt(p);
      if (c === GT || isWhitespace(c)) break;
      p++;
    }
    if (slot !== -1) values[slot] = attributeValue(html, valueStart, p);
  }
}

/**
 * Emulates htmlparser2's raw-text state from `p` (after the start tag): returns the index of
 * the char that ended the closing sequence (`>` or whitespace after `</script`), or -1 when the
 * document ends first. Outside title-like elements it fast-forwards between `<` as htmlparser2
 * does, so a stray 0x1C (which `| 0x20` turns into `<`) counts only where it does there.
 * `literalAmps` collects `&` that htmlparser2 leaves undecoded in titles (inside a partial
 * closing sequence, e.g. `</ti&amp;`).
 */
function findRawTextEnd(html: string, p: number, seq: readonly number[], literalAmps: number[] | null): number {
  const n = html.length;
  const len = seq.length;
  const fastForward = seq !== TITLE_END;
  let matched = 0;
  let i = p;
  while (i < n) {
    const c = html.charCodeAt(i);
    if (matched === len) {
      if (c === GT || isWhitespace(c)) return i;
      matched = 0;
    }
    if ((c | 0x20) === seq[matched]) matched++;
    else if (matched === 0) {
      if (fastForward) {
        const next = html.indexOf('<', i + 1);
        if (next === -1) return -1;
        i = next + 1;
        matched = 1;
        continue;
      }
    } else {
      if (c === AMP && literalAmps !== null) literalAmps.push(i);
      matched = c === LT ? 1 : 0;
    }
    i++;
  }
  return -1;
}

/** Title text as htmlparser2 decodes it (legacy entities), ASCII whitespace collapsed and trimmed. */
function titleText(html: string, start: number, end: number, literalAmps: number[]): string | null {
  let text = html.slice(start, end);
  if (text.indexOf('&') !== -1) {
    let decoded = '';
    let from = start;
    for (const amp of literalAmps) {
      decoded += `${decodeHTML(html.slice(from, amp))}&`;
      from = amp + 1;
    }
    text = decoded + decodeHTML(html.slice(from, end));
  }
  return normalizeTitle(text);
}

/** ASCII whitespace runs become one space, ends trimmed (as document.title); empty is null. */
export function normalizeTitle(text: string): string | null {
  const collapsed = text.replace(/[\t\n\f\r ]+/g, ' ').trim();
  return collapsed.length === 0 ? null : collapsed;
}

/**
 * After `<!`: comments end at the first `-->` (the opening dashes count, so `<!-->` is a whole
 * comment; `--!>` does not end one — htmlparser2's rule, unlike browsers), CDATA at `]]>`,
 * anything else at the next `>` (the char right after `<!` or `<!-` is consumed first).
 * Returns where text resumes (html.length when the document ends first).
 */
function skipMarkupDeclaration(html: string, p: number): number {
  const n = html.length;
  if (p >= n) return n;
  const c = html.charCodeAt(p);
  let gt: number;
  if (c === LBRACKET) {
    for (let k = 0; k < 6; k++) {
      const q = p + 1 + k;
      if (q >= n) return n;
      if (html.charCodeAt(q) !== CDATA_OPEN.charCodeAt(k)) {
        gt = html.indexOf('>', q);
        return gt === -1 ? n : gt + 1;
      }
    }
    const end = html.indexOf(']]>', p + 7);
    return end === -1 ? n : end + 3;
  }
  if (c === DASH) {
    if (p + 1 >= n) return n;
    if (html.charCodeAt(p + 1) === DASH) {
      const end = html.indexOf('-->', p);
      return end === -1 ? n : end + 3;
    }
    gt = html.indexOf('>', p + 2);
  } else {
    gt = html.indexOf('>', p + 1);
  }
  return gt === -1 ? n : gt + 1;
}

const CDATA_OPEN = 'CDATA[';

export interface ExtractOptions {
  /**
   * Also collect what page metadata needs (`ExtractedPage.head`): `<html lang>`, every `<meta>`
   * with a content, every `<link rel href>`, and the raw text of `<script type=application/ld+json>`.
   * Default false: links and title only, the crawler's fastest path.
   */
  metadata?: boolean;
}

/** `application/ld+json`, any case, surrounding whitespace and parameters ignored. */
function isJsonLdType(type: string | null): boolean {
  if (type === null || type.length < 19) return false;
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase() === 'application/ld+json';
}

/** True when a rel attribute's space-separated tokens include `nofollow` (ASCII case-insensitive). */
export function relHasNofollow(rel: string): boolean {
  return rel.length >= 8 && /(?:^|[\t\n\f\r ])nofollow(?:$|[\t\n\f\r ])/i.test(rel);
}

/**
 * Links of <a href> and <area href> resolved against <base href> (first one, itself resolved
 * against pageUrl) or pageUrl; title of the first <title>; the links whose every anchor carries
 * rel=nofollow; and, with `opts.metadata`, the head tags metadata is built from.
 */
export function extractPage(html: string, pageUrl: string, opts?: ExtractOptions): ExtractedPage {
  const withMetadata = opts?.metadata === true;
  const skip = withMetadata ? SKIP_FOR_METADATA : SKIP_FOR_LINKS;
  const lastKind = withMetadata ? TAG_LINK : TAG_XMP;
  const hrefs: string[] = [];
  /** Per href, whether its anchor had rel=nofollow; null until the first such anchor. */
  let nofollowFlags: boolean[] | null = null;
  let baseHref: string | null = null;
  let title: string | null = null;
  let titleSeen = false;
  const head: PageHeadTags | null = withMetadata ? { lang: null, baseUrl: null, metas: [], links: [], jsonLd: [] } : null;
  let langSeen = false;
  const n = html.length;
  const tag: TagScan = { next: 0, selfClosing: false, values: [null, null, null, null] };
  let i = 0;
  while (i < n) {
    skip.lastIndex = i;
    skip.test(html);
    const lt = html.indexOf('<', skip.lastIndex);
    if (lt === -1 || lt + 1 >= n) break;
    const c = html.charCodeAt(lt + 1);
    if (isAsciiAlpha(c)) {
      const nameStart = lt + 1;
      let nameEnd = nameStart + 1;
      while (nameEnd < n) {
        const d = html.charCodeAt(nameEnd);
        if (d === GT || d === SLASH || isWhitespace(d)) break;
        nameEnd++;
      }
      if (nameEnd >= n) break;
      const kind = tagKind(html, nameStart, nameEnd);
      if (kind === TAG_OTHER || kind > lastKind) {
        SKIP_ATTRIBUTES.lastIndex = nameEnd;
        if (!SKIP_ATTRIBUTES.test(html)) break;
        i = SKIP_ATTRIBUTES.lastIndex;
        continue;
      }
      let wanted: Wanted = WANT_NONE;
      if (kind === TAG_A_OR_AREA) wanted = WANT_LINK_ATTRS;
      else if (kind === TAG_BASE) wanted = baseHref === null ? WANT_BASE_ATTRS : WANT_NONE;
      else if (head !== null) {
        if (kind === TAG_SCRIPT) wanted = WANT_SCRIPT_ATTRS;
        else if (kind === TAG_META) wanted = WANT_META_ATTRS;
        else if (kind === TAG_LINK) wanted = WANT_LINKTAG_ATTRS;
        else if (kind === TAG_HTML && !langSeen) wanted = WANT_HTML_ATTRS;
      }
      scanAttributes(html, nameEnd, wanted, tag);
      if (tag.next === -1) break;
      i = tag.next;
      const values = tag.values;
      let jsonLdBlock = false;
      if (kind === TAG_A_OR_AREA) {
        const href = values[0]!;
        if (href !== null) {
          const rel = values[1]!;
          if (rel !== null && relHasNofollow(rel)) {
            nofollowFlags ??= new Array<boolean>(hrefs.length).fill(false);
            nofollowFlags.push(true);
          } else if (nofollowFlags !== null) {
            nofollowFlags.push(false);
          }
          hrefs.push(href);
        }
      } else if (kind === TAG_BASE) {
        if (wanted !== WANT_NONE && values[0] !== null) baseHref = values[0]!;
      } else if (head !== null) {
        if (kind === TAG_META) {
          const content = values[3]!;
          if (content !== null) head.metas.push({ name: values[0]!, property: values[1]!, httpEquiv: values[2]!, content });
        } else if (kind === TAG_LINK) {
          if (values[0] !== null && values[1] !== null) head.links.push({ rel: values[0]!, href: values[1]! });
        } else if (kind === TAG_HTML) {
          if (!langSeen && values[0] !== null) {
            langSeen = true;
            head.lang = values[0]!;
          }
        } else if (kind === TAG_SCRIPT) {
          jsonLdBlock = isJsonLdType(values[0]!);
        }
      }
      const isFirstTitle = kind === TAG_TITLE && !titleSeen;
      if (isFirstTitle) titleSeen = true;
      const seq = RAW_TEXT_END[kind];
      // A self-closing start tag leaves the raw-text state (htmlparser2 resets isSpecial).
      if (seq === null || seq === undefined || tag.selfClosing) continue;
      const literalAmps = isFirstTitle ? [] : null;
      const terminator = findRawTextEnd(html, i, seq, literalAmps);
      const textEnd = terminator === -1 ? n : terminator - seq.length;
      if (isFirstTitle) title = titleText(html, i, textEnd, literalAmps ?? []);
      if (jsonLdBlock) head!.jsonLd.push(html.slice(i, textEnd));
      if (terminator === -1) break;
      const gt = html.indexOf('>', terminator);
      if (gt === -1) break;
      i = gt + 1;
    } else if (c === SLASH || c === QUESTION) {
      // End tags and processing instructions run to the next `>`, quotes or not.
      const gt = html.indexOf('>', lt + 2);
      if (gt === -1) break;
      i = gt + 1;
    } else if (c === BANG) {
      i = skipMarkupDeclaration(html, lt + 2);
    } else {
      i = lt + 1;
    }
  }
  const base = hrefs.length === 0 && head === null ? null : documentBase(baseHref, pageUrl);
  const page: ExtractedPage = { links: resolveLinks(hrefs, base), title };
  if (nofollowFlags !== null) {
    const nofollow = nofollowOnly(hrefs, nofollowFlags, base);
    if (nofollow.length !== 0) page.nofollow = nofollow;
  }
  if (head !== null) {
    head.baseUrl = base === null ? null : typeof base === 'string' ? documentBaseHref(base) : base.href;
    page.head = head;
  }
  return page;
}

/** The page URL as the document base when there is no <base>: parsed, so it reads as URL#href does. */
function documentBaseHref(pageUrl: string): string | null {
  // A crawled page's URL is normalised already: most pages need no parse here.
  if (isNormalizedUrl(pageUrl)) return pageUrl;
  return URL.canParse(pageUrl) ? new URL(pageUrl).href : null;
}

/**
 * The document base is the first `<base href>` resolved against the page URL (the page URL when
 * that fails); it applies to every link, also those before the `<base>`. A string is the page
 * URL itself (not parsed yet); null when neither can be parsed.
 */
function documentBase(baseHref: string | null, pageUrl: string): string | URL | null {
  if (baseHref === null) return pageUrl;
  const pageBase = URL.canParse(pageUrl) ? new URL(pageUrl) : null;
  try {
    return pageBase === null ? new URL(baseHref) : new URL(baseHref, pageBase);
  } catch {
    return pageBase;
  }
}

function resolveLinks(hrefs: string[], base: string | URL | null): string[] {
  if (hrefs.length === 0) return [];
  const resolve = createResolver(base);
  const seen = new Set<string>();
  for (const href of hrefs) {
    const url = resolve(href);
    if (url !== null) seen.add(url);
  }
  return Array.from(seen);
}

/** Resolved links all of whose anchors carry rel=nofollow, in document order. */
function nofollowOnly(hrefs: string[], flags: boolean[], base: string | URL | null): string[] {
  const resolve = createResolver(base);
  const followed = new Set<string>();
  const marked = new Set<string>();
  for (let k = 0; k < hrefs.length; k++) {
    const url = resolve(hrefs[k]!);
    if (url === null) continue;
    if (flags[k]) marked.add(url);
    else followed.add(url);
  }
  const out: string[] = [];
  for (const url of marked) if (!followed.has(url)) out.push(url);
  return out;
}
