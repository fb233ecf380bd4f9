/**
 * A loopback forward proxy that a browser context is pointed at when private targets are not
 * allowed. Playwright's request interception never sees redirect hops (its route handler runs for
 * the first URL only) and Chromium resolves host names itself, so a page could still reach
 * 127.0.0.1 or 169.254.169.254 through a redirect, a subresource or DNS rebinding. Here every
 * connection the browser makes (navigations, each redirect hop, subresources, CONNECT tunnels for
 * https and WebSockets) is resolved and checked, then connected to the checked address itself.
 * With an upstream proxy the name is checked here and the upstream connects by name (the
 * remaining window is the upstream's own resolution, as in target-guard's proxied fetches).
 */
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { isForbiddenAddress, isMetadataHost } from '../target-guard.ts';

/**
 * Response header on the proxy's own plain-HTTP answers, so the renderer can tell them from the
 * target's: `refused` (forbidden address) or `failed` (name not resolved, connection failed).
 */
export const GUARD_HEADER = 'x-owl-guard';

export interface GuardProxyOptions {
  /** Next hop as `http://user:pass@host:port`; null connects directly (default null). */
  upstream?: string | null;
  /** Which resolved addresses are refused (default: `isForbiddenAddress` from target-guard). */
  isForbidden?: (ip: string) => boolean;
}

export interface GuardProxy {
  /** `http://127.0.0.1:PORT`, for Playwright's `proxy.server`. */
  readonly server: string;
  /** Connections refused so far. */
  refusals(): number;
  /** Host names refused so far, most recent last (the last 32). */
  refusedHosts(): readonly string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
const MAX_REFUSALS_KEPT = 32;

function withoutHopByHop(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function requestHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const kept = withoutHopByHop(raw);
  for (let i = 0; i < kept.length; i += 2) {
    const name = kept[i]!.toLowerCase();
    out[name] = name in out ? `${out[name]}, ${kept[i + 1]}` : kept[i + 1]!;
  }
  return out;
}

function basicAuth(u: URL): string | null {
  if (u.username === '' && u.password === '') return null;
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}

export async function startGuardProxy(opts: GuardProxyOptions = {}): Promise<GuardProxy> {
  const isForbidden = opts.isForbidden ?? isForbiddenAddress;
  const upstream = opts.upstream ? new URL(opts.upstream) : null;
  const upstreamAuth = upstream ? basicAuth(upstream) : null;
  const refused: string[] = [];
  let refusals = 0;
  const sockets = new Set<Duplex>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const refuse = (host: string): void => {
    refusals++;
    refused.push(host);
    if (refused.length > MAX_REFUSALS_KEPT) refused.shift();
  };

  /** The address to connect to, or null when the host is refused. Rejects when DNS fails. */
  const resolveAllowed = async (hostname: string): Promise<string | null> => {
    const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    if (net.isIP(literal) !== 0) return isForbidden(literal) ? null : literal;
    if (isMetadataHost(literal)) return null;
    const addresses = await dns.promises.lookup(literal, { all: true });
    if (addresses.length === 0 || addresses.some((a) => isForbidden(a.address))) return null;
    return addresses[0]!.address;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res.writeHead(400, { connection: 'close' });
        return void res.end('absolute URI required');
      }
      if (target.protocol !== 'http:') {
        res.writeHead(400, { connection: 'close' });
        return void res.end('only http: is proxied without CONNECT');
      }
      let address: string | null;
      try {
        address = await resolveAllowed(target.hostname);
      } catch {
        res.writeHead(502, { [GUARD_HEADER]: 'failed', connection: 'close' });
        return void res.end('name not resolved');
      }
      if (address === null) {
        refuse(target.hostname);
        res.writeHead(403, { [GUARD_HEADER]: 'refused', 'content-type': 'text/plain', connection: 'close' });
        return void res.end('target refused: private, loopback, link-local or metadata address');
      }
      const headers = requestHeaders(req.rawHeaders);
      const hop = upstream
        ? { host: upstream.hostname, port: Number(upstream.port || 80), path: target.href, headers: upstreamAuth ? { ...headers, 'proxy-authorization': upstreamAuth } : headers }
        : { host: address, port: Number(target.port || 80), path: target.pathname + target.search, headers };
      const out = http.request({ ...hop, method: req.method, agent, setHost: false }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, withoutHopByHop(up.rawHeaders));
        up.pipe(res);
      });
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { [GUARD_HEADER]: 'failed', connection: 'close' });
        res.end();
      });
      res.on('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      req.pipe(out);
    })();
  });

  server.on('connection', track);
  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const m = /^(.+):(\d+)$/.exec(req.url ?? '');
    if (m === null) return void client.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    const host = m[1]!;
    const port = Number(m[2]);
    const join = (sock: Duplex, early: Buffer): void => {
      track(sock);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (early.length > 0) client.write(early);
      if (head.length > 0) sock.write(head);
      sock.pipe(client);
      client.pipe(sock);
      sock.on('error', () => client.destroy());
      sock.on('close', () => client.destroy());
      client.on('close', () => sock.destroy());
    };
    void (async () => {
      let address: string | null;
      try {
        address = await resolveAllowed(host);
      } catch {
        return void client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      }
      if (address === null) {
        refuse(host.replace(/^\[|\]$/g, ''));
        return void client.end(`HTTP/1.1 403 Forbidden\r\n${GUARD_HEADER}: refused\r\ncontent-length: 0\r\n\r\n`);
      }
      if (client.destroyed) return;
      if (upstream) {
        const headers: Record<string, string> = { host: req.url! };
        if (upstreamAuth) headers['proxy-authorization'] = upstreamAuth;
        const tunnel = http.request({ host: upstream.hostname, port: Number(upstream.port || 80), method: 'CONNECT', path: req.url, headers });
        tunnel.on('connect', (answer, sock, early) => {
          if (answer.statusCode !== 200) {
            sock.destroy();
            return void client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n`);
          }
          join(sock, early);
        });
        tunnel.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'));
        tunnel.end();
        return;
      }
      const sock = net.connect(port, address, () => join(sock, Buffer.alloc(0)));
      sock.once('error', () => {
        if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      });
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    server: `http://127.0.0.1:${port}`,
    refusals: () => refusals,
    refusedHosts: () => refused,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}
