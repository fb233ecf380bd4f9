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
  perHostConcurrency: s('OWL_PER_HOST_CONCURRENCY', 'int', 'Fetches in flight per host, across all workers.', { min: 1, max: 1024 }),
  hostDelayMs: s('OWL_HOST_DELAY_MS', 'int', 'Minimum gap between two requests to one host (robots crawl-delay may raise it).', { min: 0 }),
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
  chromiumPath: s('OWL_CHROMIUM_PATH', 'string', 'Chromium executable (Debian: /usr/bin/chromium).'),
  screenshotDir: s('OWL_SCREENSHOT_DIR', 'string', 'Where screenshots of blocked pages go when a job asks for them.'),
} as const;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<'int'> ? number : S extends Setting<'bool'> ? boolean : S extends Setting<'list'> ? string[] : string;

export type Config = { readonly [K in SettingKey]: K extends 'databaseUrl' | 'proxyFile' ? string | undefined : ValueOf<(typeof SETTINGS)[K]> };

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
  chromiumPath: '/usr/bin/chromium',
  screenshotDir: './data/screenshots',
};
