import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { Counter } from 'prom-client';
import type { GaugeSources } from '../metrics/registry.ts';
import type { Store, StoreStats } from '../store/types.ts';
import { cached } from './cli-util.ts';
import { OwlError } from '../errors.ts';

/** How often a process checks that its store answers (store_up, /readyz between checks). */
const STORE_PING_MS = 5_000;

/**
 * Store reachability and the global gauges read from the store at scrape time. A failing
 * store never breaks /metrics: the last known values are served and store_up drops to 0.
 */
export class StoreWatch {
  up = true;
  private last: StoreStats = { jobsInQueue: 0, queueDepth: 0 };
  private lastOverdue = 0;
  private readonly stats: () => Promise<StoreStats>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: Store, private readonly logger: Logger) {
    this.stats = cached(() => store.stats(), 500);
    this.timer = setInterval(() => void this.check(), STORE_PING_MS);
    this.timer.unref();
  }

  async check(): Promise<void> {
    try {
      await this.store.ping();
      this.set(true);
    } catch (err) {
      this.set(false, err);
    }
  }

  set(up: boolean, err?: unknown): void {
    if (up !== this.up) {
      if (up) this.logger.info({ backend: this.store.backend }, 'store reachable again');
      else this.logger.error({ err, backend: this.store.backend }, 'store unreachable');
    }
    this.up = up;
  }

  private async read(): Promise<StoreStats> {
    try {
      this.last = await this.stats();
    } catch (err) {
      this.set(false, err);
    }
    return this.last;
  }

  gaugeSources(): Pick<GaugeSources, 'jobsInQueue' | 'queueDepth' | 'store' | 'schedulesOverdue'> {
    return {
      jobsInQueue: async () => (await this.read()).jobsInQueue,
      queueDepth: async () => (await this.read()).queueDepth,
      store: () => ({ backend: this.store.backend, up: this.up }),
      schedulesOverdue: () => this.overdue(),
    };
  }

  /** Seconds the earliest due schedule has waited to be claimed (0 when none is due). */
  private async overdue(): Promise<number> {
    try {
      const at = await this.store.schedules.earliestDue();
      this.lastOverdue = at === null ? 0 : Math.max(0, Date.now() - at) / 1000;
    } catch (err) {
      this.set(false, err);
    }
    return this.lastOverdue;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * One `owl serve` per embedded data folder: a second one would share the SQLite file and
 * hand the first one's leased URLs out again. The lock names the holder's pid.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'owl.lock');
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch {
    const holder = Number(fs.readFileSync(file, 'utf8').trim());
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new OwlError('CONFIG_INVALID', `another owl process (pid ${holder}) is using ${dataDir}; stop it or set OWL_DATA_DIR to another folder`);
    }
    fs.writeFileSync(file, String(process.pid));
  }
  return () => fs.rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Logs and counts the embedded store's failed group commits (`store_commit_failures_total`;
 * the StoreCommitFailing alert and its runbook quote the log message). The store is opened
 * before the metrics registry exists: the counter is attached once it does.
 */
export function commitFailureReporter(logger: Logger): { onCommitFailure: (err: unknown) => void; attach: (counter: Counter<'backend'>) => void } {
  let counter: Counter<'backend'> | null = null;
  return {
    onCommitFailure: (err) => {
      logger.error({ err, backend: 'sqlite' }, 'store commit failed');
      counter?.inc({ backend: 'sqlite' });
    },
    attach: (c) => {
      counter = c;
    },
  };
}

/** How often page content past OWL_CONTENT_RETENTION_DAYS is looked for. */
const RETENTION_EVERY_MS = 60 * 60 * 1000;

/**
 * Removes page content older than `days` (the page rows stay), at start and then hourly; 0 days
 * keeps content for good. Returns a stop function.
 */
export function startContentRetention(store: Store, days: number, logger: Logger): () => void {
  if (days <= 0) return () => {};
  const sweep = async (): Promise<void> => {
    try {
      const dropped = await store.pages.dropContentBefore(Date.now() - days * 24 * 60 * 60 * 1000);
      if (dropped > 0) logger.info({ dropped, days }, 'page content past its retention removed');
    } catch (err) {
      logger.warn({ err }, 'could not remove page content past its retention; trying again later');
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), RETENTION_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** How often audit entries past OWL_AUDIT_RETENTION_DAYS are looked for. */
const AUDIT_SWEEP_EVERY_MS = 60 * 60 * 1000;

/** Removes audit entries older than `days`, at start and then hourly; 0 keeps them. Returns a stop function. */
export function startAuditRetention(store: Store, days: number, logger: Logger): () => void {
  if (days <= 0) return () => {};
  const sweep = async (): Promise<void> => {
    try {
      const removed = await store.audit.deleteBefore(Date.now() - days * 24 * 60 * 60 * 1000);
      if (removed > 0) logger.info({ removed, days }, 'audit entries past their retention removed');
    } catch (err) {
      logger.warn({ err }, 'could not remove audit entries past their retention; trying again later');
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), AUDIT_SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The trimmed contents of a secret file named by a setting; refuses an empty or unreadable one, naming the setting. */
export function readSecretFile(file: string, setting: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new OwlError('CONFIG_INVALID', `${setting}=${file} cannot be read: ${(err as Error).message}`);
  }
  if (text === '') throw new OwlError('CONFIG_INVALID', `${setting}=${file} is empty`);
  return text;
}
