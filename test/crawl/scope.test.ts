import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createScope } from '../../src/crawl/scope.ts';

describe('createScope', () => {
  it("'host': same host as a seed, a leading www. ignored on both sides", () => {
    const inScope = createScope(['https://www.example.com/start', 'http://blog.other.org'], 'host');
    assert.equal(inScope('https://example.com/a'), true);
    assert.equal(inScope('https://www.example.com/b'), true);
    assert.equal(inScope('http://example.com:8080/c'), true);
    assert.equal(inScope('https://blog.other.org/p'), true);
    assert.equal(inScope('https://shop.example.com/'), false);
    assert.equal(inScope('https://other.org/'), false);
    assert.equal(inScope('https://example.com.evil.net/'), false);
  });

  it("'domain': same registrable domain as a seed", () => {
    const inScope = createScope(['https://www.example.co.uk/'], 'domain');
    assert.equal(inScope('https://shop.example.co.uk/x'), true);
    assert.equal(inScope('https://example.co.uk/'), true);
    assert.equal(inScope('https://a.b.example.co.uk/'), true);
    assert.equal(inScope('https://other.co.uk/'), false);
    assert.equal(inScope('https://notexample.co.uk/'), false);
    assert.equal(inScope('https://example.co.uk.evil.net/'), false);
  });

  it("'domain': private suffixes separate sites (a.github.io is not b.github.io)", () => {
    const inScope = createScope(['https://alice.github.io/'], 'domain');
    assert.equal(inScope('https://docs.alice.github.io/'), true);
    assert.equal(inScope('https://bob.github.io/'), false);
  });

  it("'domain': IPs and localhost compare as whole hosts", () => {
    const inScope = createScope(['http://127.0.0.1:3000/', 'http://localhost/'], 'domain');
    assert.equal(inScope('http://127.0.0.1:4000/x'), true);
    assert.equal(inScope('http://localhost:9/'), true);
    assert.equal(inScope('http://127.0.0.2/'), false);
  });

  it('ignores unusable seeds; with none, nothing is in scope', () => {
    assert.equal(createScope(['mailto:a@b.c', 'nonsense'], 'host')('https://b.c/'), false);
    assert.equal(createScope([], 'domain')('https://b.c/'), false);
  });
});
