/**
 * Validates the monitoring configuration with the tools that will run it: promtool (config),
 * amtool (config, routing, templates), blackbox-exporter, docker-compose (no daemon needed),
 * yamllint; checks secrets against their examples and .gitignore; and runs the exporter role's
 * SQL and custom queries against the local PostgreSQL in a throwaway database of its own.
 * The rules have their own test (rules.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import pg from 'pg';

const ROOT = join(import.meta.dirname, '..', '..');
const MON = join(ROOT, 'monitoring');
const PROM = join(MON, 'prometheus');
const AM_CONFIG = join(MON, 'alertmanager', 'alertmanager.yml');
const COMPOSE_FILE = join(ROOT, 'docker', 'monitoring', 'docker-compose.monitoring.yml');
const SECRETS_DIR = join(ROOT, 'docker', 'monitoring', 'secrets');

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, input: options.input, encoding: 'utf8', timeout: 60_000 });
}

function assertOk(result: SpawnSyncReturns<string>, what: string): void {
  assert.equal(result.status, 0, `${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

function requireBinary(name: string): void {
  const found = run('sh', ['-c', `command -v ${name}`]);
  assert.equal(found.status, 0, `${name} is not installed: run make install-dev`);
}

function readYaml<T>(path: string): T {
  return parseYaml(readFileSync(path, 'utf8')) as T;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('Prometheus configuration', () => {
  before(() => requireBinary('promtool'));

  it('promtool check config accepts prometheus.yml and its rule files', () => {
    assertOk(run('promtool', ['check', 'config', join(PROM, 'prometheus.yml')]), 'promtool check config');
  });

  it('has the plan\'s jobs, workers by DNS discovery, and blackbox relabelling', () => {
    const config = readYaml<{ global: Record<string, unknown>; scrape_configs: Record<string, any>[] }>(join(PROM, 'prometheus.yml'));
    assert.deepEqual(
      { scrape: config.global.scrape_interval, evaluation: config.global.evaluation_interval, timeout: config.global.scrape_timeout },
      { scrape: '10s', evaluation: '10s', timeout: '9s' },
    );
    const jobs = new Map(config.scrape_configs.map((j) => [j.job_name as string, j]));
    for (const name of ['prometheus', 'alertmanager', 'api', 'workers', 'node', 'cadvisor', 'postgres', 'redis', 'blackbox-http', 'blackbox-tcp']) {
      assert.ok(jobs.has(name), `job ${name} missing`);
    }
    assert.deepEqual(jobs.get('workers')?.dns_sd_configs, [{ names: ['worker'], type: 'A', port: 9000, refresh_interval: '15s' }]);
    for (const name of ['blackbox-http', 'blackbox-tcp']) {
      const job = jobs.get(name);
      assert.ok(job);
      assert.equal(job.metrics_path, '/probe');
      assert.ok(job.relabel_configs.some((r: Record<string, string>) => r.target_label === '__address__' && r.replacement === 'blackbox-exporter:9115'));
    }
  });
});

describe('Alertmanager', () => {
  before(() => requireBinary('amtool'));

  it('amtool check-config accepts alertmanager.yml and its templates', () => {
    assertOk(run('amtool', ['check-config', AM_CONFIG]), 'amtool check-config');
  });

  it('keeps the plan\'s timings and takes every secret from a file', () => {
    const am = readYaml<{ global: Record<string, unknown>; route: Record<string, unknown> }>(AM_CONFIG);
    assert.equal(am.global.resolve_timeout, '2m');
    assert.deepEqual(am.route.group_by, ['alertname', 'job']);
    assert.deepEqual([am.route.group_wait, am.route.group_interval, am.route.repeat_interval], ['10s', '1m', '2h']);
    const text = readFileSync(AM_CONFIG, 'utf8');
    assert.doesNotMatch(text, /^\s*(smtp_auth_password|auth_password|api_url|slack_api_url):/m, 'inline secret');
    assert.match(text, /smtp_auth_password_file: \/run\/secrets\/alertmanager_smtp_password/);
    assert.match(text, /slack_api_url_file: \/run\/secrets\/alertmanager_slack_api_url/);
  });

  const routes: [string[], string][] = [
    [['alertname=PostgresDown', 'severity=critical'], 'critical'],
    [['alertname=Worker429Spike', 'severity=warning'], 'slack'],
    [['alertname=Watchdog', 'severity=none'], 'heartbeat'],
    [['alertname=APIHighErrorRate', 'severity=warning', 'env=test'], 'webhook'],
  ];
  for (const [labels, receiver] of routes) {
    it(`routes {${labels.join(', ')}} to ${receiver}`, () => {
      const result = run('amtool', ['config', 'routes', 'test', `--config.file=${AM_CONFIG}`, ...labels]);
      assertOk(result, 'amtool config routes test');
      assert.equal(result.stdout.trim(), receiver);
    });
  }

  it('renders every notification template', () => {
    const templates = join(MON, 'alertmanager', 'templates', '*.tmpl');
    for (const name of ['owl.email.subject', 'owl.email.text', 'owl.email.html', 'owl.slack.title', 'owl.slack.text']) {
      const result = run('amtool', ['template', 'render', `--template.glob=${templates}`, `--template.text={{ template "${name}" . }}`]);
      assertOk(result, `render ${name}`);
      assert.ok(result.stdout.trim().length > 0, `${name} rendered nothing`);
    }
  });
});

describe('Alertmanager inhibition (real alertmanager on loopback)', () => {
  const storage = mkdtempSync(join(tmpdir(), 'owl-am-'));
  let am: ChildProcess | undefined;
  let base = '';

  before(async () => {
    requireBinary('prometheus-alertmanager');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    am = spawn('prometheus-alertmanager', [`--config.file=${AM_CONFIG}`, `--storage.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await fetch(`${base}/-/ready`).then((r) => r.ok).catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('alertmanager did not become ready');
  });

  after(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((resolve) => am?.once('exit', resolve));
      am.kill('SIGTERM');
      await exited;
    }
    rmSync(storage, { recursive: true, force: true });
  });

  it('mutes the dependent alerts and nothing else', async () => {
    const alert = (labels: Record<string, string>) => ({ labels, annotations: { summary: 'test' } });
    const posted = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({ alertname: 'PostgresDown', job: 'postgres', instance: 'postgres-exporter:9187', severity: 'critical', component: 'postgres' }),
        alert({ alertname: 'PostgresConnectionsSaturated', instance: 'postgres-exporter:9187', severity: 'warning', component: 'postgres' }),
        alert({ alertname: 'TargetDown', job: 'api', instance: 'api:8000', severity: 'warning', component: 'monitoring' }),
        alert({ alertname: 'APIHighLatency', job: 'api', severity: 'warning', component: 'api' }),
        alert({ alertname: 'WorkerDown', job: 'workers', instance: '172.20.0.6:9000', severity: 'warning', component: 'crawler' }),
        alert({ alertname: 'TargetDown', job: 'workers', instance: '172.20.0.6:9000', severity: 'warning', component: 'monitoring' }),
        alert({ alertname: 'Worker429Spike', site: 'example.com', severity: 'warning', component: 'crawler' }),
      ]),
    });
    assert.equal(posted.status, 200);
    const alerts = (await (await fetch(`${base}/api/v2/alerts`)).json()) as { labels: Record<string, string>; status: { inhibitedBy: string[] } }[];
    const muted = alerts
      .map((a) => `${a.labels.alertname}/${a.labels.job ?? ''}:${a.status.inhibitedBy.length > 0 ? 'muted' : 'active'}`)
      .sort();
    assert.deepEqual(muted, [
      'APIHighLatency/api:muted',
      'PostgresConnectionsSaturated/:muted',
      'PostgresDown/postgres:active',
      'TargetDown/api:active',
      'TargetDown/workers:muted',
      'Worker429Spike/:active',
      'WorkerDown/workers:active',
    ]);
  });
});

describe('blackbox-exporter', () => {
  it('accepts monitoring/blackbox/config.yml with http_2xx and tcp_connect', () => {
    requireBinary('prometheus-blackbox-exporter');
    const file = join(MON, 'blackbox', 'config.yml');
    assertOk(run('prometheus-blackbox-exporter', ['--config.check', `--config.file=${file}`]), 'blackbox --config.check');
    const modules = Object.keys(readYaml<{ modules: Record<string, unknown> }>(file).modules);
    assert.deepEqual(modules.sort(), ['http_2xx', 'tcp_connect']);
  });
});

describe('docker-compose.monitoring.yml', () => {
  type Service = { image?: string; ports?: string[]; secrets?: string[]; environment?: Record<string, string>; networks?: string[] };
  const compose = readYaml<{ version?: string; services: Record<string, Service>; secrets: Record<string, { file: string }>; networks: Record<string, { name?: string }> }>(COMPOSE_FILE);

  it('validates with docker-compose config -q (no daemon)', () => {
    requireBinary('docker-compose');
    const env = { ...process.env, COMPOSE_PROJECT_NAME: 'owl-monitoring-check', DOCKER_HOST: 'unix:///nonexistent.sock' };
    assertOk(run('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'], { env }), 'docker-compose config -q');
  });

  it('has no version key, pinned images (each overridable by a variable), UI ports on 127.0.0.1 only, and the shared network', () => {
    assert.equal(compose.version, undefined);
    for (const [name, service] of Object.entries(compose.services)) {
      const image = /^\$\{([A-Z_]+_IMAGE):-([^}]+)\}$/.exec(service.image ?? '');
      assert.ok(image, `${name}: image is not \${NAME_IMAGE:-upstream}: ${service.image}`);
      assert.match(image[2]!, /:v?\d+\.\d+\.\d+$/, `${name}: default image not pinned`);
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port} published on every interface`);
    }
    assert.equal(compose.networks.app?.name, 'sparkling-owl-spin');
  });

  it('declares every secret a service uses, with a committed example and a git-ignored real file', () => {
    const declared = new Set(Object.keys(compose.secrets));
    for (const [name, service] of Object.entries(compose.services)) {
      for (const s of service.secrets ?? []) assert.ok(declared.has(s), `${name} uses undeclared secret ${s}`);
    }
    for (const [name, { file }] of Object.entries(compose.secrets)) {
      assert.equal(file, `./secrets/${name}`);
      const real = join('docker', 'monitoring', 'secrets', name);
      assert.ok(existsSync(join(SECRETS_DIR, `${name}.example`)), `missing ${real}.example`);
      assert.equal(run('git', ['check-ignore', '-q', real]).status, 0, `${real} is not git-ignored (add docker/monitoring/secrets/* and !docker/monitoring/secrets/*.example to .gitignore)`);
      assert.notEqual(run('git', ['check-ignore', '-q', `${real}.example`]).status, 0, `${real}.example must not be ignored`);
    }
    const env = (s: string) => compose.services[s]?.environment ?? {};
    assert.equal(env('grafana').GF_SECURITY_ADMIN_PASSWORD__FILE, '/run/secrets/grafana_admin_password');
    assert.equal(env('postgres-exporter').DATA_SOURCE_PASS_FILE, '/run/secrets/postgres_exporter_password');
    assert.deepEqual(compose.services.alertmanager?.secrets?.sort(), ['alertmanager_slack_api_url', 'alertmanager_smtp_password']);
  });
});

describe('YAML style', () => {
  it('yamllint (relaxed, no line-length limit) finds no errors', () => {
    requireBinary('yamllint');
    const result = run('yamllint', ['-f', 'parsable', '-d', '{extends: relaxed, rules: {line-length: disable}}', 'monitoring', 'docker/monitoring']);
    assertOk(result, 'yamllint');
    assert.doesNotMatch(result.stdout, /\[error\]/);
  });
});

describe('PostgreSQL metrics role and custom queries', () => {
  // Unique per run: two suites running at once (a developer's and CI's) must not drop each other's.
  const database = `owl_monitoring_test_${process.pid}`;
  const role = `owl_metrics_test_${process.pid}`;
  const password = `pw-${process.pid}-'quoted"`;
  const admin = { host: '127.0.0.1', port: 5432, user: 'postgres' };
  const workDir = mkdtempSync(join(tmpdir(), 'owl-monitoring-'));
  let exporter: ChildProcess | undefined;

  async function adminQuery(db: string, sql: string): Promise<void> {
    const client = new pg.Client({ ...admin, database: db });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  before(async () => {
    requireBinary('psql');
    await adminQuery('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await adminQuery('postgres', `DROP ROLE IF EXISTS ${role}`);
    await adminQuery('postgres', `CREATE DATABASE ${database}`);
    await adminQuery(database, 'CREATE TABLE frontier (id bigint PRIMARY KEY, url text NOT NULL); INSERT INTO frontier VALUES (1, $$https://example.com/$$)');
  });

  after(async () => {
    if (exporter && exporter.exitCode === null) {
      const exited = new Promise((resolve) => exporter?.once('exit', resolve));
      exporter.kill('SIGTERM');
      await exited;
    }
    await adminQuery('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await adminQuery('postgres', `DROP ROLE IF EXISTS ${role}`);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('00-metrics-user.sql creates a pg_monitor role (twice without error) and 01 sets its password from a file', async () => {
    const sqlFile = join(MON, 'postgres', '00-metrics-user.sql');
    const pgEnv = { ...process.env, PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' };
    for (let i = 0; i < 2; i++) {
      assertOk(run('psql', ['-X', '-q', '-d', database, '-v', `metrics_role=${role}`, '-f', sqlFile], { env: pgEnv }), '00-metrics-user.sql');
    }
    const passwordFile = join(workDir, 'postgres_exporter_password');
    writeFileSync(passwordFile, `${password}\n`);
    const script = run('sh', [join(MON, 'postgres', '01-metrics-user.sh')], {
      env: { ...pgEnv, METRICS_ROLE: role, METRICS_PASSWORD_FILE: passwordFile, POSTGRES_USER: 'postgres', POSTGRES_DB: database },
    });
    assertOk(script, '01-metrics-user.sh');

    const client = new pg.Client({ ...admin, database });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT pg_has_role($1, 'pg_monitor', 'member') AS monitor, r.rolsuper, a.rolpassword LIKE 'SCRAM-SHA-256$%' AS has_password
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = $1`,
        [role],
      );
      assert.deepEqual(rows, [{ monitor: true, rolsuper: false, has_password: true }]);
    } finally {
      await client.end();
    }
  });

  it('the role runs every custom query but cannot read application tables', async () => {
    const queries = readYaml<Record<string, { query: string; metrics: Record<string, { usage: string }>[] }>>(join(MON, 'postgres', 'queries.yml'));
    const client = new pg.Client({ ...admin, user: role, password, database });
    await client.connect();
    try {
      await assert.rejects(client.query('SELECT * FROM frontier'), (e: { code?: string }) => e.code === '42501');
      for (const [name, q] of Object.entries(queries)) {
        const result = await client.query(q.query);
        const columns = result.fields.map((f) => f.name).sort();
        const expected = q.metrics.map((m) => Object.keys(m)[0]).sort();
        assert.deepEqual(columns, expected, `${name}: columns differ from the metric list`);
      }
      const tables = await client.query(queries.pg_owl_tables!.query);
      assert.ok(tables.rows.some((r) => r.relname === 'frontier'), 'pg_owl_tables does not list the app table');
    } finally {
      await client.end();
    }
  });

  it('postgres-exporter loads queries.yml and serves the pg_owl_* metrics as that role', async () => {
    requireBinary('prometheus-postgres-exporter');
    const port = await freePort();
    const passwordFile = join(workDir, 'postgres_exporter_password');
    exporter = spawn('prometheus-postgres-exporter', [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${join(MON, 'postgres', 'queries.yml')}`], {
      env: { ...process.env, DATA_SOURCE_URI: `127.0.0.1:5432/${database}?sslmode=disable`, DATA_SOURCE_USER: role, DATA_SOURCE_PASS_FILE: passwordFile },
      stdio: 'ignore',
    });
    let body = '';
    for (let attempt = 0; attempt < 50 && !body.includes('pg_owl_tables_live_rows'); attempt++) {
      await new Promise((r) => setTimeout(r, 200));
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    }
    assert.match(body, /^pg_up 1$/m);
    assert.match(body, /^pg_exporter_user_queries_load_error\{[^}]*\} 0$/m);
    for (const metric of ['pg_owl_connections_count', 'pg_owl_waits_lock_waiting', 'pg_owl_cache_hit_ratio', 'pg_owl_tables_live_rows', 'pg_owl_tables_size_bytes']) {
      assert.match(body, new RegExp(`^${metric}\\{`, 'm'), `${metric} missing`);
    }
    assert.match(body, /^pg_owl_tables_live_rows\{[^}]*relname="frontier"[^}]*\} /m);
  });
});
