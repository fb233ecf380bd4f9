import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
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

  gaugeSources(): Pick<GaugeSources, 'jobsInQueue' | 'queueDepth' | 'store'> {
    return {
      jobsInQueue: async () => (await this.read()).jobsInQueue,
      queueDepth: async () => (await this.read()).queueDepth,
      store: () => ({ backend: this.store.backend, up: this.up }),
    };
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
