/**
 * The whole monitoring path, live: `owl serve` and the real Debian binaries (Prometheus,
 * Alertmanager, node/postgres/redis/blackbox exporters) on loopback ports picked at run time,
 * scraping and evaluating every second, with Alertmanager delivering to a webhook this test runs.
 *
 * Rules: the committed files, with `for:` shortened to 0s for the alerts driven here (see
 * FOR_OVERRIDES); expressions are untouched. The spike alerts look back 5 minutes
 * (`increase(...[5m])`), so after their cause stops, the test deletes the history of those
 * counters through Prometheus's TSDB admin API instead of waiting 5 minutes for it to age out.
 *
 * Processes: `api` is the service under test (embedded store). Two more `owl serve` instances stand
 * in for workers in the `workers` job (file_sd): `worker-proxy` has three dead proxies (ProxyPoolLow)
 * and `worker-spare` is killed for WorkerDown. A fourth, `api-pg`, is a second `api` target on
 * PostgreSQL (its own database, owl_f2_live_test). PostgreSQL is reached by postgres_exporter and
 * `api-pg` through two relays (one each) the test cuts: PostgresDown fires, and `api-pg` answers 503
 * while its store is gone, which drives APIHighErrorRate. The shared server is never stopped.
 * Later `api-pg`'s relay delays every reply from PostgreSQL, so requests that read the store take
 * over a second: APIHighLatency. A fifth, `worker-stalled` (workers job), stays idle until the last
 * test gives it a job whose pages never answer: CrawlStalled.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDashboards } from '../../monitoring/grafana/src/build.ts';
import { exporterOf } from '../../monitoring/grafana/src/exporter-metrics.ts';
import { metricNames } from '../../monitoring/grafana/src/promql.ts';
import { MONITORING_DIR, REPO_ROOT, alertmanagerSecretNames, nativeAlertmanagerConfig, nativePrometheusConfig, type NativePorts } from '../../scripts/monitor/native-config.ts';
import { fetchTargets, report } from '../../scripts/monitor/doctor.ts';
import { monitoringProcesses } from '../../scripts/monitor/native-stack.ts';
import { startDemoSite, type DemoSite } from '../../src/demo/demo-site.ts';
import { demoSchedule, disableSchedule, failJob, mixedJobs, submitJob, submitSchedule, tripJobs } from '../../src/demo/driver.ts';
import pg from 'pg';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { GiveUp, Managed, PrometheusClient, Relay, WebhookReceiver, answers, copyRules, freePort, sleep, waitFor } from './harness.ts';

/** Alerts driven here, with the `for:` they get in the test copy of the rules. */
const FOR_OVERRIDES: Record<string, string> = {
  TargetDown: '0s',
  WorkerDown: '0s',
  PostgresDown: '0s',
  ProxyPoolLow: '0s',
  APIHighErrorRate: '0s',
  APIHighLatency: '0s',
  // Not 0s: right after a job is submitted, URLs are queued before any fetch shows up in two
  // scrapes (increase() needs two samples), and the healthy check must not catch that moment.
  CrawlStalled: '20s',
};

/** The database `api-pg` uses (dropped and created at the start of each run; nothing else touches it). */
const LIVE_DATABASE = 'owl_f2_live_test';

/**
 * Scrape and evaluation interval. Not 1s: postgres_exporter 0.11 takes about 1 s to answer while
 * its database is unreachable, so a 1 s scrape timeout would turn PostgresDown into a DOWN exporter.
 */
const SCRAPE_INTERVAL = '2s';

/** Dashboards whose exporter cannot run here, with the reason. */
const EXEMPT_EXPORTERS: Record<string, string> = {
  cadvisor: 'cAdvisor needs a container runtime (Docker); none exists on this host',
};

/** The owl entry point; LIVE_OWL_BIN runs the test against another build (default bin/owl.js). */
const OWL = process.env.LIVE_OWL_BIN ?? join(REPO_ROOT, 'bin', 'owl.js');

describe('live monitoring stack', { timeout: 240_000 }, () => {
  let dir = '';
  let site: DemoSite;
  /** postgres_exporter's way to PostgreSQL. */
  let relay: Relay;
  /** `api-pg`'s way to PostgreSQL (its own, so a delay slows the API and not the exporter's scrapes). */
  let apiPgRelay: Relay;
  let hangSite: FixtureSite;
  let workerStalledUrl = '';
  let webhook: WebhookReceiver;
  let prom: PrometheusClient;
  let ports: NativePorts;
  let apiUrl = '';
  let workerProxyUrl = '';
  let apiPgUrl = '';
  const processes = new Map<string, Managed>();
  /** When the stack had settled (every target up, start-up alerts resolved); the healthy check counts from here. */
  let settledAt = 0;

  const proc = (name: string): Managed => {
    const p = processes.get(name);
    assert.ok(p, `no process ${name}`);
    return p;
  };

  function owlServe(name: string, port: number, env: Record<string, string> = {}): Managed {
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    return new Managed(
      {
        name,
        command: process.execPath,
        args: [OWL, 'serve', '--port', String(port)],
        env: {
          // Auth off on purpose: this server listens on 127.0.0.1 only.
          OWL_AUTH: 'off',
          OWL_DATA_DIR: dataDir,
          OWL_ALLOW_PRIVATE_TARGETS: 'true',
          OWL_HOST_DELAY_MS: '0',
          OWL_LOG_LEVEL: 'warn',
          OWL_MAX_ATTEMPTS: '2',
          OWL_RETRY_BASE_MS: '200',
          OWL_RETRY_MAX_MS: '1000',
          ...env,
        },
      },
      dir,
    );
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'owl-live-monitoring-'));
    site = await startDemoSite({ slowMs: 300 });
    relay = new Relay(5432);
    await relay.start();
    apiPgRelay = new Relay(5432);
    await apiPgRelay.start();
    hangSite = await startFixtureSite();
    webhook = new WebhookReceiver();
    await webhook.start();

    ports = {
      prometheus: await freePort(),
      alertmanager: await freePort(),
      api: await freePort(),
      node: await freePort(),
      postgresExporter: await freePort(),
      redisExporter: await freePort(),
      blackbox: await freePort(),
      postgres: 5432,
      redis: 6379,
    };
    const apiPgPort = await freePort();
    apiPgUrl = `http://127.0.0.1:${apiPgPort}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    try {
      // Made afresh each run: a schema left by another checkout (a branch with more migrations) must not decide this one.
      await admin.query(`DROP DATABASE IF EXISTS ${LIVE_DATABASE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${LIVE_DATABASE}`);
    } finally {
      await admin.end();
    }
    const workerProxyPort = await freePort();
    const workerSparePort = await freePort();
    const workerStalledPort = await freePort();
    workerStalledUrl = `http://127.0.0.1:${workerStalledPort}`;
    const deadProxies = await Promise.all([freePort(), freePort(), freePort()]);
    apiUrl = `http://127.0.0.1:${ports.api}`;
    workerProxyUrl = `http://127.0.0.1:${workerProxyPort}`;

    const rulesDir = join(dir, 'rules');
    await copyRules(join(MONITORING_DIR, 'prometheus', 'rules'), rulesDir, FOR_OVERRIDES);
    const workersFile = join(dir, 'workers.json');
    writeFileSync(workersFile, JSON.stringify([{ targets: [`127.0.0.1:${workerProxyPort}`, `127.0.0.1:${workerSparePort}`, `127.0.0.1:${workerStalledPort}`] }]));
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir);
    for (const name of alertmanagerSecretNames()) writeFileSync(join(secretsDir, name), 'https://example.invalid/unused\n');
    const paths = { prometheusConfig: join(dir, 'prometheus.yml'), alertmanagerConfig: join(dir, 'alertmanager.yml'), dataDir: dir };
    writeFileSync(paths.prometheusConfig, nativePrometheusConfig({ ports, workersFile, interval: SCRAPE_INTERVAL, externalLabels: { env: 'test' }, rulesDir, extraTargets: { api: [`127.0.0.1:${apiPgPort}`] } }));
    writeFileSync(
      paths.alertmanagerConfig,
      nativeAlertmanagerConfig({ secretsDir, webhookUrl: webhook.url, timings: { group_wait: '0s', group_interval: '1s', repeat_interval: '1h' } }),
    );

    // A schedule every 2 s (the demo's) shows 304s and page changes within the test.
    processes.set('api', owlServe('api', ports.api, { OWL_MIN_SCHEDULE_INTERVAL_MS: '1000' }));
    processes.set('worker-proxy', owlServe('worker-proxy', workerProxyPort, {
      OWL_PROXIES: deadProxies.map((p) => `http://127.0.0.1:${p}`).join(','),
      OWL_PROXY_COOLDOWN_MS: '2000',
    }));
    processes.set('worker-spare', owlServe('worker-spare', workerSparePort));
    processes.set('api-pg', owlServe('api-pg', apiPgPort, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${apiPgRelay.port}/${LIVE_DATABASE}`,
      OWL_IN_PROCESS_WORKERS: 'false',
    }));
    // A fetch waits for headers far longer than the test runs; one page at a time keeps the rest queued.
    processes.set('worker-stalled', owlServe('worker-stalled', workerStalledPort, {
      OWL_HEADERS_TIMEOUT_MS: '600000',
      OWL_LEASE_MS: '600000',
      OWL_PER_HOST_CONCURRENCY: '1',
    }));
    const stack = monitoringProcesses({
      ports,
      paths,
      adminApi: true,
      // Alerts that fire before Prometheus has discovered Alertmanager are otherwise re-sent only after 1m.
      alertResendDelay: '1s',
      postgresDsn: `postgresql://postgres@127.0.0.1:${relay.port}/postgres?sslmode=disable`,
    });
    for (const spec of stack) processes.set(spec.name, new Managed(spec, dir));
    for (const p of processes.values()) p.start();

    prom = new PrometheusClient(`http://127.0.0.1:${ports.prometheus}`);
    for (const [name, url] of [
      ['api', `${apiUrl}/healthz`],
      ['worker-proxy', `${workerProxyUrl}/healthz`],
      ['worker-spare', `http://127.0.0.1:${workerSparePort}/healthz`],
      ['worker-stalled', `${workerStalledUrl}/healthz`],
      ['api-pg', `${apiPgUrl}/readyz`],
      ['prometheus', `${prom.baseUrl}/-/ready`],
      ['alertmanager', `http://127.0.0.1:${ports.alertmanager}/-/ready`],
    ] as const) {
      const p = proc(name);
      await waitFor(`${name} to answer (log: ${p.logFile})`, async () => {
        if (!p.running) throw new GiveUp(`${name} exited (log: ${p.logFile})`);
        return answers(url);
      }, 45_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${p.tail()}`);
      });
    }
  }, { timeout: 120_000 });

  after(async () => {
    await Promise.all([...processes.values()].map((p) => p.stop()));
    await Promise.all([site?.close(), hangSite?.close(), relay?.cut(), apiPgRelay?.cut(), webhook?.close()]);
    if (dir && !process.env.LIVE_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every target UP', async () => {
    const targets = await waitFor('every target up', async () => {
      const ts = await prom.targets();
      return ts.length >= 9 && ts.every((t) => t.health === 'up') ? ts : false;
    }, 45_000).catch(async (err: Error) => {
      const ts = await prom.targets();
      throw new Error(`${err.message}\n${ts.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join('\n')}`);
    });
    // The doctor also judges the probes (probe_success), which may still record a probe from before the API listened.
    await waitFor('the doctor (make monitor-check) to call everything healthy', async () => report(await fetchTargets(prom.baseUrl)).healthy, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${report(await fetchTargets(prom.baseUrl)).lines.join('\n')}`);
    });
    const jobs = new Set(targets.map((t) => t.labels.job));
    for (const job of ['prometheus', 'alertmanager', 'api', 'workers', 'node', 'postgres', 'redis', 'blackbox-http', 'blackbox-tcp']) {
      assert.ok(jobs.has(job), `no target of job ${job}`);
    }
    // Targets scraped before their process listened were DOWN for a moment; let those alerts resolve.
    await waitFor('start-up alerts to resolve', async () => (await prom.firingAlerts()).join() === 'Watchdog', 30_000);
    settledAt = Date.now();
  });

  it('healthy demo traffic fires no alert but Watchdog, and Watchdog reaches the webhook', async () => {
    for (const job of mixedJobs(site.url)) await submitJob(apiUrl, job);
    const { id } = await submitJob(apiUrl, { seeds: [`${site.url}/page/0`], maxPages: 1, source: 'demo-failed' });
    assert.equal(await failJob(apiUrl, id, 'demo_operator'), 200);
    // The demo's schedule, every 2 s: from its second run on the pages are answered 304.
    const scheduleId = await submitSchedule(apiUrl, demoSchedule(site.url, '*/2 * * * * *'));
    await waitFor('a re-crawl answered 304 in Prometheus', async () => (await prom.query('sum(pages_not_modified_total) > 0')).length > 0, 30_000);
    assert.equal(await disableSchedule(apiUrl, scheduleId), 200);
    await waitFor('Watchdog at the webhook', () => webhook.find('Watchdog', 'firing'), 30_000);
    // Let the traffic be scraped and the rules evaluated several times.
    await sleep(8_000);
    assert.deepEqual(await prom.firingAlerts(), ['Watchdog']);
    assert.deepEqual([...webhook.firingNames(settledAt)].filter((n) => n !== 'Watchdog'), [], 'notifications besides Watchdog');
  });

  it('every dashboard panel query returns data (cAdvisor panels exempt)', async () => {
    const empty: string[] = [];
    let checked = 0;
    for (const [file, d] of buildDashboards()) {
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          const exporters = [...metricNames(t.expr)].map(exporterOf);
          if (exporters.some((e) => e !== undefined && e in EXEMPT_EXPORTERS)) continue;
          const expr = t.expr.replaceAll('$__rate_interval', '15s').replaceAll('$__range', '5m');
          const result = await prom.queryRange(expr, 60);
          checked++;
          if (result.length === 0) empty.push(`${file} "${p.title}" ${t.refId}: ${t.expr}`);
        }
      }
    }
    assert.ok(checked > 80, `only ${checked} queries checked`);
    assert.deepEqual(empty, [], 'panel queries without data');
  });

  it('drives each alert through Alertmanager to the webhook, then resolves it when the cause goes', async () => {
    const since = Date.now();
    const fired = (alert: string, match: Record<string, string> = {}) =>
      waitFor(`${alert} firing at the webhook`, () => webhook.find(alert, 'firing', since, match), 60_000);
    const resolved = (alert: string, match: Record<string, string> = {}) =>
      waitFor(`${alert} resolved at the webhook`, () => webhook.find(alert, 'resolved', since, match), 60_000);

    const crawlSpikes = async () => {
      const jobs = [
        ...tripJobs(site.url, 'Worker429Spike', 100),
        ...tripJobs(site.url, 'Worker403Spike', 100),
        ...tripJobs(site.url, 'CaptchaSpike', 100),
      ];
      const ids: string[] = [];
      for (const job of jobs) ids.push((await submitJob(apiUrl, job)).id);
      await Promise.all([fired('Worker429Spike'), fired('Worker403Spike'), fired('CaptchaSpike')]);
      await waitFor('trip jobs to finish', async () => {
        const states = await Promise.all(ids.map(async (id) => ((await (await fetch(`${apiUrl}/jobs/${id}`)).json()) as { status: string }).status));
        return states.every((s) => ['done', 'failed', 'cancelled'].includes(s));
      }, 60_000, 500);
      await sleep(2_000);
      await prom.deleteSeries('{__name__=~"http_429_total|http_403_total|captcha_encountered_total"}');
      await Promise.all([resolved('Worker429Spike'), resolved('Worker403Spike'), resolved('CaptchaSpike')]);
    };

    const proxyPool = async () => {
      await submitJob(workerProxyUrl, { seeds: [`${site.url}/page/0`, `${site.url}/page/1`, `${site.url}/page/2`], maxPages: 3, maxDepth: 0, source: 'trip-proxy' });
      await fired('ProxyPoolLow');
      // The job gives up after its attempts; the proxies' cooldowns then run out and the pool refills.
      await resolved('ProxyPoolLow');
    };

    // The database goes away: the exporter reports pg_up 0, and the PostgreSQL-backed API answers 503.
    const postgres = async () => {
      await Promise.all([relay.cut(), apiPgRelay.cut()]);
      let stop = false;
      const hammer = (async () => {
        for (let i = 0; i < 3000 && !stop; i++) {
          await Promise.all(Array.from({ length: 10 }, () => fetch(`${apiPgUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.arrayBuffer(), () => undefined)));
        }
      })();
      try {
        await Promise.all([fired('PostgresDown'), fired('APIHighErrorRate')]);
      } finally {
        stop = true;
        await hammer;
      }
      await Promise.all([relay.start(), apiPgRelay.start()]);
      await waitFor('api-pg ready again', () => answers(`${apiPgUrl}/readyz`), 30_000);
      // The rule looks back 5 minutes; drop the 5xx history rather than wait for it to age out.
      await prom.deleteSeries('http_requests_total{status_code=~"5.."}');
      await Promise.all([resolved('PostgresDown'), resolved('APIHighErrorRate')]);
    };

    const worker = async () => {
      await proc('worker-spare').stop();
      await fired('WorkerDown');
      proc('worker-spare').start();
      await resolved('WorkerDown');
    };

    const target = async () => {
      await proc('redis-exporter').stop();
      await fired('TargetDown', { job: 'redis' });
      // The doctor (make monitor-check) names the cause of this DOWN target.
      const { lines, healthy } = report(await fetchTargets(prom.baseUrl));
      assert.equal(healthy, false);
      const at = lines.findIndex((l) => /^DOWN\s+redis\b/.test(l));
      assert.ok(at >= 0, lines.join('\n'));
      assert.ok(lines.slice(at, at + 4).some((l) => l.includes('cause:  nothing listens there')), lines.join('\n'));
      proc('redis-exporter').start();
      await resolved('TargetDown', { job: 'redis' });
    };

    const outcomes = await Promise.allSettled([crawlSpikes(), proxyPool(), postgres(), worker(), target()]);
    const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`scenario ${i}: ${(o.reason as Error).message}`] : []));
    assert.deepEqual(failures, []);
  });

  it('drives APIHighLatency with a slow database behind the API, then resolves it', async () => {
    const since = Date.now();
    // The last 5 minutes of fast requests would hold p95 down; start the window afresh.
    await prom.deleteSeries('{__name__=~"api_request_latency_seconds_.*"}');
    apiPgRelay.delayMs = 1100;
    let stop = false;
    // Four at a time: api-pg's pool (10) keeps connections free for its /metrics, which reads
    // queue_depth from the store too and must answer within the 2 s scrape timeout.
    const slowLoop = async () => {
      for (let i = 0; i < 200 && !stop; i++) {
        await fetch(`${apiPgUrl}/jobs?limit=1`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.arrayBuffer(), () => undefined);
      }
    };
    const loops = Promise.all(Array.from({ length: 4 }, slowLoop));
    try {
      await waitFor('APIHighLatency firing at the webhook', () => webhook.find('APIHighLatency', 'firing', since, { job: 'api' }), 60_000);
    } finally {
      stop = true;
      apiPgRelay.delayMs = 0;
      await loops;
    }
    await prom.deleteSeries('{__name__=~"api_request_latency_seconds_.*"}');
    await waitFor('APIHighLatency resolved at the webhook', () => webhook.find('APIHighLatency', 'resolved', since, { job: 'api' }), 60_000);
  });

  // Last: CrawlStalled counts the progress of every crawler together, so it needs all other
  // crawling finished and the history of pages_fetched_total/pages_failed_total deleted.
  it('drives CrawlStalled with pages that never answer, then resolves it when the job is cancelled', async () => {
    const since = Date.now();
    const value = async (expr: string) => Number((await prom.query(expr))[0]?.value?.[1] ?? 'NaN');
    const stalledInstance = new URL(workerStalledUrl).host;
    // Every job of the earlier tests finished: queue_depth alone leaves out pages in flight, and one
    // of those finishing after the deletion below is progress that keeps CrawlStalled quiet for 10m.
    await waitFor('no job queued or running anywhere', async () => (await value('sum(jobs_in_queue{job=~"api|workers"})')) === 0, 60_000, 500).catch(async (err: Error) => {
      const live = await prom.query('jobs_in_queue{job=~"api|workers"} > 0');
      const names = new Map([apiUrl, apiPgUrl, workerProxyUrl, workerStalledUrl].map((u, i) => [new URL(u).host, ['api', 'api-pg', 'worker-proxy', 'worker-stalled'][i]]));
      throw new Error(`${err.message}: ${live.map((s) => `${names.get(s.metric.instance) ?? s.metric.instance} ${s.value?.[1]}`).join(', ')}`);
    });
    const seeds = Array.from({ length: 5 }, (_, i) => `${hangSite.url}/hang?n=${i}`);
    const { id } = await submitJob(workerStalledUrl, { seeds, maxPages: 5, maxDepth: 0, source: 'trip-stalled' });
    await waitFor('worker-stalled queue_depth > 0', async () => (await value(`max(queue_depth{instance="${stalledInstance}"})`)) > 0, 30_000, 500);
    const progress = '{__name__=~"pages_fetched_total|pages_failed_total|pages_not_modified_total"}';
    await prom.deleteSeries(progress);
    let moving: string[] = [];
    await waitFor('CrawlStalled firing at the webhook', async () => {
      if (webhook.find('CrawlStalled', 'firing', since)) return true;
      const series = await prom.query(`sum by (instance) (increase(${progress.slice(0, -1)},job=~"api|workers"}[10m])) > 0`);
      moving = series.map((s) => `${s.metric.instance} ${s.value?.[1]}`);
      assert.ok(!series.some((s) => s.metric.instance === stalledInstance), 'worker-stalled finished a page that never answers');
      return false;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; progress seen after the deletion: ${moving.join(', ') || 'none'}`);
    });
    const res = await fetch(`${workerStalledUrl}/jobs/${id}/cancel`, { method: 'POST' });
    assert.equal(res.status, 200, await res.text());
    await waitFor('CrawlStalled resolved at the webhook', () => webhook.find('CrawlStalled', 'resolved', since), 60_000);
  });
});
