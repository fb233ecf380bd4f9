/**
 * `make monitor-check`: asks Prometheus for its targets and prints each with its health and, for
 * a DOWN one, the likely cause and what to try (plan §13). A blackbox probe target is judged by
 * its `probe_success`, not by `up`: `up` only says the exporter answered, and it does while the
 * probed service is down. Exits 1 when a target is down, a probe fails, or Prometheus cannot be
 * reached. Usage: doctor.ts [prometheus base URL, default http://127.0.0.1:9090].
 */
import { BLACKBOX } from '../../monitoring/grafana/src/exporter-metrics.ts';

export interface TargetInfo {
  job: string;
  instance: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  /** Blackbox probe targets only: the last probe's verdict (undefined until the first probe). */
  probe?: ProbeResult;
}

export interface ProbeResult {
  success: boolean;
  /** HTTP probes: the status code the probed service answered (0 = no answer). */
  httpStatus?: number;
}

/** Ordered: the first pattern matching a scrape error explains it. */
const CAUSES: [RegExp, string][] = [
  [/connection refused/i, 'nothing listens there: the service is not running or uses another port'],
  [/no such host|server misbehaving|name resolution|lookup .* on /i, 'the host name does not resolve: wrong service name, or Prometheus is not on the same (shared, external) network'],
  [/server returned HTTP status 404/i, 'wrong metrics_path: the service answers but not at this path'],
  [/server returned HTTP status 401|server returned HTTP status 403/i, 'the endpoint wants credentials: set basic_auth/authorization in the scrape config'],
  [/server returned HTTP status 5\d\d/i, 'the exporter failed while collecting: read its log (bad DSN, missing grants, backend down)'],
  [/context deadline exceeded|timeout|i\/o timeout/i, 'the target is too slow or a firewall drops packets: check its load, or raise scrape_timeout'],
  [/connection reset|EOF/i, 'the connection was cut: the target crashed or restarted during the scrape, or speaks TLS/another protocol'],
  [/no route to host|network is unreachable/i, 'the address is unreachable from Prometheus: network, firewall or a stopped container'],
  [/x509|tls|certificate/i, 'TLS problem: scheme or certificate mismatch (http vs https, CA not trusted)'],
  [/unsupported Content-Type|expected a valid start token|invalid metric/i, 'the endpoint is not a Prometheus /metrics page: wrong port or path'],
];

export function likelyCause(lastError: string): string {
  if (!lastError) return 'no error recorded yet: Prometheus has not scraped it (it waits about 5 s after start)';
  return CAUSES.find(([re]) => re.test(lastError))?.[1] ?? 'unrecognised error: read the message above and the target\'s log';
}

/** Why a probe failed, from what the exporter recorded. */
export function probeCause(t: TargetInfo): string {
  const status = t.probe?.httpStatus;
  if (status !== undefined && status >= 200 && status < 300) {
    return `the probed service answers HTTP ${status} but not with the body the module expects ({"status":"ok"}): another service owns that port, or the URL is wrong`;
  }
  if (status !== undefined && status > 0) return `the probed service answers HTTP ${status}, not 2xx: read its log (/healthz fails when the service is unhealthy)`;
  return `nothing answers at ${t.instance}: the probed service is not running, uses another port, or its name does not resolve from blackbox-exporter`;
}

/** A target scraped through blackbox_exporter's /probe endpoint. */
export function isProbe(t: Pick<TargetInfo, 'scrapeUrl'>): boolean {
  try {
    return new URL(t.scrapeUrl).pathname === '/probe';
  } catch {
    return false;
  }
}

type Verdict = 'up' | 'down' | 'failed' | 'unknown';

/** What the report says about one target: a probe target that answered is judged by its probe. */
export function verdict(t: TargetInfo): Verdict {
  if (t.health !== 'up' || !isProbe(t)) return t.health;
  if (!t.probe) return 'unknown';
  return t.probe.success ? 'up' : 'failed';
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function getJson<T>(url: URL): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url.origin} answered HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function instantQuery(prometheusUrl: string, expr: string): Promise<VectorSample[]> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', expr);
  return (await getJson<{ data: { result: VectorSample[] } }>(url)).data.result;
}

export async function fetchTargets(prometheusUrl: string): Promise<TargetInfo[]> {
  const body = await getJson<{
    data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string; health: TargetInfo['health']; lastError: string }[] };
  }>(new URL('/api/v1/targets?state=active', prometheusUrl));
  const targets: TargetInfo[] = body.data.activeTargets
    .map((t) => ({ job: t.labels.job ?? '', instance: t.labels.instance ?? '', scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError }))
    .sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
  if (targets.some(isProbe)) {
    const key = (m: Record<string, string>) => `${m.job ?? ''}\n${m.instance ?? ''}`;
    const success = new Map((await instantQuery(prometheusUrl, BLACKBOX.success)).map((s) => [key(s.metric), s.value[1] === '1']));
    const status = new Map((await instantQuery(prometheusUrl, BLACKBOX.httpStatusCode)).map((s) => [key(s.metric), Number(s.value[1])]));
    for (const t of targets.filter(isProbe)) {
      const k = key({ job: t.job, instance: t.instance });
      const ok = success.get(k);
      if (ok !== undefined) t.probe = { success: ok, ...(status.has(k) ? { httpStatus: status.get(k) } : {}) };
    }
  }
  return targets;
}

/** The report as lines of text, and whether everything is up (every target scraped, every probe succeeding). */
export function report(targets: TargetInfo[]): { lines: string[]; healthy: boolean } {
  const lines: string[] = [];
  for (const t of targets) {
    const v = verdict(t);
    lines.push(`${v.toUpperCase().padEnd(7)} ${t.job.padEnd(14)} ${t.instance}`);
    if (v === 'failed') {
      lines.push('        probe:  blackbox-exporter answers, but its probe fails (probe_success 0)');
      lines.push(`        cause:  ${probeCause(t)}`);
    } else if (v === 'unknown' && t.health === 'up') {
      lines.push('        probe:  no probe_success recorded yet: wait one scrape interval');
    } else if (v !== 'up') {
      lines.push(`        scrape: ${t.scrapeUrl}`);
      if (t.lastError) lines.push(`        error:  ${t.lastError}`);
      lines.push(`        cause:  ${likelyCause(t.lastError)}`);
    }
  }
  if (targets.length === 0) lines.push('no active targets: is this the right Prometheus, and did its config load?');
  const bad = targets.filter((t) => verdict(t) !== 'up');
  const failedProbes = bad.filter((t) => verdict(t) === 'failed').length;
  lines.push(`${targets.length - bad.length}/${targets.length} targets up${failedProbes > 0 ? ` (${failedProbes} failing probe${failedProbes > 1 ? 's' : ''})` : ''}`);
  return { lines, healthy: targets.length > 0 && bad.length === 0 };
}

async function main(): Promise<void> {
  const url = process.argv[2] ?? process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090';
  let targets: TargetInfo[];
  try {
    targets = await fetchTargets(url);
  } catch (err) {
    console.error(`cannot query ${url}/api/v1/targets: ${(err as Error).message}`);
    console.error('Prometheus is not running there: start it with `make monitor-up` (Docker) or `make monitor-native-up`.');
    process.exit(1);
  }
  const { lines, healthy } = report(targets);
  for (const line of lines) console.log(line);
  process.exit(healthy ? 0 : 1);
}

if (process.argv[1]?.endsWith('doctor.ts')) await main();
