/**
 * Every setting of the service: its environment variable, type, default and meaning.
 * `loadConfig` validates once at start-up and returns a frozen object that is passed in;
 * nothing deeper reads process.env. Unknown OWL_* variables are rejected by name.
 */

type Kind = 'int' | 'bool' | 'string' | 'list' | 'enum';

interface Setting<K extends Kind = Kind> {
  env: string;
  kind: K;
  doc: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

function s<K extends Kind>(env: string, kind: K, doc: string, extra: Omit<Setting, 'env' | 'kind' | 'doc'> = {}): Setting<K> {
  return { env, kind, doc, ...extra };
}

export const SETTINGS = {
  host: s('OWL_HOST', 'string', 'Address the API listens on (compose sets 0.0.0.0).'),
  port: s('OWL_PORT', 'int', 'API port (plan §2.2).', { min: 0, max: 65535 }),
  metricsPort: s('OWL_METRICS_PORT', 'int', "A worker process's /metrics port (plan §2.3).", { min: 0, max: 65535 }),
  databaseUrl: s('DATABASE_URL', 'string', 'postgres://… selects PostgreSQL; unset means SQLite under dataDir.'),
  dataDir: s('OWL_DATA_DIR', 'string', 'Folder of the embedded SQLite store.'),
  inProcessWorkers: s('OWL_IN_PROCESS_WORKERS', 'bool', '`owl serve` on PostgreSQL also crawls in-process (default false; on SQLite it always does).'),
  concurrency: s('OWL_CONCURRENCY', 'int', 'Fetches in flight per worker process.', { min: 1, max: 1024 }),
  leaseMs: s('OWL_LEASE_MS', 'int', 'How long a claimed URL stays leased before another worker may take it.', { min: 1000 }),
  perHostConcurrency: s('OWL_PER_HOST_CONCURRENCY', 'int', 'Fetches in flight per host, across all workers (with a host delay too: a host slower than the delay has up to this many running).', { min: 1, max: 1024 }),
  hostDelayMs: s('OWL_HOST_DELAY_MS', 'int', 'Minimum gap between the starts of two requests to one host (robots crawl-delay may raise it).', { min: 0 }),
  userAgent: s('OWL_USER_AGENT', 'string', 'User-Agent header and robots.txt agent token.'),
  connectTimeoutMs: s('OWL_CONNECT_TIMEOUT_MS', 'int', 'TCP/TLS connect timeout.', { min: 100 }),
  headersTimeoutMs: s('OWL_HEADERS_TIMEOUT_MS', 'int', 'Time to the response headers.', { min: 100 }),
  bodyTimeoutMs: s('OWL_BODY_TIMEOUT_MS', 'int', 'Time allowed between body chunks and for the whole body.', { min: 100 }),
  maxBodyBytes: s('OWL_MAX_BODY_BYTES', 'int', 'Largest response body read; larger pages fail with body_limit.', { min: 1024 }),
  maxRedirects: s('OWL_MAX_REDIRECTS', 'int', 'Redirects followed per fetch.', { min: 0, max: 20 }),
  maxAttempts: s('OWL_MAX_ATTEMPTS', 'int', 'Attempts per URL (first try included) before it fails for good.', { min: 1, max: 20 }),
  retryBaseMs: s('OWL_RETRY_BASE_MS', 'int', 'First retry delay; doubles per attempt, with full jitter.', { min: 0 }),
  retryMaxMs: s('OWL_RETRY_MAX_MS', 'int', 'Longest retry delay (Retry-After is honoured up to this).', { min: 0 }),
  respectRobots: s('OWL_RESPECT_ROBOTS', 'bool', 'Obey robots.txt by default (a job may not turn it off unless this is false).'),
  allowPrivateTargets: s('OWL_ALLOW_PRIVATE_TARGETS', 'bool', 'Allow loopback/private/link-local/CGNAT/metadata targets (operators only).'),
  maxSites: s('OWL_MAX_SITES', 'int', 'Distinct `site` label values before the rest count as `other`.', { min: 1, max: 100000 }),
  proxies: s('OWL_PROXIES', 'list', 'Comma-separated http(s) proxy URLs.'),
  proxyFile: s('OWL_PROXY_FILE', 'string', 'File with one proxy URL per line (# comments).'),
  proxyCooldownMs: s('OWL_PROXY_COOLDOWN_MS', 'int', 'First cooldown of a failing proxy; doubles per consecutive failure.', { min: 0 }),
  logLevel: s('OWL_LOG_LEVEL', 'enum', 'Log level.', { values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  maxBodyRequestBytes: s('OWL_API_BODY_LIMIT', 'int', 'Largest API request body.', { min: 1024 }),
  browserMax: s('OWL_BROWSER_MAX', 'int', 'Browsers running at most per worker process.', { min: 0, max: 64 }),
  browserPagesPerBrowser: s('OWL_BROWSER_PAGES', 'int', 'Pages open at once per browser.', { min: 1, max: 64 }),
  browserRetireAfter: s('OWL_BROWSER_RETIRE_AFTER', 'int', 'Pages a browser renders before it is replaced.', { min: 1 }),
  browserNavigationTimeoutMs: s('OWL_BROWSER_NAV_TIMEOUT_MS', 'int', 'Navigation timeout in the browser.', { min: 100 }),
  maxContentBytes: s('OWL_MAX_CONTENT_BYTES', 'int', 'Largest stored size of one content field of a page (markdown, text, html, links, data, items); what is cut is named in the page\'s `truncated`.', { min: 1024 }),
  contentRetentionDays: s('OWL_CONTENT_RETENTION_DAYS', 'int', 'Page content older than this many days is removed (the page rows stay); 0 keeps it for good.', { min: 0 }),
  browserIdleCloseMs: s('OWL_BROWSER_IDLE_MS', 'int', 'A browser with nothing to render for this long is closed (an idle service holds no Chromium).', { min: 100 }),
  chromiumPath: s('OWL_CHROMIUM_PATH', 'string', 'Chromium executable (Debian: /usr/bin/chromium).'),
  screenshotDir: s('OWL_SCREENSHOT_DIR', 'string', 'Where screenshots of blocked pages go when a job asks for them.'),
  consoleDir: s('OWL_CONSOLE_DIR', 'string', "The built web console `owl serve` serves at / (`npm run build:console` writes it); unset: dist/console of this installation."),
  grafanaUrl: s('OWL_GRAFANA_URL', 'string', "Grafana's base URL (e.g. http://localhost:3000): the console's Sites view links to the dashboards there; unset shows no links."),
  minScheduleIntervalMs: s('OWL_MIN_SCHEDULE_INTERVAL_MS', 'int', 'Shortest gap between two runs of a schedule its cron pattern may ask for (a shorter one is a 400).', { min: 1000 }),
  schedulerTickMs: s('OWL_SCHEDULER_TICK_MS', 'int', 'How often each process looks for due schedules and runs whose job ended.', { min: 100, max: 60_000 }),
  revisitMinIntervalMs: s('OWL_REVISIT_MIN_INTERVAL_MS', 'int', 'Adaptive re-visits: the interval of a new or changed URL, and the shortest one.', { min: 0 }),
  revisitMaxIntervalMs: s('OWL_REVISIT_MAX_INTERVAL_MS', 'int', 'Adaptive re-visits: the longest interval an unchanged URL grows to.', { min: 0 }),
  auth: s('OWL_AUTH', 'enum', '`required`: every API route but /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <key>`; `off` is accepted only when OWL_HOST is a loopback address.', { values: ['required', 'off'] }),
  auditRetentionDays: s('OWL_AUDIT_RETENTION_DAYS', 'int', 'Audit entries older than this many days are removed; 0 keeps them for good.', { min: 0 }),
  bootstrapKeyFile: s('OWL_BOOTSTRAP_KEY_FILE', 'string', 'A file holding an API key (`owl_…`, e.g. a compose secret): at start it becomes an admin key named `bootstrap` unless a key with that secret exists.'),
  metricsTokenFile: s('OWL_METRICS_TOKEN_FILE', 'string', "A file holding a token: the /metrics of `owl serve` and of every `owl worker` then answer only `Authorization: Bearer <token>` (give Prometheus the same file)."),
  webhookTimeoutMs: s('OWL_WEBHOOK_TIMEOUT_MS', 'int', 'Longest a webhook delivery attempt may take (connect, answer and body); past it the attempt failed with `timeout`.', { min: 100, max: 120_000 }),
  webhookMaxResponseBytes: s('OWL_WEBHOOK_MAX_RESPONSE_BYTES', 'int', "Bytes of a webhook receiver's answer read at most; the rest is not read (the connection is closed).", { min: 0, max: 1_048_576 }),
  webhookRetrySchedule: s('OWL_WEBHOOK_RETRY_SCHEDULE', 'list', 'Waits in ms after the 1st, 2nd, … failed attempt of a webhook delivery, comma-separated; the last one repeats.'),
  webhookRetryForMs: s('OWL_WEBHOOK_RETRY_FOR_MS', 'int', 'How long a delivery is retried: the first attempt that fails this long after the event was published is the last (the delivery is then `failed`).', { min: 0 }),
  webhookRetentionDays: s('OWL_WEBHOOK_RETENTION_DAYS', 'int', 'Delivered and given-up webhook deliveries are removed this many days after they finished (pending ones never); 0 keeps them for good.', { min: 0 }),
  webhookPollMs: s('OWL_WEBHOOK_POLL_MS', 'int', 'How often an idle webhook sender looks for due deliveries in the outbox.', { min: 10, max: 60_000 }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<'int'> ? number : S extends Setting<'bool'> ? boolean : S extends Setting<'list'> ? string[] : string;

export type Config = { readonly [K in SettingKey]: K extends 'databaseUrl' | 'proxyFile' | 'grafanaUrl' | 'consoleDir' | 'bootstrapKeyFile' | 'metricsTokenFile' ? string | undefined : ValueOf<(typeof SETTINGS)[K]> };

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8000,
  metricsPort: 9000,
  databaseUrl: undefined,
  dataDir: './data',
  inProcessWorkers: false,
  concurrency: 16,
  leaseMs: 60_000,
  perHostConcurrency: 4,
  hostDelayMs: 250,
  userAgent: 'sparkling-owl-spin/0.1 (+https://github.com/sparkling-owl-spin)',
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 20_000,
  maxBodyBytes: 5 * 1024 * 1024,
  maxRedirects: 5,
  maxAttempts: 4,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  respectRobots: true,
  allowPrivateTargets: false,
  maxSites: 500,
  proxies: [],
  proxyFile: undefined,
  proxyCooldownMs: 30_000,
  logLevel: 'info',
  maxBodyRequestBytes: 64 * 1024,
  browserMax: 2,
  browserPagesPerBrowser: 4,
  browserRetireAfter: 200,
  browserNavigationTimeoutMs: 20_000,
  browserIdleCloseMs: 60_000,
  maxContentBytes: 2 * 1024 * 1024,
  contentRetentionDays: 0,
  chromiumPath: '/usr/bin/chromium',
  screenshotDir: './data/screenshots',
  consoleDir: undefined,
  grafanaUrl: undefined,
  minScheduleIntervalMs: 60_000,
  schedulerTickMs: 1_000,
  revisitMinIntervalMs: 3_600_000,
  revisitMaxIntervalMs: 7 * 24 * 3_600_000,
  auth: 'required',
  auditRetentionDays: 90,
  bootstrapKeyFile: undefined,
  metricsTokenFile: undefined,
  webhookTimeoutMs: 10_000,
  webhookMaxResponseBytes: 64 * 1024,
  // 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then every 8 h: the 12th attempt comes about 31 h after the event (≥ 24 h).
  webhookRetrySchedule: ['5000', '30000', '120000', '600000', '1800000', '3600000', '7200000', '14400000', '28800000'],
  webhookRetryForMs: 24 * 60 * 60 * 1000,
  webhookRetentionDays: 30,
  webhookPollMs: 1_000,
};
