/** Spawns `owl worker` and `owl serve` processes for the scale proofs and reads their metrics. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface OwlProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT — the worker's metrics server or the API. */
  url: string;
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function startOwl(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<OwlProcess> {
  const child = spawn(process.execPath, ['bin/owl.js', ...args], {
    cwd: ROOT,
    // Auth off on purpose: every process listens on 127.0.0.1 only (test/auth/ covers keys across API processes).
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_HOST: '127.0.0.1', OWL_LOG_LEVEL: 'info', OWL_AUTH: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return new Promise<OwlProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`owl ${args[0]} did not start:\n${output.join('\n')}`)), 30_000);
    const onLine = (line: string) => {
      output.push(line);
      if (output.length > 2000) output.shift();
      let msg = line;
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
      } catch {
        // not a JSON log line (a crash trace): searched as it is
      }
      const m = ready.exec(msg);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          url: `http://127.0.0.1:${m[1]}`,
          output,
          exited,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`owl ${args[0]} exited with ${code}:\n${output.join('\n')}`));
    });
  });
}

/** `owl worker --metrics-port 0`; the port comes from its "metrics on http://HOST:PORT/metrics" log line. */
export function startWorker(env: NodeJS.ProcessEnv): Promise<OwlProcess> {
  return startOwl(['worker', '--metrics-port', '0'], env, /metrics on http:\/\/[^:\s]+:(\d+)\/metrics/);
}

/** `owl serve --port 0`. */
export function startApi(env: NodeJS.ProcessEnv): Promise<OwlProcess> {
  return startOwl(['serve', '--port', '0'], env, /listening on http:\/\/[^:\s]+:(\d+)/);
}

/** Sum of every series of one metric in a Prometheus text exposition (undefined when absent). */
export function metricValue(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

/** Polls `check` every `everyMs` until it returns a value, at most `rounds` times. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, rounds = 600, everyMs = 200): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}
