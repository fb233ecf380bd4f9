import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REASON_MULTIPLIER, RETRY_REASONS, createRetryPolicy, retryReason } from '../../src/crawl/retry-policy.ts';
import type { RetryDecision } from '../../src/crawl/retry-policy.ts';
import { ERRORS, isOwlError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';

/** random() just below 1: the delay is (almost) the whole backoff window. */
const top = (): number => 0.999999;
const half = (): number => 0.5;

function delayOf(d: RetryDecision): number {
  assert.equal(d.retry, true, `expected a retry, got ${JSON.stringify(d)}`);
  return (d as { delayMs: number }).delayMs;
}

describe('retry policy', () => {
  it('maps every retryable crawl code to a bounded reason and never retries the others', () => {
    const policy = createRetryPolicy({ maxAttempts: 4, baseMs: 1000, maxMs: 60_000, random: half });
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const d = policy.decide(code, 1);
      if (ERRORS[code].retryable) {
        assert.equal(d.retry, true, code);
        assert.ok((RETRY_REASONS as readonly string[]).includes(d.reason), `${code} → ${d.reason}`);
      } else {
        assert.deepEqual(d, { retry: false, reason: 'not_retryable' }, code);
      }
    }
    assert.equal(retryReason('HTTP_429'), 'http_429');
    assert.equal(retryReason('CAPTCHA'), 'captcha');
    assert.equal(retryReason('BROWSER'), 'browser');
    assert.equal(retryReason('HTTP_4XX'), null);
    assert.equal(retryReason('ROBOTS_DENIED'), null);
  });

  it('budget: maxAttempts attempts in all, the first included', () => {
    const policy = createRetryPolicy({ maxAttempts: 3, baseMs: 100, maxMs: 10_000, random: half });
    assert.equal(policy.decide('TIMEOUT', 1).retry, true);
    assert.equal(policy.decide('TIMEOUT', 2).retry, true);
    assert.deepEqual(policy.decide('TIMEOUT', 3), { retry: false, reason: 'attempts_exhausted' });
    assert.deepEqual(policy.decide('TIMEOUT', 9), { retry: false, reason: 'attempts_exhausted' });
    const once = createRetryPolicy({ maxAttempts: 1, baseMs: 100, maxMs: 10_000 });
    assert.deepEqual(once.decide('NETWORK', 1), { retry: false, reason: 'attempts_exhausted' });
  });

  it('exponential growth per attempt, full jitter scaled by random()', () => {
    const policy = createRetryPolicy({ maxAttempts: 10, baseMs: 1000, maxMs: 1_000_000, random: top });
    const windows = [1, 2, 3, 4, 5].map((n) => delayOf(policy.decide('TIMEOUT', n)));
    assert.deepEqual(windows, [999, 1999, 3999, 7999, 15999]);
    assert.equal(delayOf(createRetryPolicy({ baseMs: 1000, maxMs: 60_000, random: () => 0 }).decide('TIMEOUT', 3)), 0);
    assert.equal(delayOf(createRetryPolicy({ baseMs: 1000, maxMs: 60_000, random: half }).decide('TIMEOUT', 3)), 2000);
  });

  it('per-reason multiplier: blocks and rate limits back off harder than timeouts, proxy failures less', () => {
    const policy = createRetryPolicy({ maxAttempts: 10, baseMs: 1000, maxMs: 1_000_000, random: half });
    const at2 = (code: ErrorCode): number => delayOf(policy.decide(code, 2));
    assert.equal(at2('TIMEOUT'), 1000);
    assert.equal(at2('NETWORK'), 1000);
    assert.equal(at2('PROXY'), 500);
    assert.equal(at2('HTTP_5XX'), 2000);
    assert.equal(at2('HTTP_429'), 4000);
    assert.equal(at2('HTTP_403'), 4000);
    assert.equal(at2('CAPTCHA'), 4000);
    assert.ok(REASON_MULTIPLIER.captcha > REASON_MULTIPLIER.timeout);
  });

  it('caps the delay at maxMs, also for huge attempt counts', () => {
    const policy = createRetryPolicy({ maxAttempts: 10_000, baseMs: 1000, maxMs: 60_000, random: top });
    assert.equal(delayOf(policy.decide('CAPTCHA', 8)), 59_999);
    const d = delayOf(policy.decide('TIMEOUT', 5000));
    assert.ok(Number.isFinite(d) && d <= 60_000);
  });

  it('honours Retry-After: at least Retry-After, capped at maxMs', () => {
    const policy = createRetryPolicy({ maxAttempts: 4, baseMs: 1000, maxMs: 60_000, random: () => 0 });
    assert.equal(delayOf(policy.decide('HTTP_429', 1, 30_000)), 30_000);
    assert.equal(delayOf(policy.decide('HTTP_429', 1, 120_000)), 60_000);
    assert.equal(delayOf(policy.decide('HTTP_5XX', 1, 1500.2)), 1501);
    assert.equal(delayOf(policy.decide('HTTP_429', 1, null)), 0);
    // The jittered backoff wins when it is longer than Retry-After.
    const long = createRetryPolicy({ maxAttempts: 4, baseMs: 1000, maxMs: 60_000, random: top });
    assert.equal(delayOf(long.decide('HTTP_429', 3, 10)), 15_999);
    // Retry-After does not buy an extra attempt.
    assert.deepEqual(long.decide('HTTP_429', 4, 1000), { retry: false, reason: 'attempts_exhausted' });
  });

  it('is deterministic given random', () => {
    const seq = (): (() => number) => {
      let x = 0.1;
      return () => (x = (x * 9301 + 0.49297) % 1);
    };
    const a = createRetryPolicy({ maxAttempts: 6, baseMs: 250, maxMs: 30_000, random: seq() });
    const b = createRetryPolicy({ maxAttempts: 6, baseMs: 250, maxMs: 30_000, random: seq() });
    const codes: ErrorCode[] = ['TIMEOUT', 'HTTP_429', 'PROXY', 'CAPTCHA', 'HTTP_5XX'];
    for (let i = 1; i < 6; i++) for (const c of codes) assert.deepEqual(a.decide(c, i), b.decide(c, i));
  });

  it('defaults: 4 attempts, 1 s base, 60 s cap', () => {
    const policy = createRetryPolicy({ random: top });
    assert.equal(delayOf(policy.decide('TIMEOUT', 1)), 999);
    assert.equal(policy.decide('TIMEOUT', 3).retry, true);
    assert.equal(policy.decide('TIMEOUT', 4).retry, false);
    assert.equal(delayOf(policy.decide('HTTP_429', 1, 600_000)), 60_000);
  });

  it('rejects invalid options with CONFIG_INVALID', () => {
    for (const bad of [{ maxAttempts: 0 }, { maxAttempts: 2.5 }, { baseMs: -1 }, { baseMs: 100, maxMs: 50 }, { maxMs: Number.NaN }]) {
      assert.throws(() => createRetryPolicy(bad), (e: unknown) => isOwlError(e, 'CONFIG_INVALID'), JSON.stringify(bad));
    }
  });
});
