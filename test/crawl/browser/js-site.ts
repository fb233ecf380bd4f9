/**
 * Fixture pages that only a browser gets right, served on 127.0.0.1 port 0: links written by
 * scripts, late links, infinite scroll, a hanging page, challenge pages, blocked resource types,
 * redirects and subresources pointing elsewhere, cookies, and a page that waits to be killed.
 */
import { startHttpFixture } from '../../fixtures/http-fixture.ts';
import { CHALLENGE_BODY } from '../../fixtures/proxy-server.ts';

export interface JsSite {
  readonly origin: string;
  /** Requests received per path (query included). */
  hits(path: string): number;
  /** Resolves when `path` is next requested. */
  nextHit(path: string): Promise<void>;
  /** Where `/redirect-away` and `/subresources-away` point. */
  setAwayOrigin(origin: string): void;
  close(): Promise<void>;
}

const html = (body: string, head = ''): string => `<!DOCTYPE html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;

const SCROLL_PAGE = html(`<div id="list"><div style="height:1500px"><a href="/item/0">item 0</a></div></div>
<script>
let next = 1, loading = false;
addEventListener('scroll', () => {
  if (loading || next > 3 || innerHeight + scrollY < document.body.scrollHeight - 50) return;
  loading = true;
  fetch('/more?n=' + next).then((r) => r.text()).then((t) => {
    const d = document.createElement('div'); d.style.height = '1500px'; d.innerHTML = t;
    document.getElementById('list').appendChild(d); next++; loading = false;
  });
});
</script>`);

export async function startJsSite(host = '127.0.0.1'): Promise<JsSite> {
  let away = '';

  const fixture = await startHttpFixture((req, res, { pathname, query }) => {
    const send = (body: string, status = 200, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    switch (pathname) {
      case '/js-links':
        return send(html(`<p>Shell</p><script>
for (const h of ['/a', '/b#section', '/a', 'mailto:x@example.com', 'javascript:void(0)', '/c?x=1']) {
  const a = document.createElement('a'); a.href = h; a.textContent = h; document.body.appendChild(a);
}
document.title = 'Scripted title';
</script>`));
      case '/late-links':
        return send(html(`<p>Wait for it</p><script>setTimeout(() => {
  const a = document.createElement('a'); a.href = '/late'; a.textContent = 'late'; document.body.appendChild(a);
}, 500);</script>`, '<title>Late</title>'));
      case '/polling':
        return send(html(`<a href="/x">x</a><script>(function tick() { document.body.dataset.t = String(Date.now()); setTimeout(tick, 50); })();</script>`));
      case '/scroll':
        return send(SCROLL_PAGE);
      case '/more':
        return send(`<a href="/item/${query?.get('n')}">more</a>`);
      case '/hang':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.write('<!DOCTYPE html><html><head><title>Hang</title></head><body><p>never ends');
      case '/hold':
        // Answered only when the socket is destroyed: keeps a page busy until it is killed.
        return;
      case '/held-page':
        return send(html(`<p>busy</p><script>fetch('/hold');</script>`));
      case '/recaptcha':
        return send(html(`<h1>Please verify you are a human</h1>
<iframe src="https://www.google.com/recaptcha/api2/anchor?k=6Lc_test&co=aHR0cA" width="304" height="78"></iframe>`, '<title>Security check</title>'));
      case '/cloudflare':
        return send(CHALLENGE_BODY, 403, { 'cf-mitigated': 'challenge', server: 'cloudflare' });
      case '/resources':
        return send(html(`<p class="f">text in a web font</p><img src="/pixel.png"><video src="/clip.mp4"></video><a href="/next">next</a>`,
          `<link rel="stylesheet" href="/style.css">`));
      case '/style.css':
        res.writeHead(200, { 'content-type': 'text/css' });
        return void res.end(`@font-face { font-family: F; src: url('/font.woff2') format('woff2'); } .f { font-family: F; }`);
      case '/pixel.png':
      case '/clip.mp4':
      case '/font.woff2':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(Buffer.alloc(16));
      case '/redirect-away':
        res.writeHead(302, { location: `${away}/secret` });
        return void res.end();
      case '/subresources-away':
        return send(html(`<a href="/ok">ok</a><script src="${away}/secret.js"></script><iframe src="${away}/secret-frame"></iframe>`));
      case '/set-cookie':
        return send(html('<a href="/x">x</a>'), 200, { 'set-cookie': 'sid=abc123; Path=/' });
      case '/echo-cookie':
        return send(html(`<p id="c">${(req.headers.cookie ?? 'none').replace(/[<>&]/g, '')}</p><a href="/x">x</a>`, '<title>cookie</title>'));
      case '/secret':
      case '/secret.js':
      case '/secret-frame':
        return send('secret');
      default:
        if (pathname!.startsWith('/page/')) {
          return send(html(`<p>Page ${pathname}</p><script>const a = document.createElement('a'); a.href = '/x'; document.body.appendChild(a);</script>`, '<title>Page</title>'));
        }
        return send(html('<p>not found</p>'), 404);
    }
  }, host);
  return {
    origin: fixture.url,
    hits: fixture.hits,
    nextHit: fixture.nextHit,
    setAwayOrigin: (o) => {
      away = o;
    },
    close: fixture.close,
  };
}
