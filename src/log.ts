import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Where a logged object could carry an API key or the metrics token: replaced by `[redacted]`
 * (requests are not logged one by one, but an error logged with its request must not leak a key).
 */
export const REDACT_PATHS = ['req.headers.authorization', 'request.headers.authorization', 'headers.authorization', 'authorization'];

/**
 * Structured JSON lines on stdout; readable, coloured lines when stdout is a terminal.
 * @param level pino level (default info); `pretty` forces or disables the readable form.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level: opts.level ?? 'info', name: opts.name ?? 'owl', base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (!pretty) return pino(base);
  return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
