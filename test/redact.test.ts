import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from '../src/redact.ts';

describe('redactUrl', () => {
  it('masks a password and keeps the user; masks a lone user name (often a token); leaves URLs without credentials alone', () => {
    assert.equal(redactUrl('postgres://owl:s3cr3t@db:5432/owl?sslmode=require'), 'postgres://owl:***@db:5432/owl?sslmode=require');
    assert.equal(redactUrl('http://user:p%40ss@proxy.test:3128'), 'http://user:***@proxy.test:3128');
    assert.equal(redactUrl('http://tok_abc123@proxy.test:3128'), 'http://***@proxy.test:3128');
    assert.equal(redactUrl('postgres://owl:@db/owl'), 'postgres://owl:***@db/owl');
    assert.equal(redactUrl('https://example.com/a@b'), 'https://example.com/a@b');
    assert.equal(redactUrl('not a url'), 'not a url');
  });
});
