import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNumber, toBoolean, toDate, toInteger, toUrl } from '../../src/scrape/values.ts';

describe('parseNumber: the first number, currency signs and thousands separators removed', () => {
  const cases: Array<[string, number | null]> = [
    ['$1,234.50', 1234.5],
    ['1.234,50 €', 1234.5],
    ['1 234,50 €', 1234.5],
    ['1\u00a0234,50', 1234.5],
    ["CHF 1'234.50", 1234.5],
    ['N/A', null],
    ['Free', null],
    ['', null],
    ['1,234', 1234],
    ['1.234', 1.234],
    ['12,5', 12.5],
    ['0,125', 0.125],
    ['1,234,567.89', 1234567.89],
    ['1.234.567', 1234567],
    ['12,34,567', 1234567],
    ['-$12.5', -12.5],
    ['− 4', -4],
    ['SKU-12', 12],
    ['€ 12,-', 12],
    ['1.2.3', 1.2],
    ['10 12', 10],
    ['.5', 0.5],
    ['Price: 3.99 USD', 3.99],
    ['from $10 to $20', 10],
    ['007', 7],
    ['£3.99', 3.99],
    ['¥1,200', 1200],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${expected}`, () => assert.equal(parseNumber(text), expected));
  }
});

describe('typed conversions', () => {
  it('integer: whole numbers only', () => {
    assert.deepEqual(toInteger('SKU 1001'), { value: 1001, reason: null });
    assert.deepEqual(toInteger('12.00'), { value: 12, reason: null });
    assert.deepEqual(toInteger('12.5'), { value: null, reason: 'invalid_integer' });
    assert.deepEqual(toInteger('none'), { value: null, reason: 'invalid_integer' });
  });

  it('boolean: words, and HTML boolean attributes', () => {
    for (const t of ['true', 'Yes', 'y', '1', 'on', 'checked']) assert.equal(toBoolean(t).value, true, t);
    for (const t of ['false', 'NO', 'n', '0', 'off']) assert.equal(toBoolean(t).value, false, t);
    assert.deepEqual(toBoolean('maybe'), { value: null, reason: 'invalid_boolean' });
    assert.equal(toBoolean('', 'checked').value, true);
    assert.equal(toBoolean('checked', 'checked').value, true);
    assert.equal(toBoolean(null, 'checked').value, false);
    assert.deepEqual(toBoolean(null), { value: null, reason: 'invalid_boolean' });
  });

  it('url: resolved against the base, http(s) only', () => {
    assert.equal(toUrl('../img/1.jpg', 'https://shop.example/products/1').value, 'https://shop.example/img/1.jpg');
    assert.equal(toUrl('  img/2.jpg ', 'https://shop.example/static/').value, 'https://shop.example/static/img/2.jpg');
    assert.deepEqual(toUrl('javascript:alert(1)', 'https://shop.example/'), { value: null, reason: 'invalid_url' });
    assert.deepEqual(toUrl('', 'https://shop.example/'), { value: null, reason: 'invalid_url' });
    assert.deepEqual(toUrl('/x', null), { value: null, reason: 'invalid_url' });
  });

  it('date: ISO 8601, dates alone as YYYY-MM-DD, times in UTC', () => {
    const cases: Array<[string, string | null]> = [
      ['2024-03-05', '2024-03-05'],
      ['2024-02-30', null],
      ['2024-03-05T10:00:00+02:00', '2024-03-05T08:00:00.000Z'],
      ['2024-03-05 10:00', '2024-03-05T10:00:00.000Z'],
      ['2024-03-05T10:00:00.250Z', '2024-03-05T10:00:00.250Z'],
      ['March 5, 2024', '2024-03-05'],
      ['5 Mar 2024', '2024-03-05'],
      ['March 5, 2024 10:30', '2024-03-05T10:30:00.000Z'],
      ['Tue, 05 Mar 2024 10:00:00 GMT', '2024-03-05T10:00:00.000Z'],
      ['soon', null],
      ['12', null],
    ];
    for (const [text, expected] of cases) assert.equal(toDate(text).value, expected, text);
  });
});
