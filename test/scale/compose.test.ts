/** The app's compose file and image: validated by Debian's docker-compose 1.29 and checked against the monitoring stack. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const appFile = path.join(root, 'docker/docker-compose.yml');
const monitoringFile = path.join(root, 'docker/monitoring/docker-compose.monitoring.yml');
type Doc = Record<string, any>;

/** The file as docker-compose resolves it (anchors merged, .env.example substituted). */
function resolved(): Doc {
  const out = execFileSync('docker-compose', ['--env-file', path.join(root, '.env.example'), '-f', appFile, 'config'], { encoding: 'utf8' });
  return YAML.parse(out) as Doc;
}

describe('docker/docker-compose.yml', () => {
  it('passes `docker-compose config -q` (1.29) with the example env, and fails without the secrets from .env', () => {
    const ok = spawnSync('docker-compose', ['--env-file', path.join(root, '.env.example'), '-f', appFile, 'config', '-q'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const dir = mkdtempSync(path.join(tmpdir(), 'owl-compose-'));
    const empty = path.join(dir, 'empty.env');
    writeFileSync(empty, '');
    const bare = spawnSync('docker-compose', ['--env-file', empty, '-f', appFile, 'config', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    rmSync(dir, { recursive: true, force: true });
    assert.notEqual(bare.status, 0);
    assert.match(bare.stderr, /POSTGRES_PASSWORD|DATABASE_URL/);
  });

  it('joins the shared network the monitoring stack names, as external', () => {
    const app = YAML.parse(readFileSync(appFile, 'utf8')) as Doc;
    const monitoring = YAML.parse(readFileSync(monitoringFile, 'utf8')) as Doc;
    const shared = Object.values(monitoring.networks as Doc).find((n: Doc | null) => n && n.name)?.name;
    assert.equal(shared, 'sparkling-owl-spin');
    assert.deepEqual(app.networks, { app: { name: shared, external: true } });
    const doc = resolved();
    for (const [name, svc] of Object.entries(doc.services as Doc)) assert.deepEqual(Object.keys(svc.networks), ['app'], `${name} is on the shared network`);
  });

  it('api on 127.0.0.1:8000 listening on 0.0.0.0; worker scalable (no container_name, no host port); database owl', () => {
    const { services } = resolved();
    assert.deepEqual(services.api.command, ['serve']);
    assert.deepEqual(services.api.ports, ['127.0.0.1:8000:8000/tcp']);
    assert.equal(services.api.environment.OWL_HOST, '0.0.0.0');
    assert.deepEqual(services.worker.command, ['worker']);
    assert.equal(services.worker.container_name, undefined);
    assert.equal(services.worker.ports, undefined);
    assert.equal(services.worker.environment.OWL_HOST, '0.0.0.0');
    assert.equal(services.worker.environment.OWL_METRICS_PORT, '9000', 'Prometheus discovers workers on port 9000');
    for (const svc of [services.api, services.worker]) {
      assert.match(svc.environment.DATABASE_URL, /^postgres:\/\/owl:[^@]+@postgres:5432\/owl\b/);
      assert.deepEqual(svc.depends_on, { postgres: { condition: 'service_healthy' } });
    }
    assert.equal(services.postgres.environment.POSTGRES_DB, 'owl', "the exporter's DSN assumes database owl");
    assert.match(services.postgres.image, /^postgres:15/);
    assert.match(services.postgres.healthcheck.test.join(' '), /pg_isready/);
    assert.ok(services.postgres.volumes.some((v: string) => /^postgres-data:\/var\/lib\/postgresql\/data/.test(v)), 'named volume');
  });

  it('postgres runs the metrics-role scripts and gets the exporter password secret, whose example is committed', () => {
    const { services, secrets } = resolved();
    const initdb = services.postgres.volumes.find((v: string) => v.includes('/docker-entrypoint-initdb.d'));
    assert.ok(initdb, 'monitoring/postgres mounted into /docker-entrypoint-initdb.d');
    const hostDir = initdb.split(':')[0];
    assert.equal(path.resolve(hostDir), path.join(root, 'monitoring/postgres'));
    assert.ok(existsSync(path.join(hostDir, '00-metrics-user.sql')) && existsSync(path.join(hostDir, '01-metrics-user.sh')));
    const names = (services.postgres.secrets as (string | { source: string })[]).map((s) => (typeof s === 'string' ? s : s.source));
    assert.deepEqual(names, ['postgres_exporter_password']);
    // docker-compose 1.29 does not notice an undeclared secret or a missing file: check both here.
    for (const svc of Object.values(services as Doc)) {
      for (const s of (svc.secrets ?? []) as (string | { source: string })[]) assert.ok(secrets[typeof s === 'string' ? s : s.source], `secret ${JSON.stringify(s)} declared`);
    }
    for (const [name, s] of Object.entries(secrets as Doc)) {
      assert.ok(existsSync(s.file) || existsSync(`${s.file}.example`), `secret ${name}: ${s.file} or its .example exists`);
    }
    const tracked = execFileSync('git', ['-C', root, 'ls-files', 'docker/monitoring/secrets/postgres_exporter_password.example'], { encoding: 'utf8' });
    assert.match(tracked, /postgres_exporter_password\.example/);
  });

  it('redis only behind the `redis` profile', () => {
    const raw = YAML.parse(readFileSync(appFile, 'utf8')) as Doc;
    assert.deepEqual(raw.services.redis.profiles, ['redis']);
    for (const [name, svc] of Object.entries(raw.services as Doc)) if (name !== 'redis') assert.equal((svc as Doc).profiles, undefined);
  });

  it('no keys docker-compose 1.29 rejects or that are obsolete', () => {
    const text = readFileSync(appFile, 'utf8');
    const raw = YAML.parse(text) as Doc;
    for (const key of ['version', 'name', 'include']) assert.equal(raw[key], undefined, `top-level ${key}`);
    assert.doesNotMatch(text, /start_interval|develop:|restart: true/);
  });
});

describe('docker/Dockerfile and .env', () => {
  const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');

  it('multi-stage on node:20-bookworm-slim, chromium in the runtime stage, non-root, owl entrypoint, healthcheck', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const stages = [...dockerfile.matchAll(/^FROM \$\{NODE_IMAGE\} AS (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(stages, ['deps', 'runtime']);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    assert.match(runtime, /apt-get install[^\n]*\bchromium\b/);
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /^ENTRYPOINT \[.*"node", "bin\/owl\.js"\]$/m);
    assert.match(runtime, /^HEALTHCHECK /m);
    assert.match(runtime, /COPY --from=deps/);
  });

  it('.env is ignored by git and docker; .env.example is committed and complete', () => {
    assert.match(readFileSync(path.join(root, '.gitignore'), 'utf8'), /^\.env$/m);
    assert.match(readFileSync(path.join(root, '.dockerignore'), 'utf8'), /^\.env$/m);
    const example = readFileSync(path.join(root, '.env.example'), 'utf8');
    for (const key of ['POSTGRES_PASSWORD', 'DATABASE_URL']) assert.match(example, new RegExp(`^${key}=`, 'm'));
  });
});
