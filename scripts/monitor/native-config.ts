/**
 * Turns the committed compose-oriented monitoring configs into ones that run natively on one
 * host (Debian's binaries on 127.0.0.1). The committed rule, blackbox and Alertmanager files are
 * used as they are; only addresses, discovery and secret paths are rewritten.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MONITORING_DIR = join(REPO_ROOT, 'monitoring');

/** Local ports of each component. Defaults are the plan's ports (§7), overridable by env in native.ts. */
export interface NativePorts {
  prometheus: number;
  alertmanager: number;
  /** `owl serve` (plan §2.2: 8000). */
  api: number;
  node: number;
  postgresExporter: number;
  redisExporter: number;
  blackbox: number;
  /** PostgreSQL and Redis themselves (TCP probes). */
  postgres: number;
  redis: number;
}

export const DEFAULT_PORTS: NativePorts = {
  prometheus: 9090,
  alertmanager: 9093,
  api: 8000,
  node: 9100,
  postgresExporter: 9187,
  redisExporter: 9121,
  blackbox: 9115,
  postgres: 5432,
  redis: 6379,
};

export interface NativePrometheusOptions {
  ports: NativePorts;
  /** file_sd JSON listing `owl worker` metrics endpoints (replaces compose DNS discovery). */
  workersFile: string;
  /** Scrape and evaluation interval (default: the committed file's, 10s). */
  interval?: string;
  /** Extra external labels (the live test sets env="test" to route alerts to its webhook). */
  externalLabels?: Record<string, string>;
  /** Folder of the rule files (default monitoring/prometheus/rules; the live test passes its copy). */
  rulesDir?: string;
  /** More `host:port` targets per job name, added to the job's first static config (default none). */
  extraTargets?: Record<string, string[]>;
  /**
   * The file of the token `owl serve` and `owl worker` require on /metrics (their OWL_METRICS_TOKEN_FILE):
   * the api and workers jobs then send it (`authorization.credentials_file`). Default none: /metrics is open.
   */
  metricsTokenFile?: string;
}

/** The scrape jobs of owl's own processes, which OWL_METRICS_TOKEN_FILE guards. */
const TOKEN_GUARDED_JOBS: ReadonlySet<string> = new Set(['api', 'workers']);

/** Jobs that cannot run natively, with the reason (dropped from the native config). */
export const NATIVE_EXCLUDED_JOBS: Record<string, string> = {
  cadvisor: 'cAdvisor needs a container runtime; none runs on this host',
};

function addressMap(p: NativePorts): Map<string, string> {
  const local = (port: number) => `127.0.0.1:${port}`;
  return new Map([
    ['localhost:9090', local(p.prometheus)],
    ['prometheus:9090', local(p.prometheus)],
    ['alertmanager:9093', local(p.alertmanager)],
    ['api:8000', local(p.api)],
    ['node-exporter:9100', local(p.node)],
    ['postgres-exporter:9187', local(p.postgresExporter)],
    ['redis-exporter:9121', local(p.redisExporter)],
    ['blackbox-exporter:9115', local(p.blackbox)],
    ['postgres:5432', local(p.postgres)],
    ['redis:6379', local(p.redis)],
  ]);
}

/** Rewrites every compose `host:port` in a string; an unknown compose host is an error, not a silent DOWN target. */
function rewriteAddress(value: string, map: Map<string, string>): string {
  const m = /^(https?:\/\/)?([a-z][a-z0-9-]*):(\d+)(\/.*)?$/.exec(value);
  if (!m) return value;
  const mapped = map.get(`${m[2]}:${m[3]}`);
  if (!mapped) throw new Error(`native config: no local address for ${m[2]}:${m[3]} (add it to addressMap)`);
  return `${m[1] ?? ''}${mapped}${m[4] ?? ''}`;
}

type Json = unknown;

function mapStrings(node: Json, f: (s: string) => string): Json {
  if (typeof node === 'string') return f(node);
  if (Array.isArray(node)) return node.map((n) => mapStrings(n, f));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapStrings(v, f)]));
  return node;
}

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: unknown;
  file_sd_configs?: unknown;
  static_configs?: { targets: string[] }[];
  relabel_configs?: unknown[];
  [key: string]: unknown;
}

/** The committed prometheus.yml rewritten for 127.0.0.1, workers from file_sd, absolute rule paths. */
export function nativePrometheusConfig(o: NativePrometheusOptions): string {
  const committed = parse(readFileSync(join(MONITORING_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    alerting: unknown;
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  const map = addressMap(o.ports);
  const rulesDir = o.rulesDir ?? join(MONITORING_DIR, 'prometheus', 'rules');
  const global = { ...committed.global };
  if (o.interval) {
    global.scrape_interval = o.interval;
    global.evaluation_interval = o.interval;
    global.scrape_timeout = o.interval;
  }
  global.external_labels = { ...(global.external_labels as Record<string, string>), ...o.externalLabels };
  const scrapeConfigs = committed.scrape_configs
    .filter((job) => !(job.job_name in NATIVE_EXCLUDED_JOBS))
    .map((job) => {
      const local = mapStrings(job, (s) => rewriteAddress(s, map)) as ScrapeConfig;
      if (job.dns_sd_configs) {
        // Natively, workers come from a file list; any other DNS-discovered service has one local address.
        const sd = job.dns_sd_configs as { names: string[]; port: number }[];
        delete local.dns_sd_configs;
        if (sd.some((c) => c.names.includes('worker'))) {
          local.file_sd_configs = [{ files: [o.workersFile], refresh_interval: '5s' }];
        } else {
          const targets = sd.flatMap((c) => c.names.map((n) => rewriteAddress(`${n}:${c.port}`, map)));
          local.static_configs = [...(local.static_configs ?? []), { targets }];
        }
      }
      if (o.metricsTokenFile && TOKEN_GUARDED_JOBS.has(job.job_name)) local.authorization = { type: 'Bearer', credentials_file: o.metricsTokenFile };
      const extra = o.extraTargets?.[job.job_name];
      if (extra) {
        const first = local.static_configs?.[0];
        if (!first) throw new Error(`native config: job ${job.job_name} has no static targets to extend`);
        first.targets = [...first.targets, ...extra];
      }
      return local;
    });
  const config = {
    global,
    alerting: mapStrings(committed.alerting, (s) => rewriteAddress(s, map)),
    rule_files: committed.rule_files.map((f) => join(rulesDir, f.replace(/^rules\//, ''))),
    scrape_configs: scrapeConfigs,
  };
  return `# Generated by scripts/monitor/native-config.ts from monitoring/prometheus/prometheus.yml — do not edit.\n${stringify(config)}`;
}

export interface NativeAlertmanagerOptions {
  /** Folder where the secret files named in the committed config live natively. */
  secretsDir: string;
  /** Replace the webhook receiver's URL (the live test points it at its own receiver). */
  webhookUrl?: string;
  /** Shorten timings of every route (the live test: group_wait 0s, group_interval 1s). */
  timings?: { group_wait: string; group_interval: string; repeat_interval: string };
  /**
   * Integrations to leave out (default none): their configs are removed from every receiver, and
   * their global settings too, so Alertmanager never contacts their hosts. The native stack leaves
   * out those whose secrets still hold the examples (see unconfiguredIntegrations).
   */
  disabledIntegrations?: readonly Integration[];
}

/** The notification integrations the committed config uses, with the global keys that belong to each. */
const INTEGRATIONS = {
  slack: { receiverKey: 'slack_configs', globalKeys: ['slack_api_url', 'slack_api_url_file'] },
  email: { receiverKey: 'email_configs', globalKeys: ['smtp_smarthost', 'smtp_from', 'smtp_hello', 'smtp_auth_username', 'smtp_auth_password', 'smtp_auth_password_file', 'smtp_auth_identity', 'smtp_auth_secret', 'smtp_require_tls'] },
} as const;

export type Integration = keyof typeof INTEGRATIONS;

interface Route {
  routes?: Route[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  [key: string]: unknown;
}

/** The committed alertmanager.yml with /run/secrets paths moved to `secretsDir` and templates made absolute. */
export function nativeAlertmanagerConfig(o: NativeAlertmanagerOptions): string {
  const doc = parse(readFileSync(join(MONITORING_DIR, 'alertmanager', 'alertmanager.yml'), 'utf8')) as {
    templates?: string[];
    global?: Record<string, unknown>;
    route: Route;
    receivers: ({ name: string; webhook_configs?: { url: string }[] } & Record<string, unknown>)[];
    [key: string]: unknown;
  };
  const rewritten = mapStrings(doc, (s) => s.replace(/^\/run\/secrets\//, `${o.secretsDir}/`)) as typeof doc;
  rewritten.templates = (doc.templates ?? []).map((t) => join(MONITORING_DIR, 'alertmanager', t));
  if (o.webhookUrl) {
    for (const r of rewritten.receivers) for (const w of r.webhook_configs ?? []) w.url = o.webhookUrl;
  }
  for (const integration of o.disabledIntegrations ?? []) {
    const { receiverKey, globalKeys } = INTEGRATIONS[integration];
    for (const r of rewritten.receivers) delete r[receiverKey];
    for (const key of globalKeys) delete rewritten.global?.[key];
  }
  if (o.timings) {
    const shorten = (r: Route) => {
      Object.assign(r, o.timings);
      r.routes?.forEach(shorten);
    };
    shorten(rewritten.route);
  }
  return `# Generated by scripts/monitor/native-config.ts from monitoring/alertmanager/alertmanager.yml — do not edit.\n${stringify(rewritten)}`;
}

/** Domains reserved for examples (RFC 2606, RFC 6761): an address there was never filled in. */
const EXAMPLE_HOST = /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$/i;

/**
 * Integrations of the committed Alertmanager config that are not filled in yet: Slack while its
 * URL secret still holds the example (or a placeholder), e-mail while the SMTP password does or
 * the smarthost is an example domain. `secret(name)` reads a secret file's content (undefined when
 * missing); `example(name)` the committed example's.
 */
export function unconfiguredIntegrations(secret: (name: string) => string | undefined, example: (name: string) => string | undefined): Integration[] {
  const doc = parse(readFileSync(join(MONITORING_DIR, 'alertmanager', 'alertmanager.yml'), 'utf8')) as { global?: Record<string, unknown> };
  const placeholder = (name: string) => {
    const value = secret(name)?.trim();
    return !value || value === example(name)?.trim() || /replace|change-me/i.test(value);
  };
  const secretOf = (key: string) => basename(String(doc.global?.[key] ?? ''));
  const out: Integration[] = [];
  const slackSecret = secretOf('slack_api_url_file');
  // The example is Slack's documented dummy webhook (T00000000/B00000000/XXXX…).
  if (placeholder(slackSecret) || /\/T0+\/B0+\/X+$/.test(secret(slackSecret)?.trim() ?? '')) out.push('slack');
  const smarthost = String(doc.global?.smtp_smarthost ?? '').replace(/:\d+$/, '');
  if (placeholder(secretOf('smtp_auth_password_file')) || !smarthost || EXAMPLE_HOST.test(smarthost)) out.push('email');
  return out;
}

/** Secret file names the committed Alertmanager config reads (basename of every /run/secrets path). */
export function alertmanagerSecretNames(): string[] {
  const text = readFileSync(join(MONITORING_DIR, 'alertmanager', 'alertmanager.yml'), 'utf8');
  return [...new Set([...text.matchAll(/\/run\/secrets\/([\w.-]+)/g)].map((m) => m[1] as string))];
}
