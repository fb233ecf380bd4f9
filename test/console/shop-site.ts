/**
 * The console tests' fixture shop on 127.0.0.1: a home page linking to PRODUCTS product pages
 * (`h1.name`, `.price`), a hostile page, and a held page that answers only when released.
 *
 *   /              links to /p/1 … /p/PRODUCTS and /evil
 *   /p/N           product N: name "Product N", price N × 10.5, a paragraph of text
 *   /evil          <script>, an <img onerror=…>, a javascript: link, markup written as text in
 *                  the name: nothing of it may run in the console
 *   /hold/G/N      waits until release(G) (a crawl that stays running until the test lets it end
 *                  or cancels it), then a page like /p/N
 *   /robots.txt    404 (no rules)
 */
import { sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';

export const PRODUCTS = 5;
const HTML = { 'content-type': 'text/html; charset=utf-8' };

export interface ShopSite extends HttpFixture {
  /** Answers every request held at gate `gate`, now and later. */
  release(gate: string): void;
  /** Resolves once a path of gate `gate` has been requested. */
  held(gate: string): Promise<void>;
}

interface Gate {
  released: boolean;
  waiting: Array<() => void>;
  seen: boolean;
  onSeen: Array<() => void>;
}

export function productPage(n: number): string {
  return `<!doctype html><html lang="en"><head><title>Product ${n} | Owl shop</title><meta name="description" content="The product number ${n}"></head>
<body><main><article><h1 class="name">Product ${n}</h1><p>Price: <span class="price">${(n * 10.5).toFixed(2)}</span> EUR</p>
<p>Product ${n} is a sturdy owl figurine carved from oak. It keeps watch over your desk, your shelves and your crawls, day and night.</p>
<p>Back to the <a href="/">shop</a>.</p></article></main></body></html>`;
}

/** The hostile page: each trick would open a dialog or log an error if the console ran it. */
export const EVIL_PAGE = `<!doctype html><html lang="en"><head><title>&lt;script&gt;alert("title")&lt;/script&gt;</title>
<script>alert("inline script")</script></head>
<body><main><article><h1 class="name">&lt;img src=x onerror=alert("name")&gt; Evil owl</h1>
<p>Price: <span class="price">6.66</span></p>
<p>An evil page <img src="x" onerror="alert('img')"> with <a href="javascript:alert('link')">a javascript: link</a>
and <b onmouseover="alert('hover')">bold words</b> and a <a href="https://example.com/owls">real link</a>. It tries every trick it knows on the console that shows it.</p>
<script>alert("body script")</script>
</article></main></body></html>`;

export async function startShopSite(): Promise<ShopSite> {
  const gates = new Map<string, Gate>();
  const gate = (name: string): Gate => {
    let g = gates.get(name);
    if (g === undefined) {
      g = { released: false, waiting: [], seen: false, onSeen: [] };
      gates.set(name, g);
    }
    return g;
  };
  const site = await startHttpFixture((_req, res, at) => {
    if (at.pathname === '/') {
      const links = Array.from({ length: PRODUCTS }, (_, i) => `<li><a href="/p/${i + 1}">Product ${i + 1}</a></li>`).join('');
      return sendBody(res, 200, `<!doctype html><html lang="en"><head><title>Owl shop</title></head><body><h1>Owl shop</h1><ul>${links}<li><a href="/evil">Evil</a></li></ul></body></html>`, HTML);
    }
    let m = /^\/p\/(\d+)$/.exec(at.pathname);
    if (m) return sendBody(res, 200, productPage(Number(m[1])), HTML);
    if (at.pathname === '/evil') return sendBody(res, 200, EVIL_PAGE, HTML);
    m = /^\/hold\/(\w+)\/(\d+)$/.exec(at.pathname);
    if (m) {
      const g = gate(m[1]!);
      const n = Number(m[2]);
      g.seen = true;
      for (const f of g.onSeen.splice(0)) f();
      const answer = () => {
        if (!res.destroyed) sendBody(res, 200, productPage(n), HTML);
      };
      if (g.released) answer();
      else g.waiting.push(answer);
      return;
    }
    sendBody(res, 404, 'not found', { 'content-type': 'text/plain' });
  });
  return {
    ...site,
    release(name) {
      const g = gate(name);
      g.released = true;
      for (const f of g.waiting.splice(0)) f();
    },
    held(name) {
      const g = gate(name);
      return g.seen ? Promise.resolve() : new Promise<void>((resolve) => g.onSeen.push(resolve));
    },
  };
}
