/**
 * `make monitor-native-up` / `monitor-native-down` / `monitor-native-status`: the monitoring stack
 * from Debian's packages, for machines without Docker. Everything lives under ./data/monitoring/
 * (generated configs, TSDB, pid files, logs). Ports default to the plan's and can be moved with
 * MONITOR_<COMPONENT>_PORT (e.g. MONITOR_PROMETHEUS_PORT=19090, MONITOR_API_PORT=8000).
 * `owl worker` endpoints go in data/monitoring/workers.json (file_sd format), e.g.
 * [{"targets":["127.0.0.1:9000"]}]; Prometheus rereads it every 5 s.
 */
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS, REPO_ROOT, alertmanagerSecretNames, nativeAlertmanagerConfig, nativePrometheusConfig, type NativePorts } from './native-config.ts';
import { monitoringProcesses } from './native-stack.ts';

const DIR = join(REPO_ROOT, 'data', 'monitoring');
const PIDS = join(DIR, 'pids');
const LOGS = join(DIR, 'logs');
const SECRETS = join(DIR, 'secrets');
const EXAMPLE_SECRETS = join(REPO_ROOT, 'docker', 'monitoring', 'secrets');

function ports(env: NodeJS.ProcessEnv): NativePorts {
  const out = { ...DEFAULT_PORTS };
  for (const key of Object.keys(out) as (keyof NativePorts)[]) {
    const name = `MONITOR_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_PORT`;
    const v = env[name];
    if (v !== undefined) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${v} is not a port`);
      out[key] = n;
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(name: string): number | undefined {
  const file = join(PIDS, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Secret files Alertmanager reads: copied from docker/monitoring/secrets/*.example, else a placeholder. */
function prepareSecrets(): void {
  mkdirSync(SECRETS, { recursive: true, mode: 0o700 });
  for (const name of alertmanagerSecretNames()) {
    const target = join(SECRETS, name);
    if (existsSync(target)) continue;
    const example = join(EXAMPLE_SECRETS, `${name}.example`);
    if (existsSync(example)) copyFileSync(example, target);
    else writeFileSync(target, name.includes('url') ? 'https://hooks.slack.com/services/REPLACE/ME\n' : 'replace-me\n', { mode: 0o600 });
  }
}

async function up(): Promise<void> {
  const p = ports(process.env);
  for (const dir of [DIR, PIDS, LOGS]) mkdirSync(dir, { recursive: true });
  const workersFile = join(DIR, 'workers.json');
  if (!existsSync(workersFile)) writeFileSync(workersFile, '[]\n');
  prepareSecrets();
  const paths = { prometheusConfig: join(DIR, 'prometheus.yml'), alertmanagerConfig: join(DIR, 'alertmanager.yml'), dataDir: DIR };
  writeFileSync(paths.prometheusConfig, nativePrometheusConfig({ ports: p, workersFile }));
  writeFileSync(paths.alertmanagerConfig, nativeAlertmanagerConfig({ secretsDir: SECRETS }));
  for (const spec of monitoringProcesses({ ports: p, paths })) {
    const running = readPid(spec.name);
    if (running && alive(running)) {
      console.log(`${spec.name}: already running (pid ${running})`);
      continue;
    }
    const log = openSync(join(LOGS, `${spec.name}.log`), 'a');
    const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...spec.env }, cwd: DIR });
    closeSync(log);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    writeFileSync(join(PIDS, `${spec.name}.pid`), `${child.pid}\n`);
    console.log(`${spec.name}: started (pid ${child.pid}) on 127.0.0.1:${spec.port}, log data/monitoring/logs/${spec.name}.log`);
  }
  console.log(`Prometheus http://127.0.0.1:${p.prometheus}/classic/targets — the API is expected on 127.0.0.1:${p.api}; check with \`make monitor-check\`.`);
}

async function down(): Promise<void> {
  if (!existsSync(PIDS)) return;
  for (const file of readdirSync(PIDS).filter((f) => f.endsWith('.pid'))) {
    const name = file.slice(0, -4);
    const pid = readPid(name);
    if (pid && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      console.log(`${name}: stopped (pid ${pid})`);
    }
    rmSync(join(PIDS, file));
  }
}

function status(): void {
  for (const spec of monitoringProcesses({ ports: ports(process.env), paths: { prometheusConfig: '', alertmanagerConfig: '', dataDir: DIR } })) {
    const pid = readPid(spec.name);
    console.log(`${spec.name.padEnd(18)} ${pid && alive(pid) ? `running (pid ${pid})` : 'stopped'}`);
  }
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else if (command === 'status') status();
else {
  console.error('usage: node --import tsx scripts/monitor/native.ts up|down|status');
  process.exit(2);
}
