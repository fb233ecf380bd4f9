/**
 * The console's one way to the API: every request carries the API key from session storage as
 * `Authorization: Bearer` (never in a URL); a 401 signs the console out. Errors are the API's
 * `{error: {code, message}}`, thrown as ApiError.
 */
const KEY = 'owl.apiKey';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the API answers 401 (no key, a wrong or revoked key). */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function getKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = getKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

async function failure(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  if (res.status === 401) for (const fn of unauthorizedListeners) fn();
  return new ApiError(res.status, code, message);
}

/** A raw authenticated request (streams, downloads). Throws ApiError on a non-2xx answer. */
export async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
  });
  if (!res.ok) throw await failure(res);
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await request(method, path, body, signal);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export type Scope = 'jobs:read' | 'jobs:write' | 'admin';

/** What GET /me answers: whether keys are required, and the signed-in key (name, scopes). */
export interface Me {
  auth: 'required' | 'off';
  key: { id: string; name: string; scopes: Scope[] } | null;
}

let me: Me | null = null;

/** The signed-in key as the last probe saw it (null before one, or after a 401). */
export function currentKey(): Me['key'] {
  return me?.key ?? null;
}

/**
 * Whether the signed-in key may do what `scope` allows: everything with auth off or an admin
 * key. The console hides what a key may not do; the API refuses it anyway (403).
 */
export function can(scope: Scope): boolean {
  if (me === null) return false;
  if (me.key === null) return true;
  return me.key.scopes.includes('admin') || me.key.scopes.includes(scope);
}

/**
 * Whether the API lets this browser in (GET /me): with the stored key, or without one when auth
 * is off. 'ok' (and what the key may do, for can()), 'denied' (401: sign in) or an Error for
 * anything else (server down).
 */
export async function probe(): Promise<'ok' | 'denied'> {
  const res = await fetch('/me', { headers: headers(), cache: 'no-store' });
  if (res.status === 401) {
    me = null;
    return 'denied';
  }
  if (!res.ok) throw await failure(res);
  me = (await res.json()) as Me;
  return 'ok';
}

export interface StreamEvent {
  event: string;
  data: string;
}

/**
 * Reads a Server-Sent Events stream through fetch (EventSource cannot send the Authorization
 * header). Resolves when the stream ends or `signal` aborts.
 */
export async function readEvents(path: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await request('GET', path, undefined, signal);
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) onEvent({ event, data: data.join('\n') });
        cut = buffer.indexOf('\n\n');
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
}

/** Fetches a file with the key and hands it to the browser as a download. */
export async function download(path: string, fileName: string): Promise<void> {
  const res = await request('GET', path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
