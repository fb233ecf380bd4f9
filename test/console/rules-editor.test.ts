/** The console's rule editor reads rows from the rules' JSON and writes them back (pure functions). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rowsOf, textOf } from '../../console/src/rules-editor.ts';
import { validateScrapeOptions } from '../../src/scrape/options.ts';

describe('console rule editor', () => {
  it('writes rows as rules the API accepts: a bare selector where nothing else is set', () => {
    const text = textOf([
      { name: 'name', selector: 'h1', attr: 'text', type: 'string', required: false, all: false },
      { name: 'price', selector: '.price', attr: 'text', type: 'number', required: true, all: false },
      { name: 'images', selector: 'img', attr: 'src', type: 'url', required: false, all: true },
    ]);
    assert.deepEqual(JSON.parse(text), {
      fields: { name: 'h1', price: { selector: '.price', type: 'number', required: true }, images: { selector: 'img', attr: 'src', type: 'url', all: true } },
    });
    assert.doesNotThrow(() => validateScrapeOptions({ extract: JSON.parse(text) }));
    assert.deepEqual(rowsOf(text)!.map((r) => r.name), ['name', 'price', 'images'], 'and reads them back');
    assert.equal(textOf(rowsOf(text)!), text);
  });

  it('an empty text or no rows is no extraction', () => {
    assert.deepEqual(rowsOf(''), []);
    assert.deepEqual(rowsOf('null'), []);
    assert.equal(textOf([]), '');
  });

  it('leaves to the JSON what rows cannot show: items, unknown keys, invalid JSON', () => {
    assert.equal(rowsOf('{"items": {"selector": "li", "fields": {"a": "a"}}}'), null);
    assert.equal(rowsOf('{"fields": {"a": {"selector": "a", "bogus": 1}}}'), null);
    assert.equal(rowsOf('{"fields": '), null);
    assert.equal(rowsOf('[1]'), null);
  });

  it('names a row without a name after its place', () => {
    assert.deepEqual(JSON.parse(textOf([{ name: ' ', selector: 'h2', attr: 'text', type: 'string', required: false, all: false }])), { fields: { field1: 'h2' } });
  });
});
