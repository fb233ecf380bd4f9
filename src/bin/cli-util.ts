import { startupSignals, type StartupSignals } from '../../bin/early-signals.js';
import type { Logger } from '../log.ts';

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A non-negative integer flag, or undefined when absent. */
export function intFlag(values: Record<string, unknown>, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
  return n;
}

/**
 * Runs `close` once on SIGTERM/SIGINT, then exits 0 (1 if closing failed). A second signal
 * exits at once. Takes the signals over from start-up (bin/early-signals.js): one that came
 * during start-up runs `close` now. Returns a function that removes the handlers.
 */
export function onShutdown(logger: Logger, close: () => Promise<void>, signals: StartupSignals = startupSignals()): () => void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down: draining in-flight work');
    close().then(
      () => {
        logger.info('stopped cleanly');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  return signals.handOver(handler);
}

/** Memoises an async reader for `ttlMs` so several gauges read at one scrape share one query. */
export function cached<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let at = 0;
  let value: Promise<T> | null = null;
  return () => {
    const now = Date.now();
    if (!value || now - at > ttlMs) {
      at = now;
      value = read();
      value.catch(() => {
        value = null;
      });
    }
    return value;
  };
}
