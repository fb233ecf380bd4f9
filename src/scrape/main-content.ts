/**
 * A page's main content as text and Markdown: linkedom builds a light DOM (scripts never run),
 * @mozilla/readability finds the main content (as a reader view does: navigation, headers,
 * footers, sidebars, banners removed), turndown with GFM tables writes Markdown.
 *
 * Before either: script/style/noscript/template are removed, and links and images are made
 * absolute against the document base (`<base href>` honoured) — `javascript:` and other non-web
 * links lose their href (their text stays), `data:` images are dropped. Cookie and consent
 * banners and dialogs are removed before Readability (it does not know them all).
 *
 * With onlyMainContent false, or when Readability finds nothing, the whole body is used (in the
 * fallback, with nav/header/footer/aside and their ARIA roles removed).
 */
import { Readability } from '@mozilla/readability';
import { gfm } from '@joplin/turndown-plugin-gfm';
import { HTMLElement as LinkedomElement, parseHTML } from 'linkedom';
import TurndownService from 'turndown';

/** The DOM types linkedom gives: the global DOM lib is not loaded (tsconfig types: node). */
interface DomNode {
  nodeType: number;
  nodeName: string;
  childNodes: ArrayLike<DomNode>;
  parentNode: DomNode | null;
  textContent: string | null;
}
interface DomElement extends DomNode {
  tagName: string;
  children: ArrayLike<DomElement>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  remove(): void;
}
interface DomDocument extends DomNode {
  body: DomElement | null;
  documentElement: DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  cloneNode(deep: true): DomDocument;
}

export interface MainContentOptions {
  /** Main content only (Readability), or the whole body. */
  onlyMainContent: boolean;
  /** Also write Markdown (text is always produced: the content hash reads it). */
  markdown: boolean;
}

export interface MainContent {
  /** Plain text: blocks on their own lines, whitespace collapsed inside them. */
  text: string;
  markdown: string | null;
  /** Where the content came from: Readability, the body after boilerplate removal, or the whole body. */
  source: 'readability' | 'body-fallback' | 'body';
}

const ALWAYS_REMOVED = 'script, style, noscript, template, iframe, object, embed';
/** Consent and cookie banners, dialogs: boilerplate Readability's heuristics can keep. */
const BANNERS =
  '[role=dialog], [role=alertdialog], [aria-modal=true], [id*=cookie i], [class*=cookie i], [id*=consent i], [class*=consent i], [id*=gdpr i], [class*=gdpr i]';
const BOILERPLATE = 'nav, header, footer, aside, [role=navigation], [role=banner], [role=contentinfo], [role=complementary], [role=search]';
/** Class or id words of boilerplate blocks (after Readability's own list of unlikely candidates). */
const BOILERPLATE_NAME = /(?:^|[\s_-])(?:header|footer|banner|breadcrumbs?|menu|navbar|nav|navigation|sidebar|comments?|disqus|related|share|social|sponsors?|pagination|pager|popup|skip)(?:$|[\s_-])/i;
/** Blocks judged by their link density: mostly links and short is a menu, a pager, a link list. */
const LINK_DENSITY_BLOCKS = 'ul, ol, dl, table, div, p, section, td';
const LINK_DENSE_RATIO = 0.5;
const LINK_DENSE_MAX_CHARS = 1000;
/** Readability keeping less than this share of the cleaned body's text has likely missed sibling sections. */
const READABILITY_MIN_SHARE = 0.8;
/** A banner match this long or longer is more likely a page wrapper with an unlucky class. */
const BANNER_MAX_CHARS = 3000;

function absolutize(doc: DomDocument, baseUrl: string | null): void {
  const resolve = (raw: string): string | null => {
    try {
      const u = baseUrl === null ? new URL(raw.trim()) : new URL(raw.trim(), baseUrl);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch {
      return null;
    }
  };
  for (const a of Array.from(doc.querySelectorAll('a[href], area[href]'))) {
    const href = resolve(a.getAttribute('href')!);
    if (href === null) a.removeAttribute('href');
    else a.setAttribute('href', href);
  }
  for (const img of Array.from(doc.querySelectorAll('img'))) {
    const src = img.getAttribute('src');
    const abs = src === null ? null : resolve(src);
    if (abs === null) img.remove();
    else {
      img.setAttribute('src', abs);
      img.removeAttribute('srcset');
    }
  }
}

function removeAll(root: DomDocument | DomElement, selector: string, maxChars = Number.POSITIVE_INFINITY): void {
  for (const el of Array.from(root.querySelectorAll(selector))) {
    const name = el.nodeName;
    if (name === 'HTML' || name === 'BODY' || name === 'MAIN' || name === 'ARTICLE') continue;
    if (maxChars !== Number.POSITIVE_INFINITY && (el.textContent ?? '').length >= maxChars) continue;
    el.remove();
  }
}

function textLength(el: DomNode): number {
  return (el.textContent ?? '').replace(/\s+/g, '').length;
}

/**
 * The body without boilerplate, as a fallback to Readability: landmark elements and ARIA roles,
 * blocks whose class or id names boilerplate, and short link-dense blocks removed.
 */
function cleanedBody(doc: DomDocument): DomElement | null {
  removeAll(doc, BOILERPLATE);
  for (const el of Array.from(doc.querySelectorAll('[id], [class]'))) {
    const names = `${el.getAttribute('id') ?? ''} ${el.getAttribute('class') ?? ''}`;
    if (BOILERPLATE_NAME.test(names) && el.nodeName !== 'BODY' && el.nodeName !== 'HTML' && el.nodeName !== 'MAIN' && el.nodeName !== 'ARTICLE' && el.parentNode !== null) {
      if (textLength(el) < BANNER_MAX_CHARS) el.remove();
    }
  }
  for (const el of Array.from(doc.querySelectorAll(LINK_DENSITY_BLOCKS))) {
    if (el.parentNode === null) continue;
    const total = textLength(el);
    if (total === 0 || total > LINK_DENSE_MAX_CHARS) continue;
    let linked = 0;
    for (const a of Array.from(el.querySelectorAll('a'))) linked += textLength(a);
    if (linked / total > LINK_DENSE_RATIO) el.remove();
  }
  return doc.body ?? doc.documentElement;
}

let turndown: TurndownService | null = null;
function markdownWriter(): TurndownService {
  if (turndown === null) {
    turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '_' });
    turndown.use(gfm);
  }
  return turndown;
}

/** A table's own rows (thead, tbody, tfoot and direct rows; nested tables excluded), in tree order. */
function tableRows(table: DomElement): DomElement[] {
  const rows: DomElement[] = [];
  for (const child of Array.from(table.children)) {
    if (child.nodeName === 'TR') rows.push(child);
    else if (child.nodeName === 'THEAD' || child.nodeName === 'TBODY' || child.nodeName === 'TFOOT') {
      for (const row of Array.from(child.children)) if (row.nodeName === 'TR') rows.push(row);
    }
  }
  return rows;
}

/**
 * linkedom has no HTMLTableElement.rows, which the GFM plugin reads to turn tables into Markdown
 * (turndown clones the tree, so a property set on the nodes would be lost): a getter on linkedom's
 * element prototype gives tables their rows. It touches linkedom's classes only, not a global DOM.
 */
const elementProto = (LinkedomElement as unknown as { prototype: object }).prototype;
if (!('rows' in elementProto)) {
  Object.defineProperty(elementProto, 'rows', {
    configurable: true,
    get(this: DomElement): DomElement[] | undefined {
      return this.nodeName === 'TABLE' ? tableRows(this) : undefined;
    },
  });
}

const BLOCKS = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'DD', 'DETAILS', 'DIALOG', 'DIV', 'DL', 'DT', 'FIELDSET', 'FIGCAPTION', 'FIGURE', 'FOOTER',
  'FORM', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE', 'SECTION', 'SUMMARY', 'TABLE',
  'TBODY', 'THEAD', 'TFOOT', 'TR', 'UL', 'CAPTION',
]);
const PARAGRAPHS = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'PRE', 'BLOCKQUOTE', 'TABLE', 'UL', 'OL', 'DL', 'FIGURE', 'HR']);

/**
 * Text as a reader sees it: each block on its own line (a blank line around paragraphs, headings,
 * lists and tables), table cells separated by a tab, `<br>` a line break, whitespace collapsed
 * inside lines and kept inside <pre>.
 */
export function renderText(root: DomNode): string {
  const out: string[] = [];
  const walk = (node: DomNode, pre: boolean): void => {
    if (node.nodeType === 3) {
      const data = node.textContent ?? '';
      out.push(pre ? data : data.replace(/\s+/g, ' '));
      return;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9 && node.nodeType !== 11) return;
    const name = node.nodeName;
    if (name === 'BR') {
      out.push('\n');
      return;
    }
    if (name === 'SCRIPT' || name === 'STYLE' || name === 'TEMPLATE' || name === 'NOSCRIPT') return;
    const block = BLOCKS.has(name);
    const sep = PARAGRAPHS.has(name) ? '\n\n' : block ? '\n' : name === 'TD' || name === 'TH' ? '\t' : '';
    if (sep !== '') out.push(sep);
    const isPre = pre || name === 'PRE';
    const children = node.childNodes;
    for (let i = 0; i < children.length; i++) walk(children[i]!, isPre);
    if (sep !== '' && sep !== '\t') out.push(sep);
  };
  walk(root, false);
  return out
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, (m) => (m.includes('\t') ? '\t' : ' ')).replace(/^[ \t]+|[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The main content (or the whole body) of `html` as text and, when asked, Markdown. `baseUrl` is
 * the document base links and images resolve against (the scanner's `head.baseUrl`).
 */
export function extractMainContent(html: string, baseUrl: string | null, opts: MainContentOptions): MainContent {
  const { document } = parseHTML(html) as unknown as { document: DomDocument };
  removeAll(document, ALWAYS_REMOVED);
  absolutize(document, baseUrl);
  let root: DomElement | null = null;
  let source: MainContent['source'] = 'body';
  if (opts.onlyMainContent) {
    removeAll(document, BANNERS, BANNER_MAX_CHARS);
    // Readability changes the document it reads: the fallback starts from a copy made before (a
    // deep clone costs about a third of a parse, and the removals above are not done twice).
    const fresh = document.cloneNode(true);
    const article = new Readability(document as never, { serializer: (el: unknown) => el } as never).parse();
    const content = article?.content as unknown as DomElement | null | undefined;
    const fallback = cleanedBody(fresh);
    const found = content !== null && content !== undefined && typeof content === 'object' ? textLength(content) : 0;
    const cleaned = fallback === null ? 0 : textLength(fallback);
    // Readability takes the best block and its high-scoring siblings; on pages made of many
    // sibling sections (man pages, DocBook) it can keep one section and drop the rest.
    if (found > 0 && found >= READABILITY_MIN_SHARE * cleaned) {
      root = content!;
      source = 'readability';
    } else {
      root = fallback;
      source = 'body-fallback';
    }
  } else {
    root = document.body ?? document.documentElement;
  }
  if (root === null) return { text: '', markdown: opts.markdown ? '' : null, source };
  const text = renderText(root);
  let markdown: string | null = null;
  if (opts.markdown) {
    markdown = markdownWriter().turndown(root as never).trim();
  }
  return { text, markdown, source };
}
