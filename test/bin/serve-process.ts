import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output: string[];
}

/** Starts `owl serve --port 0` and resolves with its URL once it listens (bounded: 30 s). */
export async function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/owl.js', 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    // Auth off on purpose: these servers listen on 127.0.0.1 only (test/auth/ covers keys end to end).
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_LOG_LEVEL: 'warn', OWL_AUTH: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  readline.createInterface({ input: child.stdout! }).on('line', (l) => output.push(l));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`owl serve did not start:\n${output.join('\n')}`)), 30_000);
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      output.push(line);
      const m = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => reject(new Error(`owl serve exited with ${code}:\n${output.join('\n')}`)));
  });
  return { child, url, exited, output };
}

/**
 * Runs one `owl` command to its end, asynchronously (spawnSync would block a fixture server living
 * in the test's process); `onStart` gets the child as soon as it is spawned (to signal it).
 */
export function runOwl(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStart?: (child: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/owl.js', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

export async function api<T = any>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}
