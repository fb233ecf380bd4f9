import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { isOwlError } from '../../src/errors.ts';
import {
  ScrapeCompileCache,
  compileScrapeOptions,
  parseFormatsList,
  scrapeOptionsSchema,
  validateScrapeOptions,
} from '../../src/scrape/options.ts';

function validationError(body: Record<string, unknown>): { message: string; field: unknown } {
  try {
    validateScrapeOptions(body);
  } catch (err) {
    assert.ok(isOwlError(err, 'VALIDATION'), `expected a VALIDATION OwlError, got ${String(err)}`);
    assert.equal(err.status, 400);
    return { message: err.message, field: err.details.field };
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

const ISSUE_EXAMPLE = {
  fields: { name: 'h1', price: { selector: '.price', type: 'number' }, image: { selector: 'img.main', attr: 'src', type: 'url' } },
  items: { selector: '.product', fields: { name: '.title', url: { selector: 'a', attr: 'href', type: 'url' }, tags: { selector: '.tag', all: true } } },
};

describe('validateScrapeOptions', () => {
  it('applies the defaults', () => {
    assert.deepEqual(validateScrapeOptions({}), { formats: ['metadata'], onlyMainContent: true, extract: null, sitemaps: 'include' });
  });

  it("accepts the issue's example and normalises every rule to an object", () => {
    const o = validateScrapeOptions({ formats: ['markdown', 'links'], onlyMainContent: false, extract: ISSUE_EXAMPLE, sitemaps: 'only' });
    assert.deepEqual(o.formats, ['metadata', 'links', 'markdown']);
    assert.equal(o.onlyMainContent, false);
    assert.equal(o.sitemaps, 'only');
    assert.deepEqual(o.extract?.fields?.name, { selector: 'h1', attr: 'text', all: false, type: 'string', required: false });
    assert.deepEqual(o.extract?.items?.fields.tags, { selector: '.tag', attr: 'text', all: true, type: 'string', required: false });
  });

  it('names the field of a bad selector, as the issue asks', () => {
    const e = validationError({ extract: { items: { selector: '.p', fields: { url: { selector: 'a:foo', attr: 'href' } } } } });
    assert.equal(e.message, 'extract.items.fields.url.selector: unknown pseudo-class :foo');
    assert.equal(e.field, 'extract.items.fields.url.selector');
  });

  it('refuses every kind of bad rule with the field path', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ formats: ['md'] }, 'formats[0]: unknown format "md"'],
      [{ formats: 'markdown' }, 'formats: must be an array'],
      [{ onlyMainContent: 'yes' }, 'onlyMainContent: must be true or false'],
      [{ sitemaps: 'all' }, 'sitemaps: must be one of include, skip, only'],
      [{ extract: [] }, 'extract: must be an object'],
      [{ extract: {} }, 'extract: needs "fields" or "items"'],
      [{ extract: { field: {} } }, 'extract: unknown property "field"'],
      [{ extract: { fields: {} } }, 'extract.fields: must name at least one field'],
      [{ extract: { fields: { a: '' } } }, 'extract.fields.a: must not be empty'],
      [{ extract: { fields: { a: 'div[' } } }, 'extract.fields.a: expected name'],
      [{ extract: { fields: { a: 'a::before' } } }, 'extract.fields.a: pseudo-elements are not supported'],
      [{ extract: { fields: { 'unit price': { selector: '>>' } } } }, 'extract.fields["unit price"].selector: did not expect successive traversals'],
      [{ extract: { fields: { a: 12 } } }, 'extract.fields.a: must be a CSS selector string or an object'],
      [{ extract: { fields: { a: { attr: 'href' } } } }, 'extract.fields.a: needs a "selector"'],
      [{ extract: { fields: { a: { selector: 'a', type: 'money' } } } }, 'extract.fields.a.type: must be one of string, number'],
      [{ extract: { fields: { a: { selector: 'a', all: 'yes' } } } }, 'extract.fields.a.all: must be true or false'],
      [{ extract: { fields: { a: { selector: 'a', required: 1 } } } }, 'extract.fields.a.required: must be true or false'],
      [{ extract: { fields: { a: { selector: 'a', attr: 'on click' } } } }, 'extract.fields.a.attr: is not an attribute name'],
      [{ extract: { fields: { a: { selector: 'a', regex: 'x' } } } }, 'extract.fields.a: unknown property "regex"'],
      [{ extract: { items: { fields: { a: 'a' } } } }, 'extract.items: needs a "selector"'],
      [{ extract: { items: { selector: '.p' } } }, 'extract.items: needs "fields"'],
      [{ extract: { items: { selector: '.p:nope', fields: { a: 'a' } } } }, 'extract.items.selector: unknown pseudo-class :nope'],
      [{ extract: { fields: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, 'a'])) } }, 'extract.fields: must have at most 100 fields'],
    ];
    for (const [body, start] of cases) {
      const e = validationError(body);
      assert.ok(e.message.startsWith(start), `${JSON.stringify(body).slice(0, 80)}: ${e.message}`);
      assert.ok(typeof e.field === 'string' && e.message.startsWith(`${e.field}:`), `field ${String(e.field)} not named first in ${e.message}`);
    }
  });

  it('allows :scope inside items (the item itself)', () => {
    assert.doesNotThrow(() => validateScrapeOptions({ extract: { items: { selector: '.p', fields: { id: { selector: ':scope', attr: 'data-id' } } } } }));
  });
});

describe('scrapeOptionsSchema (Fastify/OpenAPI fragment) agrees with the validator on shapes', () => {
  const ajv = new Ajv({ strict: false, useDefaults: true, coerceTypes: false });
  const validate = ajv.compile({ type: 'object', additionalProperties: false, properties: scrapeOptionsSchema });
  const samples: Array<Record<string, unknown>> = [
    {},
    { formats: ['metadata', 'markdown'], onlyMainContent: false, sitemaps: 'skip' },
    { extract: ISSUE_EXAMPLE },
    { extract: null },
    { formats: ['md'] },
    { formats: ['html', 'html'] },
    { sitemaps: 'all' },
    { onlyMainContent: 1 },
    { extract: { fields: { a: 12 } } },
    { extract: { fields: { a: { attr: 'href' } } } },
    { extract: { fields: { a: { selector: 'a', type: 'money' } } } },
    { extract: { fields: { a: { selector: 'a', regex: 'x' } } } },
    { extract: { items: { selector: '.p' } } },
    { extract: { fields: {} } },
    { extract: { other: {} } },
  ];
  for (const body of samples) {
    it(JSON.stringify(body).slice(0, 90), () => {
      const schemaOk = validate(structuredClone(body));
      let validatorOk = true;
      try {
        validateScrapeOptions(body);
      } catch {
        validatorOk = false;
      }
      // The schema may be looser (selectors are compiled only by the validator), never stricter.
      if (schemaOk === false) assert.equal(validatorOk, false, 'the schema refuses what the validator accepts');
      if (validatorOk && body.formats !== undefined && new Set(body.formats as string[]).size === (body.formats as string[]).length) assert.equal(schemaOk, true);
    });
  }
});

describe('parseFormatsList (the CLI form)', () => {
  it('reads a comma-separated list', () => {
    assert.deepEqual(parseFormatsList('markdown, links'), ['metadata', 'links', 'markdown']);
    assert.deepEqual(parseFormatsList('metadata'), ['metadata']);
  });
  it('names --formats in its errors', () => {
    assert.throws(() => parseFormatsList('markdown,pdf'), /^OwlError: formats\[1\]: unknown format "pdf"/);
    assert.throws(() => parseFormatsList(' , '), /formats: must list at least one/);
  });
});

describe('ScrapeCompileCache', () => {
  it('compiles once per job and bounds the jobs it keeps', () => {
    const cache = new ScrapeCompileCache(2);
    const options = validateScrapeOptions({ extract: ISSUE_EXAMPLE, formats: ['text'] });
    const a = cache.forJob('a', options);
    assert.equal(cache.forJob('a', options), a);
    const reread = structuredClone(options);
    const again = cache.forJob('a', reread);
    assert.equal(again.extract, a.extract, 'an equal options object re-read from the store reuses the compiled rules');
    assert.equal(cache.forJob('a', reread), again, 'and is then known by identity');
    assert.notEqual(cache.forJob('a', { ...options, formats: ['metadata'] }), a);
    cache.forJob('b', options);
    cache.forJob('c', options);
    assert.equal(cache.size, 2);
    assert.equal(a.text, true);
    assert.deepEqual(compileScrapeOptions(options).extract?.itemFieldNames, ['name', 'url', 'tags']);
  });
});
