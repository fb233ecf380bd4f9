/**
 * A job's scraping options: their type, defaults and JSON schema fragment (options.ts validates
 * and compiles them). Apart from the CSS engine, so the API's schemas load without it.
 */
import { EXTRACT_LIMITS, VALUE_TYPES, type ExtractRules } from './extract-rules.ts';

export const FORMATS = ['metadata', 'links', 'text', 'markdown', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export const SITEMAP_MODES = ['include', 'skip', 'only'] as const;
export type SitemapMode = (typeof SITEMAP_MODES)[number];

export interface ScrapeOptions {
  /**
   * What each page's record carries (default ["metadata"]; metadata is always computed, it is cheap):
   * `links` the page's links, `text`/`markdown` its main content (or whole body, see
   * onlyMainContent), `html` the fetched or rendered document.
   */
  formats: Format[];
  /** `text` and `markdown` keep only the main content, boilerplate removed (default true); false: the whole body. */
  onlyMainContent: boolean;
  /** Declarative CSS extraction (default null: none). */
  extract: ExtractRules | null;
  /** "include" (default): seeds plus sitemap URLs; "skip": no sitemaps; "only": just the sitemap URLs. */
  sitemaps: SitemapMode;
}

export const SCRAPE_DEFAULTS: Readonly<ScrapeOptions> = Object.freeze({
  formats: ['metadata'] as Format[],
  onlyMainContent: true,
  extract: null,
  sitemaps: 'include' as SitemapMode,
});

const ruleSchema = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: EXTRACT_LIMITS.maxSelectorLength, description: 'A CSS selector; the first match\'s text.' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['selector'],
      properties: {
        selector: { type: 'string', minLength: 1, maxLength: EXTRACT_LIMITS.maxSelectorLength, description: 'CSS selector (inside items: relative to the item; ":scope" is the item itself).' },
        attr: { type: 'string', minLength: 1, maxLength: EXTRACT_LIMITS.maxAttrLength, default: 'text', description: '"text", "html", or an attribute name.' },
        all: { type: 'boolean', default: false, description: 'Every match as an array (false: the first match).' },
        type: { type: 'string', enum: VALUE_TYPES, default: 'string', description: 'url resolves against the page (honouring <base href>); date gives ISO 8601.' },
        required: { type: 'boolean', default: false, description: 'A null value marks the page missing_required.' },
      },
    },
  ],
} as const;

const fieldsSchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: EXTRACT_LIMITS.maxFields,
  propertyNames: { minLength: 1, maxLength: EXTRACT_LIMITS.maxFieldNameLength },
  additionalProperties: ruleSchema,
} as const;

/**
 * JSON schema properties of the scraping options, to merge into the `POST /jobs` body schema
 * (`properties: {...jobProperties, ...scrapeOptionsSchema}`). The schema checks shapes;
 * `validateScrapeOptions` checks the rest (selectors compile, names) with messages naming the field.
 */
export const scrapeOptionsSchema = {
  formats: {
    type: 'array',
    items: { type: 'string', enum: FORMATS },
    maxItems: 20,
    default: ['metadata'],
    description: 'What each page record carries: metadata (always), links, text, markdown, html.',
  },
  onlyMainContent: {
    type: 'boolean',
    default: true,
    description: 'text and markdown hold the main content, boilerplate (navigation, headers, footers, banners, sidebars) removed; false: the whole body.',
  },
  extract: {
    type: ['object', 'null'],
    additionalProperties: false,
    default: null,
    description: 'Declarative CSS extraction: fields give one object per page (data), items an array per page.',
    properties: {
      fields: fieldsSchema,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['selector', 'fields'],
        properties: {
          selector: { type: 'string', minLength: 1, maxLength: EXTRACT_LIMITS.maxSelectorLength },
          fields: fieldsSchema,
        },
      },
    },
  },
  sitemaps: {
    type: 'string',
    enum: SITEMAP_MODES,
    default: 'include',
    description: 'include: seeds plus URLs from the site\'s sitemaps; skip; only: just the sitemap URLs.',
  },
} as const;
