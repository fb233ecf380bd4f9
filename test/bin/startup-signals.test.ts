/**
 * A SIGTERM at any moment of start-up ends `owl crawl`, `owl serve` and `owl worker` cleanly:
 * exit 0 with one line (or, for a crawl, its cancelled job's summary), never killed by the signal
 * once owl's first line has run, never stuck, and the store usable afterwards.
 *
 * Start-up is made slow on purpose (TEST_OWL_STARTUP_STEP_MS, bin/early-signals.js: a pause at
 * every start-up step, announced on stderr), so the timed signals land in start-up on a fast
 * machine too; the step-by-step cases send the signal while the process waits at a named step,
 * which does not depend on the machine's speed at all.
 *
 * Before Node runs the first line of JavaScript (its own first ~40 ms) no program can handle a
 * signal: a process killed then ends by the signal. That case is recognised by the missing
 * "handlers" step on stderr (the step is announced after the handlers are installed, and stderr
 * is a synchronous pipe), and then nothing may have been written.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { startServe } from './serve-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STEP_MS = 150;
const MOMENTS = [0, 50, 200, 1_000];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string[];
}

/**
 * Runs `owl ARGS`; `when` says when to send the signal: a delay after spawn (ms) or the name of a
 * start-up step (`owl start-up: NAME` on stderr). Bounded: a process still running 60 s after the
 * signal fails the test (and is killed).
 */
function runOwl(args: string[], env: NodeJS.ProcessEnv, when: number | string, signal: NodeJS.Signals = 'SIGTERM'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/owl.js', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_LOG_LEVEL: 'warn', TEST_OWL_STARTUP_STEP_MS: String(STEP_MS), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const stderr: string[] = [];
    let stuck: NodeJS.Timeout | undefined;
    const send = () => {
      child.kill(signal);
      stuck = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`owl ${args[0]} still running 60 s after ${signal}:\n${stderr.join('\n')}`));
      }, 60_000);
    };
    child.stdout.on('data', (d) => (stdout += d));
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (typeof when === 'string' && line === `owl start-up: ${when}`) send();
    });
    child.on('close', (code, sig) => {
      clearTimeout(stuck);
      resolve({ code, signal: sig, stdout, stderr });
    });
    if (when === 0) send();
    else if (typeof when === 'number') setTimeout(send, when);
  });
}

/** Killed by the signal: only allowed before owl's first line ran, and then nothing was written. */
function diedBeforeOwlRan(r: Run, dataDir: string): boolean {
  if (r.code !== null) return false;
  assert.equal(r.signal, 'SIGTERM');
  assert.ok(!r.stderr.includes('owl start-up: handlers'), `killed by the signal after the handlers were installed:\n${r.stderr.join('\n')}`);
  assert.equal(r.stdout, '');
  assert.deepEqual(existsSync(dataDir) ? readdirSync(dataDir) : [], []);
  return true;
}

/** One line saying start-up was stopped, or (signal after ready) nothing but the trace. */
function assertCleanStop(r: Run, command: string): void {
  assert.equal(r.code, 0, r.stderr.join('\n'));
  // Besides the trace: serve's "listening on" line (stderr is not a terminal) once it listens.
  const said = r.stderr.filter((l) => !l.startsWith('owl start-up: ') && !/^owl serve listening on http:/.test(l));
  const stopped = said.filter((l) => l === `owl ${command}: stopped by SIGTERM during start-up`);
  // Logs at warn level: nothing else is printed either way (a shutdown after ready logs at info).
  assert.deepEqual(said, stopped, r.stderr.join('\n'));
  if (r.stderr.includes(`owl start-up: ${command} ready`)) return;
  assert.equal(stopped.length, 1, `no "stopped during start-up" line:\n${r.stderr.join('\n')}`);
}

describe('a signal at any moment of start-up', { concurrency: 4 }, () => {
  let site: FixtureSite;
  let dataDir: string;
  let schema: TestSchema;

  before(async () => {
    site = await startFixtureSite({ graphSize: 20, linksPerPage: 3 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'owl-signals-'));
    schema = await createTestSchema();
  });
  after(async () => {
    await site?.close();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const crawlSteps = ['handlers', 'crawl store migrated', 'crawl runtime created', 'crawl started'];
  for (const when of [...MOMENTS, ...crawlSteps]) {
    it(`owl crawl, SIGTERM ${typeof when === 'number' ? `${when} ms after spawn` : `at step "${when}"`}: the job is cancelled, its summary printed, exit 0`, async () => {
      const dir = path.join(dataDir, `crawl-${when}`);
      const r = await runOwl(['crawl', `${site.url}/slow?ms=3000`, `${site.url}/slow?ms=3001`, '--host-delay', '0', '--json'], { OWL_DATA_DIR: dir }, when);
      if (diedBeforeOwlRan(r, dir)) return;
      assert.equal(r.code, 0, r.stderr.join('\n'));
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.equal(summary.status, 'cancelled');
      // Cancelled during start-up: the crawler never started, so nothing was fetched.
      if (typeof when === 'string' && when !== 'crawl started') assert.equal(summary.pages, 0);
    });
  }

  const serveSteps = ['handlers', 'serve store opened', 'serve store migrated', 'serve API built', 'serve listening', 'serve workers created', 'serve ready'];
  for (const when of [...MOMENTS, ...serveSteps]) {
    it(`owl serve, SIGTERM ${typeof when === 'number' ? `${when} ms after spawn` : `at step "${when}"`}: exit 0, the data folder unlocked and usable`, async () => {
      const dir = path.join(dataDir, `serve-${when}`);
      const r = await runOwl(['serve', '--port', '0'], { OWL_DATA_DIR: dir, OWL_AUTH: 'off' }, when);
      if (diedBeforeOwlRan(r, dir)) return;
      assertCleanStop(r, 'serve');
      assert.ok(!existsSync(path.join(dir, 'owl.lock')), 'owl.lock left behind');
      // The store opens again: no lock held, no migration left half-applied.
      const again = await startServe({ OWL_DATA_DIR: dir });
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    });
  }

  const workerSteps = ['handlers', 'worker store opened', 'worker store migrated', 'worker listening', 'worker crawler created', 'worker ready'];
  for (const when of [...MOMENTS, ...workerSteps]) {
    it(`owl worker, SIGTERM ${typeof when === 'number' ? `${when} ms after spawn` : `at step "${when}"`}: exit 0 with one line`, async () => {
      const dir = path.join(dataDir, `worker-${when}`);
      const r = await runOwl(['worker', '--metrics-port', '0'], { OWL_DATA_DIR: dir, DATABASE_URL: schema.url() }, when);
      if (diedBeforeOwlRan(r, dir)) return;
      assertCleanStop(r, 'worker');
    });
  }

  it('a second signal during start-up exits at once with 130', async () => {
    const dir = path.join(dataDir, 'twice');
    const child = spawn(process.execPath, ['bin/owl.js', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_DATA_DIR: dir, OWL_LOG_LEVEL: 'warn', TEST_OWL_STARTUP_STEP_MS: '60000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      lines.push(line);
      // Two different signals: two of the same kind sent at once may arrive as one.
      if (line === 'owl start-up: handlers') {
        child.kill('SIGTERM');
        child.kill('SIGINT');
      }
    });
    assert.equal(await exited, 130);
    assert.match(lines.at(-1) ?? '', /^owl: second SIG(INT|TERM) during start-up: exiting now$/);
  });
});
