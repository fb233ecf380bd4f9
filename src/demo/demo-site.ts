/**
 * A local site that behaves like the web a crawler meets: linked pages, pages that block (403),
 * rate-limit (429 with Retry-After), serve a captcha challenge, or answer slowly. Each kind lives
 * under its own path, so a job's seeds choose what the crawler meets (see driver.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoSiteOptions {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Normal pages under /page/0 … /page/<pages-1> (default 200). */
  pages?: number;
  /** Links on each normal page (default 5). */
  linksPerPage?: number;
  /** Delay of /slow/* responses in ms (default 1500). */
  slowMs?: number;
  /** Retry-After seconds sent with 429 (default 1). */
  retryAfterSeconds?: number;
}

export interface DemoSite {
  /** Base URL, e.g. http://127.0.0.1:34567 */
  url: string;
  port: number;
  /** Requests served so far, by kind (page, blocked, limited, captcha, slow, other). */
  readonly served: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export const CAPTCHA_HTML = `<!doctype html><html><head><title>Just a moment...</title>
<script src="https://js.hcaptcha.com/1/api.js" async defer></script></head>
<body><h1>Please verify you are a human</h1><form><div class="h-captcha" data-sitekey="demo"></div></form></body></html>`;

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

export async function startDemoSite(options: DemoSiteOptions = {}): Promise<DemoSite> {
  const pages = options.pages ?? 200;
  const linksPerPage = options.linksPerPage ?? 5;
  const slowMs = options.slowMs ?? 1500;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const served: Record<string, number> = { page: 0, blocked: 0, limited: 0, captcha: 0, slow: 0, other: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const html = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    const [, kind, id = '0'] = path.split('/');
    switch (kind) {
      case 'robots.txt':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('User-agent: *\nAllow: /\n');
        return;
      case 'sitemap.xml': {
        // Ten pages at the end of the graph, so sitemap_urls_total moves.
        const locs = Array.from({ length: 10 }, (_, i) => `<url><loc>http://${req.headers.host}/page/${pages - 1 - i}</loc></url>`).join('');
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${locs}</urlset>`);
        return;
      }
      case 'page': {
        served.page = (served.page ?? 0) + 1;
        const n = Number(id) || 0;
        const links = Array.from({ length: linksPerPage }, (_, i) => (n * linksPerPage + i + 1) % pages)
          .map((to) => `<li><a href="/page/${to}">page ${to}</a></li>`)
          .join('');
        // Even pages carry a price, odd ones do not: extraction rules requiring it see both outcomes.
        const price = n % 2 === 0 ? `<p class="price">$${n}.99</p>` : '';
        // Pages never change: a schedule's re-crawl (If-None-Match) is answered 304.
        const etag = `"page-${n}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag });
          res.end();
          return;
        }
        html(res, 200, page(`Page ${n}`, `${price}<p>${'Lorem ipsum dolor sit amet. '.repeat(40)}</p><ul>${links}</ul>`), { etag });
        return;
      }
      case 'blocked':
        served.blocked = (served.blocked ?? 0) + 1;
        html(res, 403, page('403 Forbidden', '<p>Access denied.</p>'));
        return;
      case 'limited':
        served.limited = (served.limited ?? 0) + 1;
        html(res, 429, page('429 Too Many Requests', '<p>Slow down.</p>'), { 'retry-after': String(retryAfter) });
        return;
      case 'captcha':
        served.captcha = (served.captcha ?? 0) + 1;
        html(res, 200, CAPTCHA_HTML);
        return;
      case 'slow': {
        served.slow = (served.slow ?? 0) + 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          html(res, 200, page(`Slow ${id}`, '<p>Worth the wait.</p>'));
        }, slowMs);
        timers.add(timer);
        return;
      }
      default: {
        served.other = (served.other ?? 0) + 1;
        const links = ['/page/0', '/page/1', '/blocked/0', '/limited/0', '/captcha/0', '/slow/0'].map((p) => `<li><a href="${p}">${p}</a></li>`).join('');
        html(res, path === '/' ? 200 : 404, page('Demo site', `<ul>${links}</ul>`));
      }
    }
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
