/**
 * Playwright takes a proxy's credentials apart from its address (Chromium answers the 407
 * challenge with them); a ProxyHandle carries them inside its URL.
 */
export interface PlaywrightProxy {
  server: string;
  username?: string;
  password?: string;
}

/** `http://user:pass@host:port` → `{ server: 'http://host:port', username, password }`. */
export function toPlaywrightProxy(proxyUrl: string): PlaywrightProxy {
  const u = new URL(proxyUrl);
  const out: PlaywrightProxy = { server: `${u.protocol}//${u.host}` };
  if (u.username !== '') out.username = decodeURIComponent(u.username);
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  return out;
}
