/**
 * `owl export <jobId> [--format jsonl|json|csv] [--output FILE]`: a job's records from the local
 * store, as GET /jobs/:id/export gives them. The job is looked for in PostgreSQL when DATABASE_URL
 * is set; else in the service's embedded store (<dataDir>/owl.db) and in `owl crawl`'s stores
 * (<dataDir>/crawls/*.db, newest first), or in the file given with --store.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { exportRecords } from '../api/routes/jobs.ts';
import { loadConfig } from '../config/load.ts';
import { isOwlError } from '../errors.ts';
import { columnsFor } from '../scrape/export.ts';
import { compileScrapeOptions, type ScrapeOptions } from '../scrape/options.ts';
import { openStore } from '../store/open.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Job, Store } from '../store/types.ts';
import { UsageError } from './cli-util.ts';
import { outputFormat, writeRecords } from './output-file.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Embedded stores that may hold the job: the service's, then owl crawl's newest first. */
function embeddedCandidates(dataDir: string): string[] {
  const out = [path.join(dataDir, 'owl.db')];
  const crawls = path.join(dataDir, 'crawls');
  let files: string[] = [];
  try {
    files = readdirSync(crawls).filter((f) => f.endsWith('.db'));
  } catch {
    // no crawls yet
  }
  const dated = files.map((f) => path.join(crawls, f)).map((f) => ({ f, t: statSync(f).mtimeMs }));
  dated.sort((a, b) => b.t - a.t);
  return [...out, ...dated.map((d) => d.f)];
}

/** Opens the store that holds the job (closing the others), or explains why none does. */
async function storeWithJob(jobId: string, values: Record<string, unknown>): Promise<{ store: Store; job: Job }> {
  const config = loadConfig(process.env);
  if (config.databaseUrl && values.store === undefined) {
    const store = await openStore(config);
    const job = await store.jobs.get(jobId);
    if (job) return { store, job };
    await store.close();
    throw new UsageError(`no job ${jobId} in the PostgreSQL store`);
  }
  const files = values.store === undefined ? embeddedCandidates(config.dataDir) : [String(values.store)];
  const busy: string[] = [];
  for (const file of files) {
    let store: Store;
    try {
      statSync(file);
      store = openSqliteStore({ path: file });
    } catch (err) {
      if (isOwlError(err, 'STORE_UNAVAILABLE')) busy.push(file);
      continue;
    }
    try {
      const job = await store.jobs.get(jobId);
      if (job) return { store, job };
    } catch (err) {
      if (!isOwlError(err)) throw err;
    }
    await store.close();
  }
  const held = busy.length > 0 ? `; ${busy.join(', ')} is held by a running owl process (export through GET /jobs/${jobId}/export instead)` : '';
  throw new UsageError(`no job ${jobId} in ${files.join(', ')}${held}`);
}

export async function runExport(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const [jobId, ...rest] = positionals;
  if (jobId === undefined || rest.length > 0) throw new UsageError('owl export needs one job id, e.g. owl export 0b6f…-… --format csv --output jobs.csv');
  if (!UUID.test(jobId)) throw new UsageError(`"${jobId}" is not a job id (a UUID)`);
  const output = values.output === undefined ? '-' : String(values.output);
  const format = outputFormat(output, values.format === undefined ? undefined : String(values.format));
  const { store, job } = await storeWithJob(jobId.toLowerCase(), values);
  try {
    const scrape = job.options.scrape as ScrapeOptions | undefined;
    const columns = columnsFor(scrape ? compileScrapeOptions(scrape).extract : null);
    const count = await writeRecords(output, format, exportRecords(store.pages, job.id), columns);
    if (output !== '-') process.stderr.write(`${count} records of job ${job.id} (${job.status}) in ${output}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
