/**
 * `make demo` (src/demo/run.ts): with its API port taken it must stop before sending anything to
 * the server that holds the port; with DEMO_PORT=0 it takes a free port, drives jobs into its own
 * `owl serve`, and stops cleanly on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/monitor/native-config.ts';
import { GiveUp, waitFor } from './harness.ts';

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** The environment minus owl's own settings (owl rejects unknown OWL_* names). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWL_') && k !== 'DATABASE_URL'));
}

function demo(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'demo', 'run.ts'), ...args], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('make demo', { timeout: 400_000 }, () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  let occupant: Server | undefined;

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (occupant) await new Promise<void>((resolve) => occupant?.close(() => resolve()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a taken port before sending anything to the server that holds it', async () => {
    const requests: string[] = [];
    occupant = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      // Looks like an owl API: a health check alone would not tell the demo it is not its own.
      if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"foreign"}');
    });
    await new Promise<void>((resolve) => occupant?.listen(0, '127.0.0.1', resolve));
    const port = (occupant.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'owl-demo-'));
    dirs.push(dir);
    const run = demo(['--port', String(port), '--data-dir', dir]);
    children.push(run.child);
    assert.equal(await run.exit, 2, run.stdout() + run.stderr());
    assert.match(run.stderr(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(run.stderr(), /DEMO_PORT=0 takes any free port/);
    assert.deepEqual(requests, [], 'the demo talked to the server that holds its port');
  });

  it('with port 0 takes a free port, submits demo jobs to its own owl serve, and stops on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owl-demo-'));
    dirs.push(dir);
    const run = demo(['--port', '0', '--data-dir', dir]);
    children.push(run.child);
    const api = await waitFor('the demo to announce its API', () => {
      if (run.child.exitCode !== null) throw new GiveUp(`the demo exited ${run.child.exitCode}: ${run.stdout()}${run.stderr()}`);
      return /, API (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout())?.[1];
    }, 200_000);
    assert.notEqual(new URL(api).port, '0');
    const jobs = await waitFor('demo jobs in its own API', async () => {
      const body = (await (await fetch(`${api}/jobs?limit=100`)).json()) as { jobs: { source?: string }[] };
      return body.jobs.length >= 4 ? body.jobs : false;
    }, 120_000);
    assert.ok(jobs.some((j) => j.source === 'demo'), JSON.stringify(jobs));
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 0, run.stdout() + run.stderr());
  });
});
