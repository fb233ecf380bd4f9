import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isOwlError } from '../errors.ts';
import { UsageError } from './cli-util.ts';
import { StartupInterrupted } from './startup.ts';

const USAGE = `owl — sparkling-owl-spin

Usage:
  owl serve   [--port 8000]                 API + in-process workers (embedded SQLite unless DATABASE_URL)
  owl worker  [--metrics-port 9000] [--concurrency N]   a worker process (PostgreSQL)
  owl crawl   <url...> [--max-pages N] [--max-depth D] [--concurrency C] [--scope host|domain]
              [--host-delay MS] [--per-host N] [--ignore-robots] [--json]
              [--formats metadata,links,text,markdown,html] [--extract rules.json]
              [--sitemaps include|skip|only] [--output FILE.jsonl|.json|.csv|-]
  owl export  <jobId> [--format jsonl|json|csv] [--output FILE] [--store FILE]   a job's records
  owl migrate                               apply database migrations
  owl keys    create --name NAME --scopes jobs:read,jobs:write,admin [--rate N/s] [--max-running-jobs N]
              [--max-pages-per-day N] [--expires 2027-01-31T00:00:00Z]   prints the new API key once (last line)
  owl keys    list [--json] | revoke ID     API keys (works beside a running owl serve)

Settings come from OWL_* environment variables (see README); flags override them.`;

// Each command's module (and what it imports: fastify, the stores, the crawler) is loaded only
// when that command runs, so `owl --help` and a usage error load none of them.
const COMMANDS: Record<string, { options: ParseArgsConfig['options']; positionals?: boolean; run: (values: Record<string, unknown>, positionals: string[]) => Promise<number> }> = {
  serve: { options: { port: { type: 'string' } }, run: async (v) => (await import('./serve-command.ts')).runServe(v) },
  worker: { options: { 'metrics-port': { type: 'string' }, concurrency: { type: 'string' } }, run: async (v) => (await import('./worker-command.ts')).runWorker(v) },
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
      formats: { type: 'string' },
      extract: { type: 'string' },
      sitemaps: { type: 'string' },
      output: { type: 'string' },
    },
    run: async (v, p) => (await import('./crawl-command.ts')).runCrawl(v, p),
  },
  export: {
    positionals: true,
    options: { format: { type: 'string' }, output: { type: 'string' }, store: { type: 'string' } },
    run: async (v, p) => (await import('./export-command.ts')).runExport(v, p),
  },
  migrate: { options: {}, run: async () => (await import('./migrate-command.ts')).runMigrate() },
  keys: {
    positionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      rate: { type: 'string' },
      'max-running-jobs': { type: 'string' },
      'max-pages-per-day': { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean' },
    },
    // Loaded on use: the other commands do not pay for the auth modules at start-up.
    run: async (v, p) => (await import('./keys-command.ts')).runKeys(v, p),
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  let parsed: ReturnType<typeof parseArgs>;
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
    if (err instanceof StartupInterrupted) {
      console.error(err.message);
      process.exitCode = 0;
      return;
    }
    if (err instanceof UsageError || isOwlError(err, 'CONFIG_INVALID') || isOwlError(err, 'VALIDATION') || isOwlError(err, 'INVALID_URL') || isOwlError(err, 'KEY_NOT_FOUND')) {
      console.error(`owl: ${(err as Error).message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`owl: ${isOwlError(err) ? `${err.code}: ${err.message}` : ((err as Error)?.stack ?? String(err))}`);
    process.exitCode = 1;
  },
);
