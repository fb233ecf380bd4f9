/**
 * `owl keys create|list|revoke`: API keys from the command line, whether or not `owl serve` runs.
 * On PostgreSQL the command opens the store like any other process. On the embedded store it asks
 * the running server through its control socket (src/auth/control-socket.ts) when one holds the
 * data folder, and opens the store itself (holding the folder's lock meanwhile) when none does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { callControlSocket, controlSocketPath, runControl, type ControlRequest } from '../auth/control-socket.ts';
import { loadConfig } from '../config/load.ts';
import { openStore } from '../store/open.ts';
import type { ApiKey } from '../store/types.ts';
import { intFlag, UsageError } from './cli-util.ts';
import { lockDataDir } from './process-state.ts';


/** `--rate 5/s` or `--rate 5`: requests per second. */
export function parseRate(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(raw.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n > 0)) throw new UsageError(`--rate must be requests per second such as 5/s, got "${raw}"`);
  return n;
}

function specFrom(values: Record<string, unknown>): Record<string, unknown> {
  if (typeof values.name !== 'string') throw new UsageError('owl keys create needs --name NAME');
  if (typeof values.scopes !== 'string') throw new UsageError('owl keys create needs --scopes (jobs:read, jobs:write, admin; comma-separated)');
  return {
    name: values.name,
    scopes: values.scopes.split(',').map((s) => s.trim()).filter(Boolean),
    rate: typeof values.rate === 'string' ? parseRate(values.rate) : undefined,
    maxRunningJobs: intFlag(values, 'max-running-jobs', 1),
    maxPagesPerDay: intFlag(values, 'max-pages-per-day', 1),
    expiresAt: values.expires,
  };
}

function holderPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'owl.lock'), 'utf8').trim());
    if (!pid || pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? -1 : null;
  }
}

/** Runs the request on the store the configuration names, through a running server when one owns it. */
async function perform(req: ControlRequest): Promise<unknown> {
  const config = loadConfig(process.env);
  const holder = config.databaseUrl ? null : holderPid(config.dataDir);
  if (holder !== null) {
    return callControlSocket(config.dataDir, req).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err;
      throw new UsageError(
        `another owl process${holder > 0 ? ` (pid ${holder})` : ''} holds ${config.dataDir} but does not answer on its control socket ${controlSocketPath(config.dataDir)} ` +
          '(an owl serve older than API keys?): run owl keys when it has stopped',
      );
    });
  }
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const store = await openStore(config);
    try {
      await store.migrate();
      return await runControl(store, req);
    } finally {
      await store.close();
    }
  } finally {
    unlock();
  }
}

const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function state(k: ApiKey, now: number): string {
  if (k.revokedAt !== null) return 'revoked';
  if (k.expiresAt !== null && k.expiresAt <= now) return 'expired';
  return 'active';
}

export async function runKeys(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const [sub, ...rest] = positionals;
  if (sub === 'create') {
    if (rest.length > 0) throw new UsageError(`owl keys create takes no positional arguments, got "${rest.join(' ')}"`);
    const created = (await perform({ op: 'create', spec: specFrom(values) })) as ApiKey & { key: string };
    console.log(`created API key ${created.id} "${created.name}" (scopes ${created.scopes.join(',')}, prefix ${created.prefix}${created.expiresAt ? `, expires ${when(created.expiresAt)}` : ''})`);
    console.log('the key follows; it is shown this once and stored only as a hash:');
    console.log(created.key);
    return 0;
  }
  if (sub === 'list') {
    const keys = (await perform({ op: 'list' })) as ApiKey[];
    if (values.json) {
      console.log(JSON.stringify({ keys }, null, 2));
      return 0;
    }
    const now = Date.now();
    const rows = [['ID', 'NAME', 'SCOPES', 'PREFIX', 'STATE', 'CREATED', 'LAST USED', 'EXPIRES']];
    for (const k of keys) rows.push([k.id, k.name, k.scopes.join(','), k.prefix, state(k, now), when(k.createdAt), when(k.lastUsedAt), when(k.expiresAt)]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    return 0;
  }
  if (sub === 'revoke') {
    if (rest.length !== 1) throw new UsageError('owl keys revoke needs one key id (see owl keys list)');
    const revoked = (await perform({ op: 'revoke', id: rest[0]! })) as ApiKey;
    console.log(`revoked API key ${revoked.id} "${revoked.name}" at ${when(revoked.revokedAt)}`);
    return 0;
  }
  throw new UsageError(`owl keys needs create, list or revoke (owl keys create --name NAME --scopes SCOPES …; owl keys list; owl keys revoke ID)`);
}
