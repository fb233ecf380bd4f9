import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeenUrls } from '../../src/worker/seen-urls.ts';
import { rng } from '../../bench/rng.ts';

describe('SeenUrls (the offered-URL filter)', () => {
  it('answers as a Set of strings through adds, deletes and growth', () => {
    const seen = new SeenUrls();
    const ref = new Set<string>();
    const random = rng(7);
    for (let step = 0; step < 200_000; step++) {
      const url = `http://h${Math.floor(random() * 20)}.test/p/${Math.floor(random() * 60_000)}?q=${step % 3}`;
      if (random() < 0.2) assert.equal(seen.delete(url), ref.delete(url), `delete ${url}`);
      else {
        const fresh = !ref.has(url);
        ref.add(url);
        assert.equal(seen.add(url), fresh, `add ${url}`);
      }
      assert.equal(seen.size, ref.size);
    }
    for (const url of ref) assert.equal(seen.has(url), true, url);
    assert.equal(seen.has('http://h1.test/never'), false);
    assert.ok(seen.bytes <= 16 * 4 * ref.size, `${seen.bytes} bytes for ${ref.size} URLs`);
  });

  it('tells apart URLs that differ in one character, in order or in length', () => {
    const seen = new SeenUrls();
    const urls = ['http://a.test/ab', 'http://a.test/ba', 'http://a.test/a', 'http://a.test/ab/', 'https://a.test/ab', 'http://a.test/aB', 'http://a.test/é'];
    for (const url of urls) assert.equal(seen.add(url), true, url);
    for (const url of urls) assert.equal(seen.add(url), false, url);
  });

  it('starts over when full, so memory stays bounded', () => {
    const seen = new SeenUrls(1_000);
    for (let i = 0; i < 1_000; i++) seen.add(`http://a.test/${i}`);
    assert.equal(seen.size, 1_000);
    assert.equal(seen.add('http://a.test/one-more'), true);
    assert.equal(seen.size, 1);
    assert.equal(seen.has('http://a.test/0'), false, 'the store de-duplicates what was forgotten');
  });
});
