/**
 * A stored page as users get it — `GET /jobs/:id/pages/:pageId`, exports, `owl crawl --output` —
 * built from the page row and its decoded content. Only what the job asked for is present.
 */
import type { PageChange, PageWithContent } from '../store/types.ts';
import { decodeContent } from './content-codec.ts';
import type { PageContent } from './index.ts';
import { metadataJson } from './metadata.ts';

export interface PageResult {
  id: number;
  url: string;
  finalUrl: string | null;
  statusCode: number | null;
  depth: number;
  fetchedAt: number;
  contentType: string | null;
  mode: 'http' | 'browser';
  title: string | null;
  errorCode: string | null;
  contentHash: string | null;
  /** A sitemap's `<lastmod>` for the page (epoch ms), when one listed it. */
  lastmod: number | null;
  metadata?: PageContent['metadata'];
  data?: unknown;
  items?: Array<Record<string, unknown>>;
  markdown?: string;
  text?: string;
  html?: string;
  links?: string[];
  /** Fields cut by the content cap. */
  truncated?: string[];
  /** How the extraction rules fared on this page (null without rules). */
  extraction?: PageContent['extraction'];
  /** True when the page's content is not stored: robots noindex, or removed by retention. */
  contentMissing?: boolean;
  /** A schedule's run: the page against the schedule's baseline (absent for other jobs). */
  change?: PageChange;
  /** A schedule's run: the previous run's page of this URL (absent when there is none). */
  previousPageId?: number;
}

/** What of a page's content is stored: what pageResult reads (the row holds the content type and hash). */
export type StoredContent = Pick<PageContent, 'metadata' | 'data' | 'items' | 'markdown' | 'text' | 'html' | 'links' | 'truncated' | 'extraction'>;

const OPTIONAL_FIELDS = ['data', 'items', 'markdown', 'text', 'html', 'links'] as const;

/** JSON.stringify of the StoredContent fields of `c`, with the metadata written field by field (metadataJson). */
export function storedContentJson(c: PageContent): string {
  let json = `{"metadata":${metadataJson(c.metadata)}`;
  for (const key of OPTIONAL_FIELDS) if (c[key] !== undefined) json += `,"${key}":${JSON.stringify(c[key])}`;
  return `${json},"truncated":${c.truncated.length === 0 ? '[]' : JSON.stringify(c.truncated)},"extraction":${JSON.stringify(c.extraction)}}`;
}

export function pageResult(page: PageWithContent): PageResult {
  const result: PageResult = {
    id: page.id,
    url: page.url,
    finalUrl: page.finalUrl,
    statusCode: page.statusCode,
    depth: page.depth,
    fetchedAt: page.fetchedAt,
    contentType: page.contentType,
    mode: page.mode,
    title: page.title,
    errorCode: page.errorCode,
    contentHash: page.contentHash,
    lastmod: page.lastmod,
  };
  if (page.change !== null) result.change = page.change;
  if (page.previousPageId !== null) result.previousPageId = page.previousPageId;
  if (page.content === null) {
    if (page.errorCode === null) result.contentMissing = true;
    return result;
  }
  const c = decodeContent<StoredContent>(page.content);
  result.metadata = c.metadata;
  for (const key of OPTIONAL_FIELDS) {
    if (c[key] !== undefined) (result as unknown as Record<string, unknown>)[key] = c[key];
  }
  if (c.truncated.length > 0) result.truncated = c.truncated;
  result.extraction = c.extraction;
  return result;
}
