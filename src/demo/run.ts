/**
 * `make demo [TRIP=<AlertName>] [DEMO_PORT=8000]`: starts the demo site, `owl serve` on the
 * embedded store (data under ./data/demo, private targets allowed, no host delay, 2 attempts) and the
 * driver, until Ctrl-C. With `make monitor-native-up` running, the dashboards fill within a minute.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDemoSite } from './demo-site.ts';
import { DemoDriver, TRIPPABLE_ALERTS, isTrippable } from './driver.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/healthz did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8000' },
      'site-port': { type: 'string', default: '0' },
      trip: { type: 'string' },
      interval: { type: 'string', default: '30000' },
    },
  });
  const trip = values.trip;
  if (trip !== undefined && !isTrippable(trip)) {
    console.error(`--trip ${trip}: this demo can trip ${TRIPPABLE_ALERTS.join(', ')}`);
    process.exit(2);
  }
  const site = await startDemoSite({ port: Number(values['site-port']) });
  const dataDir = join(REPO_ROOT, 'data', 'demo');
  mkdirSync(dataDir, { recursive: true });
  const apiUrl = `http://127.0.0.1:${values.port}`;
  const owl = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'owl.js'), 'serve', '--port', String(values.port)], {
    stdio: 'inherit',
    // Two attempts per URL keep the driver's ordinary noise under the alert thresholds (driver.ts).
    env: { ...process.env, OWL_DATA_DIR: dataDir, OWL_ALLOW_PRIVATE_TARGETS: 'true', OWL_HOST_DELAY_MS: '0', OWL_MAX_ATTEMPTS: '2', OWL_LOG_LEVEL: process.env.OWL_LOG_LEVEL ?? 'warn' },
  });
  const driver = new DemoDriver({ apiUrl, siteUrl: site.url, intervalMs: Number(values.interval), ...(trip ? { trip } : {}) });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    driver.stop();
    owl.kill('SIGTERM');
    await site.close();
    process.exit(code);
  };
  owl.once('exit', (code) => {
    if (!stopping) {
      console.error(`owl serve exited (${code}); stopping the demo`);
      void stop(1);
    }
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  await waitForHealth(apiUrl, 30_000);
  console.log(`demo site ${site.url}, API ${apiUrl}${trip ? `, tripping ${trip}` : ''} — Ctrl-C stops`);
  driver.start();
}

await main();
