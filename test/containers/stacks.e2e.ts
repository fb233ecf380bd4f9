/**
 * The compose stacks for real (issue #15), under podman: `make up`, `make monitor-up`, every
 * Prometheus target UP, `make scale N=4`, a crawl through the published API port, WorkerDown
 * through the containerised Alertmanager to a receiver and back to resolved, `make
 * monitor-reload`, `make down` / `make monitor-down`, and the data volumes across a down/up.
 *
 * Run by `make test-containers` (mk/containers.mk), which installs podman, starts its service,
 * builds the offline images (scripts/containers/images.sh) and passes their names; the committed
 * compose files run unchanged apart from those variables. Not named *.test.ts: the ordinary
 * suite does not run it.
 *
 * The test talks to the stacks only through ports published on 127.0.0.1. Its own containers (a
 * fixture site, a notification receiver) join the stacks' podman networks; a firewall guard
 * (scripts/containers/podman.sh guard) keeps every container off anything else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { PrometheusClient, waitFor } from '../monitoring/harness.ts';
import { composeContainers, networkGateway, podman, ROOT, run, runOk, seconds } from './harness.ts';

const APP_PROJECT = 'owltest-app';
const MONITOR_PROJECT = 'owltest-monitoring';
const APP_NETWORK = 'sparkling-owl-spin';
const MONITOR_NETWORK = `${MONITOR_PROJECT}_monitoring`;
// grafana and cadvisor have no Debian package, so no offline stand-in: they are left out.
const MONITOR_SERVICES = ['prometheus', 'alertmanager', 'node-exporter', 'postgres-exporter', 'redis-exporter', 'blackbox-exporter'];
const API = 'http://127.0.0.1:8000';
const PROMETHEUS = 'http://127.0.0.1:9090';
const PUBLISHED = ['127.0.0.1:8000->8000/tcp', '127.0.0.1:9090->9090/tcp', '127.0.0.1:9093->9093/tcp', '127.0.0.1:9100->9100/tcp'];
const SITE = 'owltest-site';
const WEBHOOK = 'owltest-webhook';
const SITE_PAGES = 30;
const APP_FILE = path.join(ROOT, 'docker/docker-compose.yml');
const MONITOR_FILE = path.join(ROOT, 'docker/monitoring/docker-compose.monitoring.yml');
const SLACK_SECRET = path.join(ROOT, 'docker/monitoring/secrets/alertmanager_slack_api_url');
/** The API's first admin key, written by `make up` (OWL_BOOTSTRAP_KEY_FILE in the compose file). */
const BOOTSTRAP_KEY = path.join(ROOT, 'docker/secrets/owl_bootstrap_key');
/** The Authorization header of the bootstrap key (read once `make up` has written it). */
const withKey = (): Record<string, string> => ({ authorization: `Bearer ${readFileSync(BOOTSTRAP_KEY, 'utf8').trim()}` });
const OWL_IMAGE = process.env.OWL_IMAGE ?? 'sparkling-owl-spin:local';

const prometheus = new PrometheusClient(PROMETHEUS);
const timings: string[] = [];

function stackEnv(project: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    COMPOSE_PROJECT_NAME: project,
    // Redis and its exporter run under the `redis` profile of both files.
    COMPOSE_PROFILES: 'redis',
    // Jobs crawl the fixture site, a container on the project network (a private address).
    OWL_ALLOW_PRIVATE_TARGETS: 'true',
    MONITOR_SERVICES: MONITOR_SERVICES.join(' '),
  };
}

async function make(target: string, project: string, ...vars: string[]): Promise<string> {
  const start = Date.now();
  const output = await runOk('make', ['--no-print-directory', target, ...vars], { env: stackEnv(project), timeoutMs: 360_000 });
  timings.push(`make ${[target, ...vars].join(' ')}: ${seconds(start)} s`);
  return output;
}

/** `docker-compose … down -v` for a project, whatever state it is in (cleanup only). */
async function composeDownVolumes(project: string, file: string): Promise<void> {
  // The example's values do for `down` (the app file refuses to load without DATABASE_URL).
  const args = ['-p', project, '-f', file, ...(file === APP_FILE ? ['--env-file', path.join(ROOT, '.env.example')] : [])];
  const result = await run('docker-compose', [...args, '--profile', 'redis', 'down', '-v', '--remove-orphans', '--timeout', '5'], { timeoutMs: 120_000 });
  if (result.code !== 0) console.log(`# cleanup of ${project} failed (${result.code}):\n${result.output}`);
}

async function removeOwnContainers(): Promise<void> {
  await run('podman', ['rm', '--force', '--ignore', '--time', '2', SITE, WEBHOOK], { timeoutMs: 60_000 });
}

/** Runs a test server (test/containers/servers/NAME.ts) in the app image on `network`; resolves once it listens. */
async function startServerContainer(name: string, network: string, script: string, publish?: number): Promise<void> {
  await podman(
    'run', '--detach', '--name', name, '--network', network, '--label', 'owltest=1', '--no-healthcheck',
    ...(publish ? ['--publish', `127.0.0.1::${publish}`] : []),
    // Under /app, so the image's package.json ("type": "module") and node_modules (tsx) apply.
    '--volume', `${path.join(ROOT, 'test')}:/app/test:ro`, '--entrypoint', 'node', OWL_IMAGE,
    '--import', 'tsx', `test/containers/servers/${script}`,
  );
  // Each server prints one line when it listens.
  await waitFor(`${name} listening`, async () => /listening on|on :\d+/.test((await run('podman', ['logs', name])).output), 30_000, 500);
}

async function hostPort(container: string, port: number): Promise<number> {
  const out = await podman('port', container, String(port));
  const match = /127\.0\.0\.1:(\d+)/.exec(out);
  if (!match) throw new Error(`${container}:${port} is not published on 127.0.0.1: ${out}`);
  return Number(match[1]);
}

async function containerIp(id: string): Promise<string> {
  return (await podman('inspect', id, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')).trim();
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}
const byJob = (targets: Target[], job: string) => targets.filter((t) => t.labels.job === job);

async function scalar(expr: string, time?: number): Promise<number | undefined> {
  const url = new URL('/api/v1/query', PROMETHEUS);
  url.searchParams.set('query', expr);
  if (time !== undefined) url.searchParams.set('time', String(time));
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}

interface Delivery {
  path: string;
  at: number;
  body: { attachments?: { title?: string }[] } | string;
}
async function deliveries(port: number): Promise<Delivery[]> {
  const res = await fetch(`http://127.0.0.1:${port}/received`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as Delivery[];
}
const titles = (list: Delivery[]): string[] => list.flatMap((d) => (typeof d.body === 'string' ? [] : (d.body.attachments ?? []).map((a) => a.title ?? '')));

describe('the compose stacks under podman', { timeout: 900_000 }, () => {
  let healthchecks: ChildProcess | undefined;
  const createdFiles: string[] = [];
  let slackSecretBefore: string | undefined;
  let webhookPort = 0;
  let jobId = '';
  let pausedWorker = '';
  let volumesBefore = new Set<string>();
  // Set once the checks in before() passed: only then is the shared network the test's to remove.
  let ownsNetwork = false;

  before(async () => {
    assert.ok(process.env.DOCKER_HOST && process.env.CONTAINERS_CONF, 'run through `make test-containers` (it sets DOCKER_HOST and CONTAINERS_CONF)');
    // Leftovers of an interrupted run of this test; a stack of someone else's is left alone (and fails the checks below).
    await composeDownVolumes(APP_PROJECT, APP_FILE);
    await composeDownVolumes(MONITOR_PROJECT, MONITOR_FILE);
    await removeOwnContainers();
    const network = await run('podman', ['network', 'inspect', APP_NETWORK]);
    if (network.code === 0) {
      const users = await runOk('podman', ['ps', '--all', '--quiet', '--filter', `network=${APP_NETWORK}`]);
      assert.equal(users.trim(), '', `network ${APP_NETWORK} is in use by other containers (a stack is running?): stop it first`);
      await podman('network', 'rm', APP_NETWORK);
    }
    for (const port of [8000, 9090, 9093, 9100]) {
      const busy = await new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(true));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
      });
      assert.equal(busy, false, `127.0.0.1:${port} is in use: the stacks publish it (stop make run / monitor-native-up first)`);
    }

    ownsNetwork = true;

    // Anonymous volumes (the images' VOLUME folders) outlive `make down`; the ones made here are removed afterwards.
    volumesBefore = new Set((await podman('volume', 'ls', '--quiet')).split('\n').filter(Boolean));

    // Files `make up` / `make monitor-up` create are removed afterwards; the Slack URL secret is
    // pointed at the test's receiver and restored afterwards.
    for (const file of ['.env', 'docker/secrets/owl_bootstrap_key', ...['alertmanager_slack_api_url', 'alertmanager_smtp_password', 'grafana_admin_password', 'postgres_exporter_password'].map((s) => `docker/monitoring/secrets/${s}`)]) {
      if (!existsSync(path.join(ROOT, file))) createdFiles.push(path.join(ROOT, file));
    }
    slackSecretBefore = existsSync(SLACK_SECRET) ? readFileSync(SLACK_SECRET, 'utf8') : '';
    writeFileSync(SLACK_SECRET, `http://${WEBHOOK}:5001/slack\n`);

    // podman leaves healthchecks to systemd timers; without systemd this loop runs them, or
    // compose would wait forever for `condition: service_healthy`.
    // It ends with this process, should after() never run.
    healthchecks = spawn('sh', [path.join(ROOT, 'scripts/containers/healthchecks.sh'), '2', String(process.pid)], { stdio: 'ignore', detached: true });
  });

  after(async () => {
    if (healthchecks?.pid) process.kill(-healthchecks.pid, 'SIGTERM');
    if (pausedWorker) await run('podman', ['unpause', pausedWorker]);
    await removeOwnContainers();
    await composeDownVolumes(APP_PROJECT, APP_FILE);
    await composeDownVolumes(MONITOR_PROJECT, MONITOR_FILE);
    if (ownsNetwork) {
      await run('podman', ['network', 'rm', APP_NETWORK]);
      const made = (await podman('volume', 'ls', '--quiet')).split('\n').filter((v) => v && !volumesBefore.has(v));
      for (const volume of made) await run('podman', ['volume', 'rm', volume]);
    }
    // Undefined: before() stopped before touching the files.
    if (slackSecretBefore !== undefined) {
      if (createdFiles.includes(SLACK_SECRET)) rmSync(SLACK_SECRET, { force: true });
      else writeFileSync(SLACK_SECRET, slackSecretBefore);
    }
    for (const file of createdFiles) rmSync(file, { force: true });
    console.log(`# container test steps:\n${timings.map((t) => `#   ${t}`).join('\n')}`);
  });

  it('make up starts api, worker, postgres and redis; the API answers on 127.0.0.1:8000', async () => {
    await make('up', APP_PROJECT);
    await waitFor('the API on 127.0.0.1:8000', async () => (await fetch(`${API}/healthz`, { signal: AbortSignal.timeout(2000) })).ok, 90_000, 1000);
    const services = (await composeContainers(APP_PROJECT)).filter((c) => c.state === 'running').map((c) => c.service);
    assert.deepEqual(services.sort(), ['api', 'postgres', 'redis', 'worker']);
  });

  it('the image carries the web console its build stage made: / answers without a key, the API still needs one', async () => {
    const index = await fetch(`${API}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /^default-src 'none'/);
    const asset = /<script type="module" src="(\/assets\/[^"]+\.js)"><\/script>/.exec(await index.text());
    assert.ok(asset, 'index.html names its script');
    assert.equal((await fetch(`${API}${asset[1]}`)).status, 200);
    assert.equal((await fetch(`${API}/sites`)).status, 401);
  });

  it('make monitor-up starts Prometheus, Alertmanager and the exporters (grafana and cadvisor are not run)', async () => {
    await make('monitor-up', MONITOR_PROJECT);
    const running = (await composeContainers(MONITOR_PROJECT)).filter((c) => c.state === 'running').map((c) => c.service);
    assert.deepEqual(running.sort(), [...MONITOR_SERVICES].sort());
    await startServerContainer(WEBHOOK, MONITOR_NETWORK, 'webhook.ts', 5001);
    webhookPort = await hostPort(WEBHOOK, 5001);
    assert.deepEqual(await deliveries(webhookPort), []);
  });

  it('every target of every job is UP (cadvisor is not run), with pg_up 1, redis_up 1 and every probe succeeding', async () => {
    const start = Date.now();
    const jobs = ['prometheus', 'alertmanager', 'api', 'workers', 'node', 'postgres', 'redis', 'blackbox-http', 'blackbox-tcp'];
    const targets = await waitFor(
      'every target UP',
      async () => {
        const all = (await prometheus.targets()) as Target[];
        return jobs.every((job) => byJob(all, job).length > 0 && byJob(all, job).every((t) => t.health === 'up')) ? all : undefined;
      },
      120_000,
      2000,
    ).catch(async (err: Error) => {
      const all = (await prometheus.targets()) as Target[];
      throw new Error(`${err.message}\n${all.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join('\n')}`);
    });
    timings.push(`every target UP after monitor-up: ${seconds(start)} s`);
    assert.equal(byJob(targets, 'workers').length, 1);
    assert.deepEqual(byJob(targets, 'blackbox-tcp').length, 2, 'postgres:5432 and redis by DNS');
    const cadvisor = byJob(targets, 'cadvisor');
    assert.equal(cadvisor.length, 1);
    assert.match(cadvisor[0]!.lastError, /no such host/, 'cadvisor is the one target not run');
    assert.equal(targets.filter((t) => t.health !== 'up').length, 1, 'nothing but cadvisor is down');

    assert.equal(await waitFor('pg_up 1', async () => (await scalar('pg_up{job="postgres"}')) === 1, 30_000, 2000), true);
    assert.equal(await scalar('redis_up{job="redis"}'), 1);
    assert.equal(await scalar('min(probe_success{job=~"blackbox-.*"})'), 1);
  });

  // WorkerDown needs its target DOWN for 2 minutes: the worker that was there first is paused
  // right after the scale, and the steps below run while the alert is pending.
  it('make scale N=4: Prometheus discovers four workers by DNS without any file edited (the first one paused, DOWN)', async () => {
    const before = await runOk('git', ['status', '--porcelain', '--', 'monitoring', 'docker']);
    const [first] = (await composeContainers(APP_PROJECT)).filter((c) => c.service === 'worker');
    assert.ok(first);
    const pausedIp = await containerIp(first.id);
    await make('scale', APP_PROJECT, 'N=4');
    await podman('pause', first.id);
    pausedWorker = first.id;
    const start = Date.now();
    await waitFor(
      'four worker targets, three UP and the paused one DOWN',
      async () => {
        const workers = byJob((await prometheus.targets()) as Target[], 'workers');
        const down = workers.filter((t) => t.health === 'down').map((t) => t.labels.instance);
        return workers.length === 4 && down.length === 1 && down[0] === `${pausedIp}:9000`;
      },
      120_000,
      2000,
    );
    timings.push(`four workers discovered: ${seconds(start)} s`);
    assert.equal(await runOk('git', ['status', '--porcelain', '--', 'monitoring', 'docker']), before);
  });

  it('a stopped worker leaves DNS discovery, so WorkerDown cannot fire for it', async () => {
    const running = (await composeContainers(APP_PROJECT)).filter((c) => c.service === 'worker' && c.state === 'running' && c.id !== pausedWorker);
    assert.equal(running.length, 3);
    const stoppedIp = await containerIp(running[0]!.id);
    await podman('stop', '--time', '10', running[0]!.id);
    const start = Date.now();
    await waitFor(
      'three worker targets, the stopped one gone',
      async () => {
        const instances = byJob((await prometheus.targets()) as Target[], 'workers').map((t) => t.labels.instance);
        return instances.length === 3 && !instances.includes(`${stoppedIp}:9000`);
      },
      90_000,
      2000,
    );
    timings.push(`stopped worker gone from discovery: ${seconds(start)} s`);
  });

  it('a crawl job submitted through 127.0.0.1:8000 crawls a site in a container and moves pages_fetched_total', async () => {
    await startServerContainer(SITE, APP_NETWORK, 'site.ts');
    const before = (await scalar('sum(pages_fetched_total{job="workers"})')) ?? 0;
    const start = Date.now();
    // Without a key the API refuses (OWL_AUTH=required in the compose file); with the bootstrap key it answers.
    assert.equal((await fetch(`${API}/jobs`)).status, 401);
    const res = await fetch(`${API}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...withKey() },
      body: JSON.stringify({ seeds: [`http://${SITE}:8080/graph/0`], maxPages: 100, source: 'containers-test' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    jobId = ((await res.json()) as { id: string }).id;
    const job = await waitFor(
      'the job finished',
      async () => {
        const body = (await (await fetch(`${API}/jobs/${jobId}`, { headers: withKey() })).json()) as { status: string; counts: { fetched: number; failed: number } };
        return ['done', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      120_000,
      1000,
    );
    assert.deepEqual([job.status, job.counts.fetched, job.counts.failed], ['done', SITE_PAGES, 0], JSON.stringify(job));
    const after = await waitFor(
      'pages_fetched_total scraped',
      async () => {
        const v = (await scalar('sum(pages_fetched_total{job="workers"})')) ?? 0;
        return v - before >= SITE_PAGES ? v : undefined;
      },
      60_000,
      2000,
    );
    timings.push(`crawl of ${SITE_PAGES} pages, done and scraped: ${seconds(start)} s`);
    assert.ok(after - before >= SITE_PAGES);
  });

  it('published ports: 8000, 9090, 9093 and 9100, each on 127.0.0.1 only', async () => {
    const containers = [...(await composeContainers(APP_PROJECT)), ...(await composeContainers(MONITOR_PROJECT))];
    const ports = containers.flatMap((c) => c.ports);
    assert.deepEqual(ports.sort(), PUBLISHED);
  });

  it('containers reach each other and nothing else: the host on the network gateway refuses them', async () => {
    const gateway = await networkGateway(APP_NETWORK);
    // A listener of the test's own on the bridge address: without the guard a container reaches it.
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const probe = `const net=require('net');const t=(h,p)=>new Promise(r=>{const s=net.connect(p,h);s.setTimeout(5000,()=>{s.destroy();r('TIMEOUT')});s.on('connect',()=>{s.destroy();r('CONNECTED')});s.on('error',e=>r(e.code))});Promise.all([t('${SITE}',8080),t('${gateway}',${port})]).then(r=>console.log(r.join(' ')))`;
      const out = await podman('run', '--rm', '--network', APP_NETWORK, '--no-healthcheck', '--entrypoint', 'node', OWL_IMAGE, '-e', probe);
      assert.equal(out.trim(), 'CONNECTED ECONNREFUSED');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('make monitor-reload answers 200 and Prometheus reports a successful reload', async () => {
    const out = await make('monitor-reload', MONITOR_PROJECT);
    assert.match(out, /reloaded/);
    assert.equal(await scalar('prometheus_config_last_reload_successful'), 1);
  });

  it('WorkerDown (the paused worker) reaches a receiver through the containerised Alertmanager, and resolves', async () => {
    const start = Date.now();
    await waitFor('WorkerDown firing at the receiver', async () => titles(await deliveries(webhookPort)).some((t) => t.startsWith('[FIRING:1] WorkerDown (workers)')), 300_000, 3000);
    timings.push(`WorkerDown at the receiver, waited (the rule's for: 2m started at the pause): ${seconds(start)} s`);
    await podman('unpause', pausedWorker);
    pausedWorker = '';
    const resolvedStart = Date.now();
    await waitFor('WorkerDown resolved at the receiver', async () => titles(await deliveries(webhookPort)).some((t) => t.startsWith('[RESOLVED] WorkerDown (workers)')), 180_000, 3000);
    timings.push(`WorkerDown resolved at the receiver after the unpause: ${seconds(resolvedStart)} s`);
    const list = await deliveries(webhookPort);
    assert.ok(list.every((d) => d.path === '/slack'), 'delivered as Slack messages to the secret URL');
  });

  let sampleTime = 0;
  let sampleValue: number | undefined;

  it('make down and make monitor-down leave no containers; the named volumes stay', async () => {
    sampleTime = Math.floor(Date.now() / 1000) - 30;
    sampleValue = await scalar('sum(pages_fetched_total{job="workers"})', sampleTime);
    assert.ok(sampleValue !== undefined && sampleValue >= SITE_PAGES, 'a sample to look for after the restart');
    await removeOwnContainers();
    await make('down', APP_PROJECT);
    await make('monitor-down', MONITOR_PROJECT);
    assert.deepEqual(await composeContainers(APP_PROJECT), []);
    assert.deepEqual(await composeContainers(MONITOR_PROJECT), []);
    const volumes = (await podman('volume', 'ls', '--format', '{{.Name}}')).split('\n');
    for (const v of [`${APP_PROJECT}_postgres-data`, `${MONITOR_PROJECT}_prometheus-data`]) assert.ok(volumes.includes(v), `volume ${v} kept`);
  });

  it('after make monitor-up and make up the job is still in the database and Prometheus still has its samples', async () => {
    await make('monitor-up', MONITOR_PROJECT);
    await make('up', APP_PROJECT);
    await waitFor('the API again', async () => (await fetch(`${API}/healthz`, { signal: AbortSignal.timeout(2000) })).ok, 90_000, 1000);
    const job = (await (await fetch(`${API}/jobs/${jobId}`, { headers: withKey() })).json()) as { status: string; counts: { fetched: number } };
    assert.deepEqual([job.status, job.counts.fetched], ['done', SITE_PAGES]);
    const value = await waitFor('Prometheus ready', async () => scalar('sum(pages_fetched_total{job="workers"})', sampleTime), 60_000, 1000);
    assert.equal(value, sampleValue);
  });
});
