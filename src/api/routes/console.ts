/**
 * The web console's static files (built by `npm run build:console` into dist/console), served at
 * `/` by `owl serve`: brotli/gzip files made at build time (no compression work per request),
 * hashed assets cached for a year, index.html revalidated, and a strict Content-Security-Policy
 * on every one of them. The console talks to the public API only.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { OwlError } from '../../errors.ts';

export interface ConsoleRoutesOptions {
  /** The built console (default: dist/console of this checkout). */
  root?: string;
}

/**
 * dist/console of this installation: from the sources this file is src/api/routes/console.ts; in
 * the compiled build it is bundled into dist/owl.js or a chunk under dist/chunks/.
 */
export const DEFAULT_CONSOLE_DIR = consoleDirFrom(import.meta.dirname);

export function consoleDirFrom(moduleDir: string): string {
  const name = path.basename(moduleDir);
  if (name === 'chunks') return path.join(path.dirname(moduleDir), 'console');
  if (name === 'dist') return path.join(moduleDir, 'console');
  return path.resolve(moduleDir, '../../../dist/console');
}

/**
 * Scripts and styles from this origin only (no inline script, no eval), data: images only, API
 * calls to this origin only, no framing, no plugins, forms only back here. Crawled content shown
 * in the console (sanitised Markdown) is held to it as well: a script that slipped through could not run.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The console's static files as the keys feature's AuthOptions name them (buildApp adds them to
 * whatever auth options it is given): `/`, `/index.html`, `/favicon.svg` with their `.br`/`.gz`
 * copies, and everything under `/assets/`. They hold no data and are served without an API key;
 * every API route still needs one.
 */
export const CONSOLE_PUBLIC: { readonly publicRoutes: readonly string[]; readonly publicPrefixes: readonly string[] } = {
  publicRoutes: ['/', ...['/index.html', '/favicon.svg'].flatMap((f) => [f, `${f}.br`, `${f}.gz`])],
  publicPrefixes: ['/assets/'],
};

/** Whether a request path is one of the console's static files (CONSOLE_PUBLIC). */
export function isConsolePath(pathname: string): boolean {
  return CONSOLE_PUBLIC.publicRoutes.includes(pathname) || CONSOLE_PUBLIC.publicPrefixes.some((p) => pathname.startsWith(p) && pathname.length > p.length);
}

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, opts) => {
  const root = opts.root ?? DEFAULT_CONSOLE_DIR;
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });

  if (!existsSync(path.join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new OwlError('NOT_FOUND', 'The console is not built: run `npm run build:console` (make run does it)');
    });
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per built file, found at start: no catch-all route, so unknown paths stay JSON 404s.
    wildcard: false,
    // `/` is routed below: the plugin's own index route answers 404 for a root holding pre-compressed files.
    index: false,
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: false,
    schemaHide: true,
    setHeaders(reply, filePath) {
      // Asset names carry their content hash: they never change. index.html names them, so it is revalidated.
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
};
