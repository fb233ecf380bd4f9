import { createRequire } from 'node:module';
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
  locateTransportWorkers();
  return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
}

/**
 * pino runs a transport (pino-pretty here) in a worker thread started from a file beside its own
 * code, found through `__dirname`. Bundled into dist/ (scripts/build.js), pino has no `__dirname`:
 * it looks the files up in `globalThis.__bundlerPathsOverrides` first, its hook for bundlers, so
 * they are given there, resolved in node_modules as pino itself would find them.
 */
function locateTransportWorkers(): void {
  const holder = globalThis as { __bundlerPathsOverrides?: Record<string, string> };
  if (holder.__bundlerPathsOverrides?.['thread-stream-worker'] !== undefined) return;
  const fromPino = createRequire(createRequire(import.meta.url).resolve('pino'));
  holder.__bundlerPathsOverrides = {
    ...holder.__bundlerPathsOverrides,
    'pino-worker': fromPino.resolve('./lib/worker.js'),
    'thread-stream-worker': createRequire(fromPino.resolve('thread-stream')).resolve('./lib/worker.js'),
  };
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
