import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isOwlError } from '../errors.ts';
import { runCrawl } from './crawl-command.ts';
import { runMigrate } from './migrate-command.ts';
import { runServe } from './serve-command.ts';
import { runWorker } from './worker-command.ts';
import { UsageError } from './cli-util.ts';

const USAGE = `owl — sparkling-owl-spin

Usage:
  owl serve   [--port 8000]                 API + in-process workers (embedded SQLite unless DATABASE_URL)
  owl worker  [--metrics-port 9000] [--concurrency N]   a worker process (PostgreSQL)
  owl crawl   <url...> [--max-pages N] [--max-depth D] [--concurrency C] [--scope host|domain]
              [--host-delay MS] [--per-host N] [--ignore-robots] [--json]
  owl migrate                               apply database migrations

Settings come from OWL_* environment variables (see README); flags override them.`;

const COMMANDS: Record<string, { options: ParseArgsConfig['options']; positionals?: boolean; run: (values: Record<string, unknown>, positionals: string[]) => Promise<number> }> = {
  serve: { options: { port: { type: 'string' } }, run: (v) => runServe(v) },
  worker: { options: { 'metrics-port': { type: 'string' }, concurrency: { type: 'string' } }, run: (v) => runWorker(v) },
  crawl: {
    positionals: true,
    options: {
      'max-pages': { type: 'string' },
      'max-depth': { type: 'string' },
      concurrency: { type: 'string' },
      scope: { type: 'string' },
      'host-delay': { type: 'string' },
      'per-host': { type: 'string' },
      'ignore-robots': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    run: (v, p) => runCrawl(v, p),
  },
  migrate: { options: {}, run: () => runMigrate() },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: command.positionals ?? false, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  return command.run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || isOwlError(err, 'CONFIG_INVALID') || isOwlError(err, 'VALIDATION') || isOwlError(err, 'INVALID_URL')) {
      console.error(`owl: ${(err as Error).message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`owl: ${isOwlError(err) ? `${err.code}: ${err.message}` : ((err as Error)?.stack ?? String(err))}`);
    process.exitCode = 1;
  },
);
