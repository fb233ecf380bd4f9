/** The app's compose file and image: validated by Debian's docker-compose 1.29 and checked against the monitoring stack. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const appFile = path.join(root, 'docker/docker-compose.yml');
const monitoringFile = path.join(root, 'docker/monitoring/docker-compose.monitoring.yml');
type Doc = Record<string, any>;

/** Variables the files read that the test must not inherit (the defaults are under test). */
const IMAGE_VARIABLES = /^(OWL_IMAGE|POSTGRES_IMAGE|REDIS_IMAGE|NODE_IMAGE|BUILD_IMAGE|OWL_ALLOW_PRIVATE_TARGETS)$/;
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !IMAGE_VARIABLES.test(k)));

/** The file as docker-compose resolves it (anchors merged, .env.example substituted). */
function resolved(): Doc {
  const out = execFileSync('docker-compose', ['--env-file', path.join(root, '.env.example'), '-f', appFile, 'config'], { encoding: 'utf8', env: cleanEnv() });
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
    const shared = Object.values(monitoring.networks as Doc).find((n: Doc | null) => n?.name)?.name;
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
    assert.equal(services.api.environment.OWL_ALLOW_PRIVATE_TARGETS, 'false', 'private targets refused unless asked for');
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
      // The API's bootstrap key has no example: `make up` writes a random one (next case).
      if (name === 'owl_bootstrap_key') continue;
      assert.ok(existsSync(s.file) || existsSync(`${s.file}.example`), `secret ${name}: ${s.file} or its .example exists`);
    }
    const tracked = execFileSync('git', ['-C', root, 'ls-files', 'docker/monitoring/secrets/postgres_exporter_password.example'], { encoding: 'utf8' });
    assert.match(tracked, /postgres_exporter_password\.example/);
  });

  it('the API requires keys; its first admin key is a secret file that make up writes once, at random, outside git', () => {
    const { services, secrets } = resolved();
    assert.equal(services.api.environment.OWL_AUTH, 'required');
    assert.equal(services.api.environment.OWL_BOOTSTRAP_KEY_FILE, '/run/secrets/owl_bootstrap_key');
    assert.deepEqual((services.api.secrets as (string | { source: string })[]).map((s) => (typeof s === 'string' ? s : s.source)), ['owl_bootstrap_key']);
    assert.equal(path.resolve(secrets.owl_bootstrap_key.file), path.join(root, 'docker/secrets/owl_bootstrap_key'));
    assert.equal(services.worker.secrets, undefined, 'workers get no key');
    const ignored = spawnSync('git', ['-C', root, 'check-ignore', '-q', 'docker/secrets/owl_bootstrap_key']);
    assert.equal(ignored.status, 0, 'docker/secrets/ is git-ignored');
    const dir = mkdtempSync(path.join(tmpdir(), 'owl-app-env-'));
    try {
      copyFileSync(path.join(root, '.env.example'), path.join(dir, '.env.example'));
      mkdirSync(path.join(dir, 'docker/monitoring/secrets'), { recursive: true });
      copyFileSync(path.join(root, 'docker/monitoring/secrets/postgres_exporter_password.example'), path.join(dir, 'docker/monitoring/secrets/postgres_exporter_password.example'));
      const make = () => execFileSync('make', ['-s', '-f', path.join(root, 'mk/app.mk'), '-C', dir, 'app-env'], { encoding: 'utf8' });
      const out = make();
      const key = readFileSync(path.join(dir, 'docker/secrets/owl_bootstrap_key'), 'utf8');
      assert.match(key, /^owl_[A-Za-z0-9_-]{43}\n$/);
      assert.ok(!out.includes(key.trim()), 'the key is not printed');
      make();
      assert.equal(readFileSync(path.join(dir, 'docker/secrets/owl_bootstrap_key'), 'utf8'), key, 'never overwritten');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every image is overridable by a variable whose default is the upstream image', () => {
    const raw = YAML.parse(readFileSync(appFile, 'utf8')) as Doc;
    const images = Object.fromEntries(Object.entries(raw.services as Doc).map(([name, svc]) => [name, (svc as Doc).image ?? raw['x-app'].image]));
    const variable = (name: string, upstream: string) => `\${${name}:-${upstream}}`;
    assert.deepEqual(images, {
      api: variable('OWL_IMAGE', 'sparkling-owl-spin:local'),
      worker: variable('OWL_IMAGE', 'sparkling-owl-spin:local'),
      postgres: variable('POSTGRES_IMAGE', 'postgres:15-bookworm'),
      redis: variable('REDIS_IMAGE', 'redis:7-bookworm'),
    });
    const env = { ...cleanEnv(), POSTGRES_IMAGE: 'localhost/pg:test', OWL_IMAGE: 'localhost/owl:test' };
    const out = execFileSync('docker-compose', ['--env-file', path.join(root, '.env.example'), '-f', appFile, 'config'], { encoding: 'utf8', env });
    const { services } = YAML.parse(out) as Doc;
    assert.deepEqual([services.postgres.image, services.api.image, services.worker.image], ['localhost/pg:test', 'localhost/owl:test', 'localhost/owl:test']);
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
    assert.match(runtime, /packages="chromium /);
    assert.match(runtime, /apt-get install[^\n]*\$packages/);
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /^ENTRYPOINT \[.*"node", "bin\/owl\.js"\]$/m);
    assert.match(runtime, /^HEALTHCHECK /m);
    assert.match(runtime, /COPY --from=deps/);
  });

  it('builds the web console in its own stage and copies only its output (dist/console) into the runtime image', () => {
    assert.match(dockerfile, /^ARG BUILD_IMAGE=node:20-bookworm-slim$/m);
    const start = dockerfile.search(/^FROM \$\{BUILD_IMAGE\} AS console$/m);
    assert.ok(start >= 0, 'a console stage on BUILD_IMAGE');
    const stage = dockerfile.slice(start, dockerfile.indexOf('AS deps'));
    assert.match(stage, /npm ci --ignore-scripts/);
    const script = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts['build:console'];
    assert.match(stage, new RegExp(`^RUN ${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), 'the build:console script, as package.json has it');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    assert.match(runtime, /^COPY --from=console --chown=root:root \/app\/dist\/console \.\/dist\/console$/m);
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['console', 'scripts']) assert.ok(!ignored.includes(p), `${p} reaches the build`);
    assert.ok(ignored.includes('dist'), 'a local build never reaches the image: the stage makes its own');
  });

  it('node_modules from `npm ci`, or from a base made from the same package-lock.json; compose passes the Dockerfile\'s default', () => {
    const deps = dockerfile.slice(dockerfile.indexOf('AS deps'), dockerfile.indexOf('AS runtime'));
    assert.match(deps, /sha256sum --check --status node_modules\/\.package-lock\.sha256/);
    assert.match(deps, /npm ci --omit=dev/);
    const defaults = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    const { services } = resolved();
    assert.deepEqual(services.api.build.args, defaults, 'build args default to the Dockerfile\'s own defaults');
    assert.equal(services.worker.build, undefined, 'built once, by the api service');
    assert.equal(services.worker.image, services.api.image);
  });

  it('.env is ignored by git and docker; .env.example is committed and complete', () => {
    assert.match(readFileSync(path.join(root, '.gitignore'), 'utf8'), /^\.env$/m);
    assert.match(readFileSync(path.join(root, '.dockerignore'), 'utf8'), /^\.env$/m);
    const example = readFileSync(path.join(root, '.env.example'), 'utf8');
    for (const key of ['POSTGRES_PASSWORD', 'DATABASE_URL']) assert.match(example, new RegExp(`^${key}=`, 'm'));
  });
});
