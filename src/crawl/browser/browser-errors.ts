/**
 * Maps what Playwright and Chromium throw to the error catalogue. Chromium reports network
 * failures as `net::ERR_*` inside the message; Playwright throws `TimeoutError` for its own
 * timeouts and "Target page, context or browser has been closed" once a tab or browser is gone.
 */
import { isOwlError, OwlError } from '../../errors.ts';

const TIMEOUT_NET = new Set(['ERR_TIMED_OUT', 'ERR_CONNECTION_TIMED_OUT']);
const PROXY_NET = new Set(['ERR_PROXY_CONNECTION_FAILED', 'ERR_TUNNEL_CONNECTION_FAILED', 'ERR_PROXY_AUTH_UNSUPPORTED', 'ERR_PROXY_CERTIFICATE_INVALID', 'ERR_MANDATORY_PROXY_CONFIGURATION_FAILED']);

export interface ErrorContext {
  url: string;
  /** The session uses a real (upstream) proxy, so tunnel failures are the proxy's. */
  viaProxy: boolean;
  /** The guard proxy refused at least one host of this navigation. */
  refused: boolean;
}

/** The `ERR_*` name inside a Chromium network error message, or null. */
export function netErrorName(message: string): string | null {
  return /net::(ERR_[A-Z_]+)/.exec(message)?.[1] ?? null;
}

export function toBrowserError(err: unknown, ctx: ErrorContext): OwlError {
  if (isOwlError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const details = { url: ctx.url };
  if (err instanceof Error && err.name === 'TimeoutError') return new OwlError('TIMEOUT', 'The browser navigation timed out', details, { cause: err });
  const net = netErrorName(message);
  if (net !== null) {
    if (ctx.refused) return new OwlError('TARGET_FORBIDDEN', undefined, details, { cause: err });
    if (TIMEOUT_NET.has(net)) return new OwlError('TIMEOUT', `The browser navigation failed: ${net}`, details, { cause: err });
    // Through a proxy every connection the browser opens goes to the proxy (as in the HTTP
    // fetcher); certificate errors are still the target's.
    if (PROXY_NET.has(net) || (ctx.viaProxy && !/^ERR_(?:CERT|SSL)_/.test(net))) {
      return new OwlError(ctx.viaProxy ? 'PROXY' : 'NETWORK', `The browser navigation failed: ${net}`, details, { cause: err });
    }
    return new OwlError('NETWORK', `The browser navigation failed: ${net}`, details, { cause: err });
  }
  return new OwlError('BROWSER', `The browser failed: ${message.split('\n')[0]}`, details, { cause: err });
}
