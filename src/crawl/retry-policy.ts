/**
 * Retry decisions for one URL: exponential backoff with full jitter, scaled per reason, Retry-After
 * honoured, non-retryable codes (ERRORS[code].retryable) never retried. Pure: the only input
 * besides the arguments is the injected `random`.
 */
import { ERRORS, OwlError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export interface RetryPolicyOptions {
  /** Attempts per URL including the first (default 4). */
  maxAttempts?: number;
  /** First delay in ms before per-reason scaling (default 1000). */
  baseMs?: number;
  /** Longest delay in ms, Retry-After included (default 60000). */
  maxMs?: number;
  /** Uniform [0, 1) source, injectable for tests (default Math.random). */
  random?: () => number;
}

export const DEFAULT_RETRY_OPTIONS = { maxAttempts: 4, baseMs: 1_000, maxMs: 60_000 } as const;

/** The bounded label set of `retries_total{reason}`. */
export const RETRY_REASONS = ['timeout', 'network', 'http_5xx', 'http_429', 'http_403', 'captcha', 'proxy', 'browser', 'robots'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

/** Why a URL is not tried again. */
export type GiveUpReason = 'not_retryable' | 'attempts_exhausted';

export type RetryDecision = { retry: true; delayMs: number; reason: RetryReason } | { retry: false; reason: GiveUpReason };

export interface RetryPolicy {
  /**
   * @param code what the last attempt failed with
   * @param attemptsSoFar attempts already made for this URL, the failed one included (≥ 1)
   * @param retryAfterMs the server's Retry-After in ms, when it sent one
   */
  decide(code: ErrorCode, attemptsSoFar: number, retryAfterMs?: number | null): RetryDecision;
}

const REASON_OF: Partial<Record<ErrorCode, RetryReason>> = {
  TIMEOUT: 'timeout',
  NETWORK: 'network',
  // The store being unreachable is a connection failure like any other for the retry budget.
  STORE_UNAVAILABLE: 'network',
  HTTP_5XX: 'http_5xx',
  HTTP_429: 'http_429',
  HTTP_403: 'http_403',
  CAPTCHA: 'captcha',
  PROXY: 'proxy',
  BROWSER: 'browser',
  ROBOTS_UNAVAILABLE: 'robots',
};

/**
 * Multiplier on baseMs per reason. Proxy and browser failures are ours, not the site's: the next
 * attempt goes through another proxy or a fresh page, so waiting long buys nothing. Timeouts and
 * connection failures are usually transient. A 5xx means the server is struggling, so give it room.
 * 429, 403 and captchas mean the site is pushing back on us; retrying soon only deepens the block
 * (and burns proxies), so these back off hardest.
 */
export const REASON_MULTIPLIER: Readonly<Record<RetryReason, number>> = {
  proxy: 0.5,
  browser: 0.5,
  timeout: 1,
  network: 1,
  http_5xx: 2,
  http_429: 4,
  http_403: 4,
  captcha: 4,
  // The robots.txt of the site failed: like a 5xx of the site itself.
  robots: 2,
};

/** The reason label for a code, or null when the code is not retried. */
export function retryReason(code: ErrorCode): RetryReason | null {
  return ERRORS[code].retryable ? (REASON_OF[code] ?? null) : null;
}

function checkOptions(o: Required<Omit<RetryPolicyOptions, 'random'>>): void {
  const bad = (field: string, why: string): never => {
    throw new OwlError('CONFIG_INVALID', `retry policy: ${field} ${why}`, { field });
  };
  if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1) bad('maxAttempts', 'must be an integer ≥ 1');
  if (!Number.isFinite(o.baseMs) || o.baseMs < 0) bad('baseMs', 'must be a number ≥ 0');
  if (!Number.isFinite(o.maxMs) || o.maxMs < o.baseMs) bad('maxMs', 'must be a number ≥ baseMs');
}

export function createRetryPolicy(opts: RetryPolicyOptions = {}): RetryPolicy {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_RETRY_OPTIONS.maxAttempts;
  const baseMs = opts.baseMs ?? DEFAULT_RETRY_OPTIONS.baseMs;
  const maxMs = opts.maxMs ?? DEFAULT_RETRY_OPTIONS.maxMs;
  const random = opts.random ?? Math.random;
  checkOptions({ maxAttempts, baseMs, maxMs });

  return {
    decide(code, attemptsSoFar, retryAfterMs) {
      const reason = retryReason(code);
      if (reason === null) return { retry: false, reason: 'not_retryable' };
      if (attemptsSoFar >= maxAttempts) return { retry: false, reason: 'attempts_exhausted' };
      // Exponent capped so a wild attemptsSoFar cannot overflow to Infinity; maxMs caps anyway.
      const exponent = Math.min(Math.max(attemptsSoFar - 1, 0), 30);
      const ceiling = Math.min(maxMs, baseMs * REASON_MULTIPLIER[reason] * 2 ** exponent);
      // Full jitter: spreads the retries of many URLs that failed together over the whole window.
      let delayMs = Math.floor(random() * ceiling);
      if (retryAfterMs != null && Number.isFinite(retryAfterMs) && retryAfterMs > delayMs) delayMs = Math.min(Math.ceil(retryAfterMs), maxMs);
      return { retry: true, delayMs, reason };
    },
  };
}
