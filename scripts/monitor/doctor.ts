/**
 * `make monitor-check`: asks Prometheus for its targets and prints each with its health and, for
 * a DOWN one, the likely cause and what to try (plan §13). Exits 1 when a target is down or
 * Prometheus cannot be reached. Usage: doctor.ts [prometheus base URL, default http://127.0.0.1:9090].
 */

export interface TargetInfo {
  job: string;
  instance: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
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

export async function fetchTargets(prometheusUrl: string): Promise<TargetInfo[]> {
  const res = await fetch(new URL('/api/v1/targets?state=active', prometheusUrl), { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${prometheusUrl} answered HTTP ${res.status}`);
  const body = (await res.json()) as {
    data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string; health: TargetInfo['health']; lastError: string }[] };
  };
  return body.data.activeTargets
    .map((t) => ({ job: t.labels.job ?? '', instance: t.labels.instance ?? '', scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError }))
    .sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
}

/** The report as lines of text, and whether everything is up. */
export function report(targets: TargetInfo[]): { lines: string[]; healthy: boolean } {
  const lines: string[] = [];
  for (const t of targets) {
    lines.push(`${t.health.toUpperCase().padEnd(7)} ${t.job.padEnd(14)} ${t.instance}`);
    if (t.health !== 'up') {
      lines.push(`        scrape: ${t.scrapeUrl}`);
      if (t.lastError) lines.push(`        error:  ${t.lastError}`);
      lines.push(`        cause:  ${likelyCause(t.lastError)}`);
    }
  }
  if (targets.length === 0) lines.push('no active targets: is this the right Prometheus, and did its config load?');
  const down = targets.filter((t) => t.health !== 'up').length;
  lines.push(`${targets.length - down}/${targets.length} targets up`);
  return { lines, healthy: targets.length > 0 && down === 0 };
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
