/**
 * The one catalogue of coded errors. The API maps `status` to the HTTP response with a body
 * `{error: {code, message}}`; the worker maps `retryable` to another attempt or a final failure.
 */
export const ERRORS = {
  // API / input
  VALIDATION: { status: 400, retryable: false, message: 'The request is invalid' },
  BODY_TOO_LARGE: { status: 413, retryable: false, message: 'The request body is too large' },
  HEADERS_TOO_LARGE: { status: 431, retryable: false, message: 'The request line or headers are too large (16 KB in all at most)' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, message: 'Send the request body as application/json' },
  NOT_FOUND: { status: 404, retryable: false, message: 'Not found' },
  JOB_NOT_FOUND: { status: 404, retryable: false, message: 'No job has this id' },
  JOB_FINISHED: { status: 409, retryable: false, message: 'The job has already finished' },
  JOB_LIVE: { status: 409, retryable: false, message: 'The job is queued or running: cancel it first' },
  PAGE_NOT_FOUND: { status: 404, retryable: false, message: 'The job has no page with this id' },
  SCHEDULE_NOT_FOUND: { status: 404, retryable: false, message: 'No schedule has this id' },
  WEBHOOK_NOT_FOUND: { status: 404, retryable: false, message: 'No webhook has this id' },
  TARGET_FORBIDDEN: { status: 422, retryable: false, message: 'The target address is in a private, loopback, link-local or metadata range' },
  INVALID_URL: { status: 422, retryable: false, message: 'The URL is not an absolute http(s) URL' },
  UNAUTHORIZED: { status: 401, retryable: false, message: 'Send a valid API key: Authorization: Bearer <key>' },
  FORBIDDEN: { status: 403, retryable: false, message: 'The API key lacks the scope this route needs' },
  KEY_IN_QUERY: { status: 400, retryable: false, message: 'An API key in the query string is refused (it would end up in logs): send it as Authorization: Bearer <key>' },
  KEY_NOT_FOUND: { status: 404, retryable: false, message: 'No API key has this id' },
  RATE_LIMITED: { status: 429, retryable: false, message: 'Too many requests for this API key' },
  QUOTA_EXCEEDED: { status: 429, retryable: false, message: "The API key's quota is used up" },
  STORE_UNAVAILABLE: { status: 503, retryable: true, message: 'The store is not reachable' },
  SCHEMA_TOO_NEW: { status: 500, retryable: false, message: 'The database schema is newer than this program' },
  CONFIG_INVALID: { status: 500, retryable: false, message: 'The configuration is invalid' },
  INTERNAL: { status: 500, retryable: false, message: 'Internal error' },
  // Crawl outcomes (stored as a page's error code and used as the `reason`/`code` labels)
  TIMEOUT: { status: 504, retryable: true, message: 'The fetch timed out' },
  NETWORK: { status: 502, retryable: true, message: 'The connection failed' },
  HTTP_5XX: { status: 502, retryable: true, message: 'The server answered 5xx' },
  HTTP_429: { status: 429, retryable: true, message: 'The server answered 429 (rate limited)' },
  HTTP_403: { status: 403, retryable: true, message: 'The server answered 403 (blocked)' },
  HTTP_4XX: { status: 400, retryable: false, message: 'The server answered 4xx' },
  CAPTCHA: { status: 403, retryable: true, message: 'A captcha or challenge page was served' },
  PROXY: { status: 502, retryable: true, message: 'The proxy failed' },
  TOO_MANY_REDIRECTS: { status: 508, retryable: false, message: 'Too many redirects' },
  REDIRECT_LOOP: { status: 508, retryable: false, message: 'The redirects loop' },
  BODY_LIMIT: { status: 413, retryable: false, message: 'The response body exceeds the size limit' },
  UNSUPPORTED_CONTENT: { status: 415, retryable: false, message: 'The content type is not crawled' },
  ROBOTS_DENIED: { status: 403, retryable: false, message: 'robots.txt disallows this URL' },
  ROBOTS_UNAVAILABLE: { status: 503, retryable: true, message: 'robots.txt could not be read (5xx, 429 or network error): the site is not crawled until it can' },
  BROWSER: { status: 502, retryable: true, message: 'The browser failed to render the page' },
  CANCELLED: { status: 409, retryable: false, message: 'The job was cancelled' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Lower-case form used in labels and stored rows (`HTTP_429` → `http_429`). */
export function codeLabel(code: ErrorCode): string {
  return code.toLowerCase();
}

export class OwlError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Extra facts for logs and responses (e.g. `retryAfterMs`, `field`). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'OwlError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
    this.details = details;
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isOwlError(e: unknown, code?: ErrorCode): e is OwlError {
  return e instanceof OwlError && (code === undefined || e.code === code);
}
