/**
 * Cheap checks on a URL before any connection: the render's own URL up front, and every request
 * of a page in the route handler (literal addresses only; names are resolved by the guard proxy).
 */
import { isIP } from 'node:net';
import { OwlError } from '../../errors.ts';
import { isMetadataHost } from '../target-guard.ts';

/** True when the URL's host is a literal address `isForbidden` refuses, or a metadata host name. */
export function hasForbiddenLiteralHost(url: URL, isForbidden: (ip: string) => boolean): boolean {
  const host = url.hostname;
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  return isIP(literal) !== 0 ? isForbidden(literal) : isMetadataHost(literal);
}

/** Throws INVALID_URL for anything but an absolute http(s) URL, TARGET_FORBIDDEN for a refused literal host. */
export function checkRenderTarget(raw: string, allowPrivate: boolean, isForbidden: (ip: string) => boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OwlError('INVALID_URL', undefined, { url: raw });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw new OwlError('INVALID_URL', undefined, { url: raw });
  if (!allowPrivate && hasForbiddenLiteralHost(url, isForbidden)) throw new OwlError('TARGET_FORBIDDEN', undefined, { url: raw, host: url.hostname });
  return url;
}
