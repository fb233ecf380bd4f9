/**
 * `make monitor-test-alert`: pushes a synthetic alert into a running Alertmanager (plan §12,
 * "prove it with a test alert"), so the real routing, grouping and receivers carry it like any
 * alert from Prometheus. It then reads the alert back from Alertmanager's v2 API, prints the
 * receivers Alertmanager routed it to, and the amtool commands to look at it.
 *
 * Usage: node --import tsx scripts/monitor/test-alert.ts [--resolve] [--minutes N] [label=value …]
 * Alertmanager: ALERTMANAGER_URL (default http://127.0.0.1:9093, the native stack's and compose's port).
 */
import { REPO_ROOT } from './native-config.ts';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

export const TEST_ALERT_NAME = 'OwlTestAlert';

/** Labels every test alert carries; command-line labels are added to them (and may override severity). */
export const TEST_ALERT_LABELS: Readonly<Record<string, string>> = {
  alertname: TEST_ALERT_NAME,
  severity: 'warning',
  component: 'monitoring',
};

export const TEST_ALERT_ANNOTATIONS: Readonly<Record<string, string>> = {
  summary: 'Test alert sent by make monitor-test-alert',
  description: 'A synthetic alert that proves Alertmanager routes and delivers notifications. Nothing is wrong; it resolves by itself.',
  runbook_url: 'https://github.com/sparkling-owl-spin/sparkling-owl-spin/blob/main/docs/monitoring.md#prove-it-with-a-test-alert',
};

export interface TestAlertOptions {
  /** Alertmanager base URL (default http://127.0.0.1:9093). */
  alertmanagerUrl?: string;
  /** Extra labels, added to TEST_ALERT_LABELS (default none). */
  labels?: Record<string, string>;
  /** How long the alert stays active before Alertmanager resolves it (default 5 minutes). */
  minutes?: number;
  /** Send it already ended, which resolves an earlier test alert with the same labels (default false). */
  resolve?: boolean;
}

export interface TestAlertResult {
  labels: Record<string, string>;
  /** Receivers Alertmanager routed the alert to (empty when resolved: it is no longer listed). */
  receivers: string[];
}

export const DEFAULT_ALERTMANAGER_URL = 'http://127.0.0.1:9093';

/** Parses `label=value` arguments; a label name must match Prometheus's label syntax. */
export function parseLabels(args: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(arg);
    if (!m) throw new Error(`not a label=value pair: ${arg}`);
    labels[m[1] as string] = m[2] as string;
  }
  return labels;
}

/** Posts the alert to /api/v2/alerts, then reads it back to learn where it was routed. */
export async function sendTestAlert(o: TestAlertOptions = {}): Promise<TestAlertResult> {
  const base = o.alertmanagerUrl ?? DEFAULT_ALERTMANAGER_URL;
  const labels = { ...TEST_ALERT_LABELS, ...o.labels, alertname: TEST_ALERT_NAME };
  const now = Date.now();
  const endsAt = o.resolve ? now : now + (o.minutes ?? 5) * 60_000;
  const body = [{ labels, annotations: TEST_ALERT_ANNOTATIONS, startsAt: new Date(now).toISOString(), endsAt: new Date(endsAt).toISOString() }];
  const res = await fetch(new URL('/api/v2/alerts', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`POST ${base}/api/v2/alerts: HTTP ${res.status} ${await res.text()}`);
  if (o.resolve) return { labels, receivers: [] };

  const query = new URL('/api/v2/alerts', base);
  for (const [k, v] of Object.entries(labels)) query.searchParams.append('filter', `${k}=${JSON.stringify(v)}`);
  const listed = (await (await fetch(query, { signal: AbortSignal.timeout(10_000) })).json()) as { receivers: { name: string }[] }[];
  const receivers = [...new Set(listed.flatMap((a) => a.receivers.map((r) => r.name)))];
  return { labels, receivers };
}

/** What to run next to see the alert and check the routing (printed by the make target). */
export function followUp(base: string, result: TestAlertResult): string[] {
  const matchers = Object.entries(result.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  const config = relative(process.cwd(), join(REPO_ROOT, 'monitoring', 'alertmanager', 'alertmanager.yml')) || 'alertmanager.yml';
  return [
    `See it:              amtool --alertmanager.url=${base} alert query alertname=${TEST_ALERT_NAME}`,
    `Routing (committed): amtool config routes test --config.file=${config} ${matchers}`,
    `Routing (running):   amtool --alertmanager.url=${base} config routes`,
    `Resolve it now:      make monitor-test-alert TEST_ALERT_ARGS=--resolve`,
  ];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { resolve: { type: 'boolean', default: false }, minutes: { type: 'string' } },
    allowPositionals: true,
  });
  const resolve = values.resolve ?? false;
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
  if (minutes !== undefined && !(minutes > 0)) throw new Error('--minutes needs a positive number');
  const labelArgs = positionals;
  const base = process.env.ALERTMANAGER_URL || DEFAULT_ALERTMANAGER_URL;
  let result: TestAlertResult;
  try {
    result = await sendTestAlert({ alertmanagerUrl: base, labels: parseLabels(labelArgs), minutes, resolve });
  } catch (err) {
    console.error(`cannot send the test alert to ${base}: ${(err as Error).message}`);
    console.error('Is Alertmanager running there? Start it with `make monitor-up` (Docker) or `make monitor-native-up`, or set ALERTMANAGER_URL.');
    process.exit(1);
  }
  const shown = Object.entries(result.labels).map(([k, v]) => `${k}="${v}"`).join(', ');
  if (resolve) {
    console.log(`resolved {${shown}} at ${base}`);
    return;
  }
  console.log(`sent {${shown}} to ${base} (active for ${minutes ?? 5} min)`);
  console.log(result.receivers.length > 0 ? `routed to receiver(s): ${result.receivers.join(', ')}` : 'Alertmanager did not list it back: check its log');
  for (const line of followUp(base, result)) console.log(line);
}

if (process.argv[1]?.endsWith('test-alert.ts')) await main();
