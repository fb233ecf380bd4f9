import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRenderDecider, looksClientRendered, visibleTextLength } from '../../../src/crawl/browser/render-decider.ts';
import { extractPage } from '../../../src/crawl/links.ts';

const BASE = 'https://shop.example/';
const page = (body: string, head = ''): string => `<!DOCTYPE html><html><head><title>t</title>${head}</head><body>${body}</body></html>`;
const ARTICLE = `<article>${'Plain server-rendered prose about owls and their habits. '.repeat(20)}</article>`;

const cases: Array<[string, string, boolean]> = [
  ['an empty React root with a bundle', page('<div id="root"></div><script src="/static/js/main.js"></script>'), true],
  ['an empty Vue app mount with a nav link', page('<nav><a href="/login">Log in</a></nav><div id="app"></div><script src="/app.js"></script>'), true],
  ['a Next.js shell without content', page('<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{"props":{}}</script>'), true],
  ['no links, no text, inline script', page('<script>document.write("hi")</script>'), true],
  ['a noscript hint and nothing else', page('<noscript>You need to enable JavaScript to run this app.</noscript>'), true],
  ['a server-rendered article with scripts', page(`${ARTICLE}<a href="/next">next</a><script src="/analytics.js"></script>`), false],
  ['a server-rendered Next.js page with content', page(`<div id="__next">${ARTICLE}<a href="/a">a</a></div><script id="__NEXT_DATA__" type="application/json">{}</script>`), false],
  ['a short static page with links and no scripts', page('<p>Hello</p><a href="/a">a</a>'), false],
  ['an empty page without scripts or hints', page('<p>Nothing here.</p>'), false],
  ['a link-less page with plenty of text and scripts', page(`${ARTICLE}<script src="/x.js"></script>`), false],
];

describe('looksClientRendered', () => {
  for (const [name, html, expected] of cases) {
    it(`${expected ? 'renders' : 'does not render'} ${name}`, () => {
      assert.equal(looksClientRendered(html, extractPage(html, BASE)), expected);
    });
  }

  it('counts only visible text', () => {
    assert.equal(visibleTextLength('<html><head><title>x</title><style>p{}</style></head><body><script>var a = 1;</script><p>ab c</p><!-- hidden --></body></html>'), 3);
  });
});

describe('createRenderDecider', () => {
  const shell = page('<div id="root"></div><script src="/main.js"></script>');
  const content = page(`${ARTICLE}<a href="/a">a</a>`);

  it('marks a site after learnAfter pages needed the browser, and only that site', () => {
    const d = createRenderDecider({ learnAfter: 3 });
    const x = extractPage(shell, BASE);
    assert.equal(d.needsBrowser('shop.example', shell, x), true);
    assert.equal(d.needsBrowser('shop.example', content, extractPage(content, BASE)), false);
    assert.equal(d.needsBrowser('shop.example', shell, x), true);
    assert.equal(d.siteNeedsBrowser('shop.example'), false);
    assert.equal(d.needsBrowser('shop.example', shell, x), true);
    assert.equal(d.siteNeedsBrowser('shop.example'), true);
    assert.equal(d.siteNeedsBrowser('blog.example'), false);
    // Once marked, even a page with content goes to the browser (its siblings need it).
    assert.equal(d.needsBrowser('shop.example', content, extractPage(content, BASE)), true);
  });

  it('uses the default of 3 pages', () => {
    const d = createRenderDecider();
    const x = extractPage(shell, BASE);
    d.needsBrowser('a.example', shell, x);
    d.needsBrowser('a.example', shell, x);
    assert.equal(d.siteNeedsBrowser('a.example'), false);
    d.needsBrowser('a.example', shell, x);
    assert.equal(d.siteNeedsBrowser('a.example'), true);
  });

  it('lets an operator mark a site either way; a site marked false never learns', () => {
    const d = createRenderDecider({ learnAfter: 1 });
    d.markSite('spa.example', true);
    assert.equal(d.siteNeedsBrowser('spa.example'), true);
    d.markSite('static.example', false);
    const x = extractPage(shell, BASE);
    assert.equal(d.needsBrowser('static.example', shell, x), true);
    assert.equal(d.siteNeedsBrowser('static.example'), false);
  });

  it('forgets the oldest sites beyond maxSites', () => {
    const d = createRenderDecider({ learnAfter: 1, maxSites: 2 });
    const x = extractPage(shell, BASE);
    for (const s of ['a', 'b', 'c']) d.needsBrowser(s, shell, x);
    assert.deepEqual(['a', 'b', 'c'].map((s) => d.siteNeedsBrowser(s)), [false, true, true]);
  });
});
