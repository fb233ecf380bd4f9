import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver, hostOf, isLikelyTrap, normalizeUrl, TRAP_LIMITS } from '../../src/crawl/url.ts';
import { rng } from '../../bench/rng.ts';

describe('normalizeUrl', () => {
  it('normalises with WHATWG semantics and drops the fragment', () => {
    assert.equal(normalizeUrl('HTTP://Example.COM'), 'http://example.com/');
    assert.equal(normalizeUrl('https://example.com:443/a/./b/../c?x=1#frag'), 'https://example.com/a/c?x=1');
    assert.equal(normalizeUrl('http://example.com:80/p'), 'http://example.com/p');
    assert.equal(normalizeUrl('http://example.com:8080/p'), 'http://example.com:8080/p');
    assert.equal(normalizeUrl('https://bücher.de/ü'), 'https://xn--bcher-kva.de/%C3%BC');
    assert.equal(normalizeUrl('https://example.com?q'), 'https://example.com/?q');
    assert.equal(normalizeUrl('  https://example.com/a b\n'), 'https://example.com/a%20b');
  });

  it('keeps the query as written (no re-ordering, no re-encoding of %)', () => {
    assert.equal(normalizeUrl('https://e.com/p?b=2&a=1&c=%zz'), 'https://e.com/p?b=2&a=1&c=%zz');
  });

  it('returns null for non-http(s) and invalid URLs', () => {
    for (const raw of ['mailto:a@b.c', 'javascript:void(0)', 'data:text/html,x', 'tel:+1', 'ftp://f.org/', 'http://', 'https://[::1', 'not a url', '']) {
      assert.equal(normalizeUrl(raw), null, raw);
    }
  });

  it('resolves relative references against a base string or URL', () => {
    assert.equal(normalizeUrl('../x?y', 'https://e.com/a/b/c'), 'https://e.com/a/x?y');
    assert.equal(normalizeUrl('//cdn.e.com/z', new URL('http://e.com/')), 'http://cdn.e.com/z');
    assert.equal(normalizeUrl('#top', 'https://e.com/p?q=1#old'), 'https://e.com/p?q=1');
    assert.equal(normalizeUrl('x', 'mailto:a@b.c'), null);
    assert.equal(normalizeUrl('x'), null);
  });

  it('fast path and new URL agree on every reference kind (spot checks; the fuzz test covers more)', () => {
    const base = 'https://u:p@e.com:8443/dir/page?q=1#f';
    const resolve = createResolver(base);
    const refs = ['', '#x', '?', '?a=1', 'p', 'p/q?r', '/abs', '/abs?x', '//h.org', '//h.org/p?q', 'http://h.org', 'https://h.org?x', '.x', '..', 'a:b', '/%2e%2e/', 'http://1.2.3/', 'https://h.123/', 'http://xn--zz.com/', '/\\a', "/it's?it's"];
    for (const ref of refs) {
      const u = URL.canParse(ref, base) ? new URL(ref, base) : null;
      if (u !== null) u.hash = '';
      const expected = u !== null && (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
      assert.equal(resolve(ref), expected, ref);
    }
  });

  it('agrees with new URL on IPv4 hosts and ports, as absolute URLs, protocol-relative references and bases', () => {
    const hosts = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '0x7f.0.0.1', '1.2.3.a', 'a.1', '1.example.com', '10.0.0.1.nip.io', 'example.com', '999.b.c'];
    const ports = ['', ':', ':0', ':00', ':80', ':443', ':080', ':3000', ':65535', ':65536', ':99999', ':123456', ':8o'];
    const tails = ['', '/', '/p?q', '?q'];
    let fast = 0;
    for (const scheme of ['http:', 'https:']) {
      for (const host of hosts) {
        for (const port of ports) {
          for (const tail of tails) {
            const url = `${scheme}//${host}${port}${tail}`;
            const expected = URL.canParse(url) ? new URL(url).href : null;
            assert.equal(normalizeUrl(url), expected, url);
            assert.equal(createResolver(`${scheme}//other.org/d/`)(`//${host}${port}${tail}`), expected, `//${host}${port}${tail} against ${scheme}`);
            if (expected === null) continue;
            // The same URL as a page's base: relative links resolve as new URL resolves them.
            for (const ref of ['x?y', '/abs', '?q2', '']) assert.equal(createResolver(url)(ref), new URL(ref, url).href, `${ref} against ${url}`);
            if (expected === url) fast++;
          }
        }
      }
    }
    assert.ok(fast > 100, `only ${fast} URLs already in their normal form`);
  });
});

describe('hostOf', () => {
  it('returns the lower-case host without userinfo and port', () => {
    assert.equal(hostOf('https://example.com/a'), 'example.com');
    assert.equal(hostOf('https://user:pw@sub.example.com:8443/a?b=c@d'), 'sub.example.com');
    assert.equal(hostOf('http://[::1]:8080/'), '[::1]');
    assert.equal(hostOf('http://127.0.0.1:3000'), '127.0.0.1');
  });

  it('agrees with URL.hostname on normalised URLs', () => {
    for (const raw of ['https://A.b.C/x', 'http://u@h.org:1/p?q#f', 'https://xn--bcher-kva.de/', 'http://[2001:db8::1]/']) {
      const url = normalizeUrl(raw);
      assert.ok(url);
      assert.equal(hostOf(url), new URL(url).hostname);
    }
  });
});

describe('isLikelyTrap', () => {
  it('accepts ordinary URLs', () => {
    assert.equal(isLikelyTrap('https://e.com/'), false);
    assert.equal(isLikelyTrap('https://e.com/a/b/c/d/e/f/g/h/i/j?x=1'), false);
    assert.equal(isLikelyTrap('https://e.com/a/a/b/a?x=1&x=1'), false);
    assert.equal(isLikelyTrap(`https://e.com/${'x'.repeat(2000)}`), false);
  });

  it('flags length > 2048', () => {
    assert.equal(isLikelyTrap(`https://e.com/${'x'.repeat(2048)}`), true);
  });

  it('flags a segment 3 times in a row or 4 times overall', () => {
    assert.equal(isLikelyTrap('https://e.com/cal/cal/cal'), true);
    assert.equal(isLikelyTrap('https://e.com/a/b/a/c/a/d/a'), true);
    assert.equal(isLikelyTrap('https://e.com/a/b/a/c/a'), false);
  });

  it('flags more than 10 segments and more than 12 query parameters', () => {
    assert.equal(isLikelyTrap('https://e.com/1/2/3/4/5/6/7/8/9/10/11'), true);
    assert.equal(isLikelyTrap('https://e.com/1/2/3/4/5/6/7/8/9/10'), false);
    const params = (n: number): string => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
    assert.equal(isLikelyTrap(`https://e.com/?${params(13)}`), true);
    assert.equal(isLikelyTrap(`https://e.com/?${params(12)}`), false);
  });

  it('does not count slashes of the query as path segments', () => {
    assert.equal(isLikelyTrap('https://e.com/?next=/a/a/a/a/a/a/a/a/a/a/a/a'), false);
  });

  it('equals the plain split-and-count definition on 20,000 generated URLs', () => {
    const random = rng(11);
    const pick = (xs: string[]): string => xs[Math.floor(random() * xs.length)]!;
    for (let i = 0; i < 20_000; i++) {
      const segments = Array.from({ length: Math.floor(random() * 14) }, () => pick(['a', 'b', 'cal', '', 'x1', 'aa', '2024']));
      const params = Array.from({ length: Math.floor(random() * 16) }, () => pick(['p=1', '', 'a=2', 'x', '/a/a/a']));
      const url = `https://e.com/${segments.join('/')}${random() < 0.5 ? `?${params.join('&')}` : ''}${random() < 0.2 ? '#/a/a/a&&' : ''}`;
      assert.equal(isLikelyTrap(url), referenceTrap(url), url);
    }
  });
});

/** The trap rules written the obvious way (what isLikelyTrap computes in one pass). */
function referenceTrap(url: string): boolean {
  if (url.length > TRAP_LIMITS.maxLength) return true;
  const beforeFragment = url.split('#')[0]!;
  const [pathPart, query = ''] = beforeFragment.slice(beforeFragment.indexOf('/', beforeFragment.indexOf('//') + 2)).split(/\?(.*)/s);
  if (query.split('&').filter((p) => p.length > 0).length > TRAP_LIMITS.maxQueryParams) return true;
  const segments = pathPart!.split('/').filter((s) => s.length > 0);
  if (segments.length > TRAP_LIMITS.maxSegments) return true;
  return segments.some((s, i) => {
    const inRow = segments.slice(Math.max(0, i - TRAP_LIMITS.maxRepeatInRow + 1), i + 1);
    return (inRow.length === TRAP_LIMITS.maxRepeatInRow && inRow.every((x) => x === s)) || segments.slice(0, i + 1).filter((x) => x === s).length >= TRAP_LIMITS.maxRepeatOverall;
  });
}
