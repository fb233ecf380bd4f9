/**
 * POST /scrape: one URL fetched now and scraped with a job's options, nothing stored — the
 * console's "try on one URL" preview of extraction rules, and a quick way to see what a crawl
 * would keep. HTTP fetching only (no browser); robots.txt is obeyed as a job would.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { OwlError } from '../../errors.ts';
import type { RobotsCache } from '../../crawl/robots.ts';
import type { Fetcher } from '../../crawl/types.ts';
import { scrapeOptionsSchema } from '../../scrape/options-schema.ts';
import { vetSeeds } from '../../jobs/vet-seeds.ts';
import { LIMITS, commonErrors, pageDetailSchema } from '../schemas.ts';

export interface ScrapeRoutesOptions {
  fetcher: Fetcher;
  robots: RobotsCache;
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots' | 'maxContentBytes'>;
}

interface ScrapeBody {
  url: string;
  formats?: string[];
  onlyMainContent?: boolean;
  extract?: unknown;
}

const { sitemaps: _sitemaps, ...pageOptions } = scrapeOptionsSchema;

export const scrapeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: LIMITS.maxSeedLength, description: 'An absolute http(s) URL.' },
    ...pageOptions,
  },
} as const;

export const scrapeResultSchema = {
  type: 'object',
  description: "One page's record as a job with these options would store it, plus the fetch's facts.",
  required: ['url', 'finalUrl', 'statusCode', 'contentType', 'title', 'fetchMs'],
  properties: {
    url: { type: 'string' },
    finalUrl: { type: 'string' },
    statusCode: { type: 'integer' },
    contentType: { type: ['string', 'null'] },
    title: { type: ['string', 'null'] },
    fetchMs: { type: 'number' },
    metadata: pageDetailSchema.properties.metadata,
    data: pageDetailSchema.properties.data,
    items: pageDetailSchema.properties.items,
    markdown: pageDetailSchema.properties.markdown,
    text: pageDetailSchema.properties.text,
    html: pageDetailSchema.properties.html,
    links: pageDetailSchema.properties.links,
    truncated: pageDetailSchema.properties.truncated,
    extraction: pageDetailSchema.properties.extraction,
  },
} as const;

export const scrapeRoutes: FastifyPluginAsync<ScrapeRoutesOptions> = async (app, opts) => {
  const { fetcher, robots, config } = opts;

  app.post<{ Body: ScrapeBody }>('/scrape', {
    // It fetches on the caller's behalf like a job does; the key's request rate counts it like any call.
    config: { scope: 'jobs:write' },
    schema: {
      summary: 'Scrape one URL now with these options (nothing is stored)',
      description: 'Fetches the URL over HTTP (robots.txt obeyed when the server does) and returns the record a job with the same formats, onlyMainContent and extract would keep. A fetch that fails is answered with its crawl error code (TIMEOUT 504, NETWORK 502, ROBOTS_DENIED 403, …).',
      body: scrapeBody,
      response: { 200: scrapeResultSchema, ...commonErrors },
    },
  }, async (request) => {
    const body = request.body;
    // Loaded on first use: the HTML parser and the CSS engine are not needed before the API answers.
    const [{ extractPage }, { compileScrapeOptions, scrapePage, validateScrapeOptions }] = await Promise.all([import('../../crawl/links.ts'), import('../../scrape/index.ts')]);
    const [url] = vetSeeds([body.url], config.allowPrivateTargets, 'url');
    const options = validateScrapeOptions(body as unknown as Record<string, unknown>);
    const ctx = { allowPrivate: config.allowPrivateTargets };
    if (config.respectRobots) {
      const check = await robots.check(url!, ctx);
      if (check.unavailable) throw new OwlError('ROBOTS_UNAVAILABLE');
      if (!check.allowed) throw new OwlError('ROBOTS_DENIED', `robots.txt of ${new URL(url!).origin} disallows this URL`);
    }
    const res = await fetcher.fetch({ url: url!, allowPrivate: ctx.allowPrivate, accept: 'documents' });
    if (res.body === null && !res.raw) throw new OwlError('UNSUPPORTED_CONTENT', `The content type ${res.contentType ?? '(none)'} is not scraped`);
    const scanned = res.body !== null && res.contentType !== null && /html/.test(res.contentType) ? extractPage(res.body, res.finalUrl, { metadata: true }) : undefined;
    const content = await scrapePage(
      { finalUrl: res.finalUrl, contentType: res.contentType, body: res.body, raw: res.raw ?? null, scanned, headers: res.headers },
      compileScrapeOptions(options),
      { maxContentBytes: config.maxContentBytes },
    );
    const { contentHash: _hash, kind: _kind, warnings: _warnings, contentType: _type, ...record } = content;
    return {
      url: url!,
      finalUrl: res.finalUrl,
      statusCode: res.status,
      contentType: res.contentType,
      title: content.metadata.title ?? scanned?.title ?? null,
      fetchMs: Math.round(res.fetchMs),
      ...record,
      ...(content.truncated.length > 0 ? {} : { truncated: undefined }),
    };
  });
};
