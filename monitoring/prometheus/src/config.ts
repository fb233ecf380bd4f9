/**
 * Every threshold, window and selector of the alerting and recording rules, in one place (the
 * monitoring-mixins `_config` pattern). The rule modules in ./groups/ build their PromQL and
 * texts from these values, and the Grafana builders take their thresholds from here too, so a
 * panel turns red where its alert fires. Each value says when to change it.
 *
 * After a change: `npm run rules` (or `make monitoring-gen`), adjust the promtool cases in
 * monitoring/prometheus/rules/tests/ that pinned the old value, `make test`, then
 * `make monitor-reload`.
 */

/** A Prometheus duration as the rules use them. */
export type Duration = `${number}${'s' | 'm' | 'h' | 'd'}`;

/** Where each alert's runbook lives; the anchor is the alert name in lower case. */
export const RUNBOOK_BASE = 'https://github.com/sparkling-owl-spin/sparkling-owl-spin/blob/main/docs/runbooks.md';

/**
 * Label matchers (the inside of `{…}`) that pick each scrape job of prometheus.yml. Change one only
 * together with the job name there (test/monitoring/rules.test.ts checks that every job exists).
 */
export const selectors = {
  /** The API process (`owl serve`). Change only together with the job name in prometheus.yml. */
  api: 'job="api"',
  /**
   * Where crawl counters come from: `owl worker` replicas, or `owl serve` itself in the embedded
   * mode (SQLite), so both modes alert the same. Also the processes that own a store.
   */
  crawler: 'job=~"api|workers"',
  /** `owl worker` replicas (DNS discovery in compose, file_sd in the native stack). */
  workers: 'job="workers"',
  /** postgres_exporter, redis_exporter and node_exporter. */
  postgres: 'job="postgres"',
  redis: 'job="redis"',
  node: 'job="node"',
  /** Both blackbox jobs: the HTTP probe of /healthz and the TCP probes of PostgreSQL and Redis. */
  probes: 'job=~"blackbox-http|blackbox-tcp"',
  /** Prometheus and Alertmanager scraping themselves. */
  prometheus: 'job="prometheus"',
  alertmanager: 'job="alertmanager"',
} as const;

/**
 * The `reason` values of api_auth_failures_total that APIAuthFailureBurst counts: a wrong key.
 * Missing keys, missing scopes and revoked keys are a client's mistakes, not guesses.
 */
export const AUTH_GUESS_REASONS = 'unknown|malformed';

/**
 * Per alert: `for` (how long the condition must hold before it fires), `window` (the range of its
 * rate()/increase(): keep it at least 4 scrape intervals, 40 s at the 10 s scrapes, so a missed
 * scrape does not empty it; longer smooths more and resolves later) and its thresholds.
 */
export const alerts = {
  APIHighErrorRate: {
    /** Plan: 5 minutes. Shorter pages on a deploy's brief blip; the SLO burn alerts catch slow leaks. */
    for: '5m',
    window: '5m',
    /** Share of 5xx answers (plan: 10 %). Lower it when the API's clients retry poorly. */
    errorShare: 0.1,
    /**
     * Requests/s below which the share is noise (Prometheus' scrapes and the blackbox probe alone
     * make 0.2 req/s). Raise it for a busy public API.
     */
    minRequestRate: 0.5,
  },
  APIHighLatency: {
    /** Plan: 5 minutes. */
    for: '5m',
    window: '5m',
    /** Quantile watched (plan: p95). */
    quantile: 0.95,
    /**
     * Seconds. Job submission and status calls should answer in milliseconds; raise it only if a
     * route legitimately does heavy work inline.
     */
    seconds: 1,
    /** Requests/s needed before a percentile means anything. */
    minRequestRate: 0.1,
  },
  APIAuthFailureBurst: {
    /** At once: the window already smooths a client's few typos. */
    for: '0s',
    window: '5m',
    /**
     * Requests refused for an unknown or malformed key in the window, all API processes together.
     * A misconfigured client retrying with a stale key also trips it (the runbook tells them
     * apart); raise it for a large public API with many clients.
     */
    count: 30,
  },
  APIKeyRateLimited: {
    /** How long a key must have been refused in every window: a client that backs off never trips it. */
    for: '15m',
    window: '5m',
  },
  Worker429Spike: {
    /** At once: the 5-minute window already smooths single answers. */
    for: '0s',
    window: '5m',
    /**
     * 429 answers per site in the window, all workers together (plan: 10). Raise it for large
     * crawls of sites known to throttle, where the retry budget absorbs some 429s.
     */
    count: 10,
  },
  Worker403Spike: {
    /** As Worker429Spike. */
    for: '0s',
    window: '5m',
    /** 403 answers per site in the window (plan: 10). Same reasoning as Worker429Spike. */
    count: 10,
  },
  CaptchaSpike: {
    /** As Worker429Spike. */
    for: '0s',
    window: '5m',
    /**
     * Captcha/challenge pages per site in the window. Lower than the 403/429 limits: each captcha
     * is a page lost, and retrying rarely helps.
     */
    count: 5,
  },
  CrawlStalled: {
    /** After the window: a stall of 15 minutes in all. Raise it for crawls that wait on long Retry-After. */
    for: '5m',
    /** Without a finished page this long, the crawl counts as stalled. Raise it for very slow sites. */
    window: '10m',
    /**
     * URLs waiting before a stall matters. Raise it if a few URLs can legitimately wait for a long
     * robots.txt crawl-delay.
     */
    minQueueDepth: 0,
    /** Pages finished (fetched or given up) in the window that count as progress. */
    minProgress: 0,
  },
  WorkerDown: {
    /**
     * Scrapes of one worker fail this long (Docker DNS drops stopped replicas; a stopped worker
     * shows up as CrawlStalled instead).
     */
    for: '2m',
  },
  ProxyPoolLow: {
    /** Plan: 2 minutes. Raise it if proxies often cool down briefly in bursts. */
    for: '2m',
    /**
     * Usable proxies below which crawling degrades (plan: 5); with fewer configured, the rule
     * compares with the configured count instead.
     */
    minUsable: 5,
    /** Configured proxies needed for the alert to apply at all. */
    minConfigured: 0,
  },
  ExtractionFieldsMissing: {
    /** Long enough that a handful of odd pages (a 404 template, a sold-out product) does not page. */
    for: '10m',
    /** Window of the share; also the distance of the comparison below is `baseline`. */
    window: '15m',
    /** How far back "before" is: an hour ago the scraper ran on the old layout. Raise it for jobs that run rarely. */
    baseline: '1h',
    /**
     * Share of a site's extracted pages with a required field empty (0..1). Above it, and at least
     * `jump` higher than `baseline` ago, the pages changed under the rules. Lower both for rules
     * that should never miss; raise them for sites whose pages legitimately lack fields.
     */
    share: 0.5,
    jump: 0.3,
    /** Pages extracted per second on the site below which a share is noise (3 a minute). */
    minRate: 0.05,
  },
  ScheduleMissed: {
    /** Short: a schedule that watches a site wants its runs on time; a tick that failed once is no outage. */
    for: '1m',
    /** Missed runs (the runs counter's outcome="missed") counted over this window keep the alert up for as long. */
    window: '15m',
    /**
     * Seconds the earliest due run may wait to be claimed (the overdue gauge). Every process
     * ticks each second (OWL_SCHEDULER_TICK_MS), so a healthy value is below 2; raise it only with a slower tick.
     */
    overdueSeconds: 120,
  },
  StoreCommitFailing: {
    /** Short: while commits fail nothing settled is durable, and the crawl waits for the store. */
    for: '1m',
    window: '5m',
    /**
     * Failed commits in the window. A store that cannot commit fails every 5 s (the retry backoff's
     * cap), about 60 times in 5 minutes; one failure that the next attempt repairs is no outage.
     * Lower it to 0 to hear of every failed commit.
     */
    failures: 3,
  },
  WebhookDeliveryFailing: {
    /**
     * A webhook counts as failing once a delivery failed WEBHOOK_FAILING_ATTEMPTS (3) attempts in
     * a row, about 2.5 minutes into an outage of its receiver; with this `for`, the alert fires
     * after about 12 minutes of failures. Raise it for receivers known to go down for maintenance
     * (deliveries are retried for 24 hours, so nothing is lost meanwhile).
     */
    for: '10m',
    /** Failing webhooks tolerated (0: any). */
    maxFailing: 0,
  },
  TargetDown: {
    /** Keep it longer than the specific down alerts (2m), which inhibit it in Alertmanager. */
    for: '3m',
  },
  BlackboxProbeFailed: {
    /** A restart of the probed service takes seconds; raise it if a deploy keeps /healthz down longer. */
    for: '2m',
  },
  PostgresDown: {
    /** Plan: 2 minutes. A database restart takes seconds; 2 minutes is an outage. */
    for: '2m',
  },
  PostgresExporterDown: {
    /** Same as PostgresDown, so the two tell the exporter's and the database's outages apart at once. */
    for: '2m',
  },
  PostgresConnectionsSaturated: {
    /** Raise it if crawl bursts legitimately fill the pool for minutes. */
    for: '5m',
    /**
     * Share of max_connections in use. Lower it when a pooler (Supabase pooler, pgbouncer) sits
     * between many workers and the database.
     */
    connectionShare: 0.8,
  },
  RedisDown: {
    /** Redis is optional here (nothing of the crawl depends on it): raise it freely. */
    for: '2m',
  },
  NodeHighCPU: {
    /** Plan: 5 minutes. Raise it on hosts where long crawl bursts are normal. */
    for: '5m',
    window: '5m',
    /** Busy share of all CPUs (plan: 90 %). */
    busyShare: 0.9,
  },
  PrometheusConfigReloadFailed: {
    /** The old configuration keeps running, so there is time; shorten it if configs change often. */
    for: '5m',
  },
  PrometheusRuleEvaluationFailures: {
    /** Any failed evaluation counts; a rule that fails keeps failing, so 5 minutes loses nothing. */
    for: '5m',
    window: '5m',
  },
  AlertmanagerNotificationsFailing: {
    /** Any failed notification counts; raise it if a receiver's endpoint is known to flap. */
    for: '5m',
    window: '5m',
  },
  AlertmanagerConfigReloadFailed: {
    /** As PrometheusConfigReloadFailed. */
    for: '5m',
  },
} as const satisfies Record<string, { for: Duration; window?: Duration; [threshold: string]: number | Duration | undefined }>;

/**
 * The API's availability objective and its multiwindow, multi-burn-rate alerts (Google SRE
 * workbook, "Alerting on SLOs"). A burn rate of 1 spends the budget exactly over `period`.
 */
export const slo = {
  /** Share of API requests answered without 5xx. Change it only with the people who rely on the API. */
  objective: 0.995,
  /** The period the error budget is counted over (used in texts). */
  period: '30d',
  /** APIErrorBudgetBurnFast: 14.4x spends 2 % of a 30-day budget in one hour; pages (critical). */
  fast: { burnRate: 14.4, long: '1h', short: '5m', for: '2m' },
  /** APIErrorBudgetBurnSlow: 6x spends 5 % of a 30-day budget in six hours; a ticket (warning). */
  slow: { burnRate: 6, long: '6h', short: '30m', for: '15m' },
} as const satisfies {
  objective: number;
  period: Duration;
  fast: { burnRate: number; long: Duration; short: Duration; for: Duration };
  slow: { burnRate: number; long: Duration; short: Duration; for: Duration };
};

/** The rule-wide settings above, as one object (`config.selectors`, `config.alerts`, `config.slo`). */
export const config = { selectors, alerts, slo } as const;
