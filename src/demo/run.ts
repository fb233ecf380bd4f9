/**
 * `make demo [TRIP=<AlertName>] [DEMO_PORT=8000]`: starts the demo site, `owl serve` on the
 * embedded store (data under ./data/demo, private targets allowed, no host delay, 2 attempts) and the
 * driver, until Ctrl-C. With `make monitor-native-up` running, the dashboards fill within a minute.
 * The API port must be free: a server already there would receive the demo's jobs, so the demo
 * refuses to start instead (DEMO_PORT=0 takes any free port).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDemoSite } from './demo-site.ts';
import { DemoDriver, TRIPPABLE_ALERTS, isTrippable } from './driver.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** Binds host:port for a moment: the port `owl serve` will take, or any free one for port 0. Throws a sentence naming the port when it is taken. */
export async function claimPort(host: string, port: number): Promise<number> {
  const server = createServer();
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, resolveListen);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `port ${port} on ${host} is already in use (another owl serve or \`make run\`?). The demo would submit its jobs there; ` +
          `stop that server, or pick another port: make demo DEMO_PORT=${port + 1} (DEMO_PORT=0 takes any free port)`,
      );
    }
    throw new Error(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const taken = (server.address() as AddressInfo).port;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return taken;
}

async function waitForHealth(url: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error('owl serve exited before it answered');
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/healthz did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${flag} ${value}: not a port (0-65535)`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8000' },
      'site-port': { type: 'string', default: '0' },
      'data-dir': { type: 'string', default: join(REPO_ROOT, 'data', 'demo') },
      trip: { type: 'string' },
      interval: { type: 'string', default: '30000' },
    },
  });
  const trip = values.trip;
  if (trip !== undefined && !isTrippable(trip)) {
    console.error(`--trip ${trip}: this demo can trip ${TRIPPABLE_ALERTS.join(', ')}`);
    process.exit(2);
  }
  // Before anything starts: owl serve dies on EADDRINUSE, but the driver would first have sent its
  // jobs to whatever server answers /healthz on that port.
  let port: number;
  try {
    port = await claimPort(process.env.OWL_HOST ?? '127.0.0.1', parsePort('port', values.port));
  } catch (err) {
    console.error(`make demo: ${(err as Error).message}`);
    process.exit(2);
  }
  const site = await startDemoSite({ port: parsePort('site-port', values['site-port']) });
  const dataDir = resolve(values['data-dir']);
  mkdirSync(dataDir, { recursive: true });
  const apiUrl = `http://127.0.0.1:${port}`;
  const owl = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'owl.js'), 'serve', '--port', String(port)], {
    stdio: 'inherit',
    // Two attempts per URL keep the driver's ordinary noise under the alert thresholds (driver.ts).
    // The demo's driver calls the API without a key: auth is off, which owl serve accepts on loopback only.
    env: { ...process.env, OWL_AUTH: process.env.OWL_AUTH ?? 'off', OWL_DATA_DIR: dataDir, OWL_ALLOW_PRIVATE_TARGETS: 'true', OWL_HOST_DELAY_MS: '0', OWL_MAX_ATTEMPTS: '2', OWL_LOG_LEVEL: process.env.OWL_LOG_LEVEL ?? 'warn' },
  });
  const driver = new DemoDriver({ apiUrl, siteUrl: site.url, intervalMs: Number(values.interval), ...(trip ? { trip } : {}) });
  let stopping = false;
  let owlExited = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    driver.stop();
    if (!owlExited) {
      const exited = new Promise((r) => owl.once('exit', r));
      owl.kill('SIGTERM');
      // owl serve drains and exits on SIGTERM; a hung one must not keep the demo alive.
      const kill = setTimeout(() => owl.kill('SIGKILL'), 15_000);
      kill.unref();
      await exited;
      clearTimeout(kill);
    }
    await site.close();
    process.exit(code);
  };
  owl.once('exit', (code) => {
    owlExited = true;
    if (!stopping) {
      console.error(`owl serve exited (${code}); stopping the demo`);
      void stop(1);
    }
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  try {
    // Generous: owl serve exits (and the demo with it) long before this when it cannot start.
    await waitForHealth(apiUrl, 180_000, () => owlExited);
  } catch (err) {
    console.error(`make demo: ${(err as Error).message}`);
    await stop(1);
    return;
  }
  // Another server that took the port between claimPort() and owl serve's listen makes owl serve exit.
  if (owlExited) return;
  console.log(`demo site ${site.url}, API ${apiUrl}${trip ? `, tripping ${trip}` : ''} — Ctrl-C stops`);
  driver.start();
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
