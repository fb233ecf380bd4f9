/**
 * Building blocks of the live monitoring tests: child processes with logs, free ports, bounded
 * waits, a TCP relay that can be cut (to take PostgreSQL away from one client without touching
 * the shared server), an Alertmanager webhook receiver and a small Prometheus API client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';

/** A port free right now on 127.0.0.1 (the OS picks it; for binaries that cannot report port 0). */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown from a waitFor check to stop waiting at once (e.g. the process being waited for exited). */
export class GiveUp extends Error {}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** The test's environment minus owl's own settings: owl rejects unknown OWL_* names, and a stray one would change the service under test. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWL_') && k !== 'DATABASE_URL'));
}

export interface Spec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** A child process whose output goes to <logDir>/<name>.log; it can be stopped and started again with the same arguments. */
export class Managed {
  private child: ChildProcess | undefined;
  private starts = 0;

  constructor(readonly spec: Spec, private readonly logDir: string) {}

  get logFile(): string {
    return join(this.logDir, `${this.spec.name}.log`);
  }

  start(): void {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`--- start ${++this.starts}: ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    const child = spawn(this.spec.command, this.spec.args, { env: { ...inheritedEnv(), ...this.spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => log.end());
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/**
 * A TCP relay 127.0.0.1:<port> → 127.0.0.1:<targetPort> that can be cut and restored, and can
 * delay what the target sends back (a slow database without touching the shared server).
 */
export class Relay {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Each chunk from the target reaches the client this much later (default 0); applies to open connections too. */
  delayMs = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createTcpServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream);
      this.forwardDelayed(upstream, client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /**
   * Forwards `from` to `to`, each chunk held until `delayMs` after it arrived. Chunks stay in order
   * and the delays do not add up: a reply in several chunks arrives about `delayMs` late, once.
   */
  private forwardDelayed(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const due = Date.now() + this.delayMs;
      chain = chain.then(async () => {
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.once('end', () => void chain.then(() => to.end()));
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface Notification {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  receivedAt: number;
}

/** Collects Alertmanager webhook deliveries. */
export class WebhookReceiver {
  readonly notifications: Notification[] = [];
  private server: HttpServer | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: { status: Notification['status']; labels: Record<string, string> }[] };
          for (const a of body.alerts) this.notifications.push({ status: a.status, labels: a.labels, receivedAt: Date.now() });
        } catch {
          // not an Alertmanager payload; ignore
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  find(alertname: string, status: Notification['status'], since = 0, match: Record<string, string> = {}): Notification | undefined {
    return this.notifications.find(
      (n) => n.labels.alertname === alertname && n.status === status && n.receivedAt >= since && Object.entries(match).every(([k, v]) => n.labels[k] === v),
    );
  }

  firingNames(since = 0): Set<string> {
    return new Set(this.notifications.filter((n) => n.status === 'firing' && n.receivedAt >= since).map((n) => n.labels.alertname ?? ''));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** The few Prometheus HTTP API calls the tests make. */
export class PrometheusClient {
  constructor(readonly baseUrl: string) {}

  private async get<T>(path: string, params: Record<string, string>): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  async query(expr: string): Promise<PromSeries[]> {
    return (await this.get<{ result: PromSeries[] }>('/api/v1/query', { query: expr })).result;
  }

  async queryRange(expr: string, seconds: number, step = '2s'): Promise<PromSeries[]> {
    const end = Date.now() / 1000;
    return (await this.get<{ result: PromSeries[] }>('/api/v1/query_range', { query: expr, start: String(end - seconds), end: String(end), step })).result;
  }

  async targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[]> {
    return (await this.get<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[] }>('/api/v1/targets', { state: 'active' })).activeTargets;
  }

  async firingAlerts(): Promise<string[]> {
    const data = await this.get<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts', {});
    return data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname ?? '');
  }

  /** Deletes the history of matching series (needs --web.enable-admin-api). */
  async deleteSeries(match: string): Promise<void> {
    const url = new URL('/api/v1/admin/tsdb/delete_series', this.baseUrl);
    url.searchParams.set('match[]', match);
    const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (res.status !== 204) throw new Error(`delete_series ${match}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** GET url and resolve true on a 2xx (false on any error). */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Copies the committed rule files (top level of `srcDir`) to `dstDir`, setting `for:` of the named
 * alerts to the given durations. Expressions, labels and annotations are kept exactly.
 */
export async function copyRules(srcDir: string, dstDir: string, forOverrides: Record<string, string>): Promise<string[]> {
  const { readdirSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { parse, stringify } = await import('yaml');
  mkdirSync(dstDir, { recursive: true });
  const seen = new Set<string>();
  for (const file of readdirSync(srcDir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(readFileSync(join(srcDir, file), 'utf8')) as { groups: { rules: { alert?: string; for?: string }[] }[] };
    for (const group of doc.groups ?? []) {
      for (const rule of group.rules ?? []) {
        const override = rule.alert ? forOverrides[rule.alert] : undefined;
        if (rule.alert && override !== undefined) {
          rule.for = override;
          seen.add(rule.alert);
        }
      }
    }
    writeFileSync(join(dstDir, file), stringify(doc));
  }
  const missing = Object.keys(forOverrides).filter((a) => !seen.has(a));
  if (missing.length > 0) throw new Error(`copyRules: no committed alert named ${missing.join(', ')}`);
  return [...seen];
}
