import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type dns from 'node:dns';
import { assertTargetAllowed, assertHostResolvesAllowed, guardedLookup, isForbiddenAddress } from '../../src/crawl/target-guard.ts';
import { isOwlError } from '../../src/errors.ts';

describe('isForbiddenAddress', () => {
  const forbidden = [
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.1.2.3',
    '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.0.0.192', '192.0.2.5', '192.168.1.1', '198.18.0.1',
    '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255',
    '::', '::1', '[::1]', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::127.0.0.1', '::ffff:0:10.0.0.1',
    '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::1', '2002:7f00:1::1', '2002:c0a8:101::',
    'not-an-ip', '',
  ];
  const allowed = [
    '1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.0',
    '169.253.255.255', '172.15.255.255', '172.32.0.0', '192.0.1.1', '192.0.3.1', '192.167.1.1', '198.17.255.255',
    '198.20.0.0', '203.0.114.1', '223.255.255.255',
    '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1', 'fec0::1',
  ];
  for (const ip of forbidden) it(`forbids ${JSON.stringify(ip)}`, () => assert.equal(isForbiddenAddress(ip), true));
  for (const ip of allowed) it(`allows ${ip}`, () => assert.equal(isForbiddenAddress(ip), false));
});

function codeOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    assert.ok(isOwlError(e), `expected OwlError, got ${String(e)}`);
    return e.code;
  }
}

describe('assertTargetAllowed', () => {
  it('rejects malformed and non-http(s) URLs with INVALID_URL, even with allowPrivate', () => {
    for (const url of ['not a url', '/relative', 'ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://x/']) {
      assert.equal(codeOf(() => assertTargetAllowed(url, false)), 'INVALID_URL', url);
      assert.equal(codeOf(() => assertTargetAllowed(url, true)), 'INVALID_URL', url);
    }
  });

  it('refuses loopback, private and metadata IPs in every notation', () => {
    const urls = [
      'http://127.0.0.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.0.0.1/', 'http://0x7f000001/',
      'http://127.1/', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest/meta-data/',
      'http://0xa9fea9fe/', 'https://10.1.2.3/', 'http://192.168.0.1:8443/x', 'http://[fd00::1]/', 'http://0/',
      'http://user:pw@127.0.0.1/',
    ];
    for (const url of urls) {
      assert.equal(codeOf(() => assertTargetAllowed(url, false)), 'TARGET_FORBIDDEN', url);
      assert.equal(codeOf(() => assertTargetAllowed(url, true)), null, url);
    }
  });

  it('refuses metadata host names unless allowPrivate', () => {
    for (const url of ['http://metadata.google.internal/computeMetadata/v1/', 'http://METADATA/', 'http://metadata.google.internal./', 'http://instance-data/latest/']) {
      assert.equal(codeOf(() => assertTargetAllowed(url, false)), 'TARGET_FORBIDDEN', url);
      assert.equal(codeOf(() => assertTargetAllowed(url, true)), null, url);
    }
  });

  it('accepts public literals and host names (names are checked at connect time)', () => {
    for (const url of ['http://example.com/', 'https://8.8.8.8/', 'http://[2606:4700::1111]/', 'http://localhost:3000/', 'https://metadata.example.com/']) {
      assert.equal(codeOf(() => assertTargetAllowed(url, false)), null, url);
    }
  });

  it('carries the url in details', () => {
    try {
      assertTargetAllowed('http://127.0.0.1/x', false);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(isOwlError(e, 'TARGET_FORBIDDEN'));
      assert.equal(e.details.url, 'http://127.0.0.1/x');
    }
  });
});

function lookup(host: string, options: dns.LookupOptions): Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
  return new Promise((resolve) => {
    guardedLookup(host, options, (err, address, family) => resolve({ err, address, family }));
  });
}

describe('guardedLookup', () => {
  it('rejects a name that resolves to loopback with TARGET_FORBIDDEN', async () => {
    const single = await lookup('localhost', {});
    assert.ok(isOwlError(single.err, 'TARGET_FORBIDDEN'));
    const all = await lookup('localhost', { all: true });
    assert.ok(isOwlError(all.err, 'TARGET_FORBIDDEN'));
  });

  it('passes literal public addresses through in both callback shapes', async () => {
    const single = await lookup('8.8.8.8', {});
    assert.equal(single.err, null);
    assert.equal(single.address, '8.8.8.8');
    assert.equal(single.family, 4);
    const all = await lookup('8.8.8.8', { all: true });
    assert.equal(all.err, null);
    assert.deepEqual(all.address, [{ address: '8.8.8.8', family: 4 }]);
  });

  it('reports a DNS failure as the lookup error, not as forbidden', async () => {
    const res = await lookup('does-not-exist.invalid', {});
    assert.ok(res.err);
    assert.equal(isOwlError(res.err), false);
  });
});

describe('assertHostResolvesAllowed', () => {
  it('refuses names and literals that resolve to forbidden addresses', async () => {
    await assert.rejects(assertHostResolvesAllowed('localhost'), (e) => isOwlError(e, 'TARGET_FORBIDDEN'));
    await assert.rejects(assertHostResolvesAllowed('[::1]'), (e) => isOwlError(e, 'TARGET_FORBIDDEN'));
    await assertHostResolvesAllowed('8.8.8.8');
  });

  it('maps a DNS failure to NETWORK', async () => {
    await assert.rejects(assertHostResolvesAllowed('does-not-exist.invalid'), (e) => isOwlError(e, 'NETWORK'));
  });
});
