import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { isOwlError } from '../../src/errors.ts';
import { capJson, capString } from '../../src/scrape/content-cap.ts';
import { decodeContent, encodeContent } from '../../src/scrape/content-codec.ts';
import { contentHash, stripTracking } from '../../src/scrape/content-hash.ts';

const CONTENT = {
  metadata: { title: 'Owls – a guide', jsonLd: [{ '@type': 'Article' }] },
  markdown: `# Owls\n\n${'Owls are birds of prey. '.repeat(500)}\n\n| a | b |\n| --- | --- |\n| 1 | 2 |`,
  data: { price: 12.5, tags: ['a', 'b'], inStock: true, none: null },
  text: 'フクロウ 🦉 émoji',
};

describe('content codec', () => {
  it('round-trips, and compresses', () => {
    const blob = encodeContent(CONTENT);
    assert.equal(blob[0], 1);
    assert.deepEqual(decodeContent(blob), CONTENT);
    assert.ok(blob.length < JSON.stringify(CONTENT).length / 5, `${blob.length} bytes`);
    assert.deepEqual(decodeContent(encodeContent(null)), null);
    assert.deepEqual(decodeContent(new Uint8Array(encodeContent('x'))), 'x');
  });

  it('stores a small record (a metadata-only page) without compression, checksum still checked', () => {
    const small = { contentType: 'text/html', metadata: { title: 'Page 1', lang: 'en' }, contentHash: 'ab12' };
    const blob = encodeContent(small);
    assert.equal(blob[0], 2);
    assert.equal(blob.length, 5 + Buffer.byteLength(JSON.stringify(small)));
    assert.deepEqual(decodeContent(blob), small);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 3] ^= 0x01;
    assert.throws(() => decodeContent(flipped), (err: unknown) => isOwlError(err, 'INTERNAL') && /checksum/.test(err.message));
  });

  const unreadable = (blob: Uint8Array, why: RegExp): void => {
    assert.throws(
      () => decodeContent(blob),
      (err: unknown) => isOwlError(err, 'INTERNAL') && why.test(err.message),
    );
  };

  it('refuses corrupt blobs with the reason', () => {
    const blob = encodeContent(CONTENT);
    unreadable(blob.subarray(0, 3), /shorter than the header/);
    const version = Buffer.from(blob);
    version[0] = 9;
    unreadable(version, /unknown format version 9/);
    unreadable(blob.subarray(0, blob.length - 10), /brotli|checksum/);
    const crc = Buffer.from(blob);
    crc[2] = crc[2]! ^ 0xff;
    unreadable(crc, /checksum mismatch/);
    // Flip every 97th payload byte: never accepted as valid content.
    for (let i = 5; i < blob.length; i += 97) {
      const flipped = Buffer.from(blob);
      flipped[i] = flipped[i]! ^ 0x55;
      assert.throws(() => decodeContent(flipped), (err: unknown) => isOwlError(err, 'INTERNAL'));
    }
  });
});

describe('content cap', () => {
  it('cuts strings at a character boundary', () => {
    assert.deepEqual(capString('abc', 10), { value: 'abc', truncated: false });
    const s = 'é'.repeat(10); // 20 bytes
    const c = capString(s, 7);
    assert.equal(c.truncated, true);
    assert.equal(c.value, 'ééé');
    assert.equal(capString('🦉🦉', 5).value, '🦉');
  });

  it('fits arrays and objects into the budget', () => {
    const arr = Array.from({ length: 100 }, (_, i) => `item-${i}`);
    const a = capJson(arr, 100);
    assert.equal(a.truncated, true);
    assert.ok(JSON.stringify(a.value).length <= 100);
    assert.deepEqual(a.value, arr.slice(0, a.value.length));
    const o = capJson({ small: 1, big: 'x'.repeat(1000), after: 'y' }, 200);
    assert.ok(JSON.stringify(o.value).length <= 200, JSON.stringify(o.value));
    assert.equal(o.value.small, 1);
    assert.deepEqual(capJson({ a: 1 }, 100), { value: { a: 1 }, truncated: false });
  });
});

describe('contentHash', () => {
  it('ignores whitespace, key order and tracking parameters; sees real changes', () => {
    const h = contentHash({ mainText: 'Owls  are\n birds.', data: { url: 'https://a.example/p?id=1&utm_source=x#top', price: 1 } });
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(contentHash({ mainText: ' Owls are birds. ', data: { price: 1, url: 'https://a.example/p?id=1&gclid=abc' } }), h);
    assert.notEqual(contentHash({ mainText: 'Owls are birds!', data: { price: 1, url: 'https://a.example/p?id=1' } }), h);
    assert.notEqual(contentHash({ mainText: 'Owls are birds.', data: { price: 2, url: 'https://a.example/p?id=1' } }), h);
    assert.notEqual(contentHash({ mainText: 'Owls are birds.', data: { price: 1, url: 'https://a.example/p?id=2' } }), h);
  });

  it('uses title, description and canonical when there is no main content', () => {
    const a = contentHash({ mainText: null, fallback: { title: 'T', description: 'D', canonical: 'https://a.example/?utm_medium=m' } });
    assert.equal(contentHash({ mainText: null, fallback: { title: 'T', description: 'D', canonical: 'https://a.example/' } }), a);
    assert.notEqual(contentHash({ mainText: null, fallback: { title: 'T2', description: 'D', canonical: 'https://a.example/' } }), a);
    // The hashed bytes are a stored format: a schedule compares new pages with hashes stored by earlier versions.
    assert.equal(a, hash('sha256', '{"v":1,"main":{"canonical":"https://a.example/","description":"D","title":"T"},"data":null,"items":null}', 'hex'));
    assert.equal(a, 'b51d06a917ed9b7209961d9c9b946238291014c77ae4092b274c135604f40df9');
  });

  it('hashes the fallback as JSON.stringify writes it, whatever its strings hold', () => {
    const strings = [null, '', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0001', 'ünïcödé ✓ 🦉', '\u2028\u2029', 'lone \ud800 surrogate', 'https://a.example/p?utm_source=x&id=1#frag'];
    for (const title of strings) {
      for (const description of strings) {
        const canonical = description;
        const doc = { v: 1, main: { canonical: canonical === null ? null : stripTracking(canonical), description: description === null ? null : stripTracking(description), title: title === null ? null : stripTracking(title) }, data: null, items: null };
        assert.equal(contentHash({ mainText: null, fallback: { title, description, canonical } }), hash('sha256', JSON.stringify(doc), 'hex'), JSON.stringify([title, description]));
      }
    }
  });

  it('stripTracking keeps other parameters and non-URLs', () => {
    assert.equal(stripTracking('https://a.example/p?b=2&utm_campaign=x&a=1&fbclid=z#f'), 'https://a.example/p?b=2&a=1');
    assert.equal(stripTracking('not a url'), 'not a url');
  });
});
