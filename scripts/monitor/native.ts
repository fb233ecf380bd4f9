/**
 * `make monitor-native-up` / `monitor-native-down` / `monitor-native-status`: the monitoring stack
 * from Debian's packages, for machines without Docker (docs/monitoring.md, "The native stack").
 * Everything lives under ./data/monitoring/ (generated configs, TSDB, secrets, pid files, logs;
 * MONITOR_NATIVE_DIR moves it). Ports default to the plan's and can be moved with
 * MONITOR_<COMPONENT>_PORT (e.g. MONITOR_PROMETHEUS_PORT=19090, MONITOR_API_PORT=8000).
 * `owl worker` endpoints go in data/monitoring/workers.json (file_sd format), e.g.
 * [{"targets":["127.0.0.1:9000"]}]; Prometheus rereads it every 5 s. Running `up` again rewrites
 * the configs and reloads Prometheus and Alertmanager. `down` stops every component at once.
 */
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import {
  DEFAULT_PORTS,
  REPO_ROOT,
  alertmanagerSecretNames,
  nativeAlertmanagerConfig,
  nativePrometheusConfig,
  unconfiguredIntegrations,
  type NativePorts,
} from './native-config.ts';
import { monitoringProcesses } from './native-stack.ts';

const DIR = resolve(REPO_ROOT, process.env.MONITOR_NATIVE_DIR ?? join('data', 'monitoring'));
/** DIR as printed: relative to the checkout when inside it. */
const SHOWN = relative(REPO_ROOT, DIR).startsWith('..') ? DIR : relative(REPO_ROOT, DIR);
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

const PROC = existsSync('/proc/self/stat');

/**
 * Whether `pid` still runs. A stopped process whose parent has gone (the `up` run that started it)
 * stays a zombie until init reaps it, and signal 0 still reaches a zombie; /proc tells them apart.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!PROC) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** The executable `pid` runs, where /proc can tell (a pid file may outlive its process, and the pid be reused). */
function commandOf(pid: number): string | undefined {
  if (!PROC) return undefined;
  try {
    return basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readPid(name: string): number | undefined {
  const file = join(PIDS, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Component name → its executable. */
const COMMANDS = new Map(monitoringProcesses({ ports: DEFAULT_PORTS, paths: { prometheusConfig: '', alertmanagerConfig: '', dataDir: DIR } }).map((p) => [p.name, p.command]));

/** The pid of component `name` if it runs: its pid file names a live process running that component's executable. */
function runningPid(name: string): number | undefined {
  const pid = readPid(name);
  if (pid === undefined || !alive(pid)) return undefined;
  const actual = commandOf(pid);
  const expected = COMMANDS.get(name);
  if (expected === undefined) return undefined;
  return actual === undefined || actual === basename(expected) ? pid : undefined;
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** Secret files Alertmanager reads: copied from docker/monitoring/secrets/*.example, else a placeholder. */
function prepareSecrets(): void {
  mkdirSync(SECRETS, { recursive: true, mode: 0o700 });
  for (const name of alertmanagerSecretNames()) {
    const target = join(SECRETS, name);
    if (existsSync(target)) continue;
    const example = join(EXAMPLE_SECRETS, `${name}.example`);
    if (existsSync(example)) copyFileSync(example, target);
    else writeFileSync(target, name.includes('url') ? 'http://127.0.0.1:9/replace-me-with-the-webhook-url\n' : 'replace-me\n', { mode: 0o600 });
  }
}

/** POST /-/reload (Prometheus runs with --web.enable-lifecycle; Alertmanager always has it). */
async function reload(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.ok ? ', configuration reloaded' : `, reload answered HTTP ${res.status}: see its log`;
  } catch (err) {
    return `, reload failed: ${(err as Error).message}`;
  }
}

async function up(): Promise<void> {
  const p = ports(process.env);
  for (const dir of [DIR, PIDS, LOGS]) mkdirSync(dir, { recursive: true });
  const workersFile = join(DIR, 'workers.json');
  if (!existsSync(workersFile)) writeFileSync(workersFile, '[]\n');
  prepareSecrets();
  const paths = { prometheusConfig: join(DIR, 'prometheus.yml'), alertmanagerConfig: join(DIR, 'alertmanager.yml'), dataDir: DIR };
  // With OWL_METRICS_TOKEN_FILE set for owl, Prometheus sends the same token to the api and workers jobs.
  const metricsTokenFile = process.env.OWL_METRICS_TOKEN_FILE ? resolve(process.env.OWL_METRICS_TOKEN_FILE) : undefined;
  writeFileSync(paths.prometheusConfig, nativePrometheusConfig({ ports: p, workersFile, metricsTokenFile }));
  const disabled = unconfiguredIntegrations((name) => readIfExists(join(SECRETS, name)), (name) => readIfExists(join(EXAMPLE_SECRETS, `${name}.example`)));
  writeFileSync(paths.alertmanagerConfig, nativeAlertmanagerConfig({ secretsDir: SECRETS, disabledIntegrations: disabled }));
  for (const integration of disabled) {
    console.log(
      `alertmanager: ${integration === 'slack' ? 'Slack' : 'e-mail'} notifications are off until you fill in ` +
        (integration === 'slack' ? `${SHOWN}/secrets/alertmanager_slack_api_url` : `${SHOWN}/secrets/alertmanager_smtp_password and smtp_* in monitoring/alertmanager/alertmanager.yml`) +
        ' (still the examples) and run this again',
    );
  }
  for (const spec of monitoringProcesses({ ports: p, paths })) {
    const running = runningPid(spec.name);
    if (running !== undefined) {
      const reloaded = spec.name === 'prometheus' || spec.name === 'alertmanager' ? await reload(spec.port) : '';
      console.log(`${spec.name}: already running (pid ${running})${reloaded}`);
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
    console.log(`${spec.name}: started (pid ${child.pid}) on 127.0.0.1:${spec.port}, log ${SHOWN}/logs/${spec.name}.log`);
  }
  console.log(`Prometheus http://127.0.0.1:${p.prometheus}/classic/targets — the API is expected on 127.0.0.1:${p.api}; check with \`make monitor-check\`.`);
}

/**
 * Grace before SIGKILL (MONITOR_STOP_GRACE_MS, default 5 s). Prometheus flushes its head block on
 * SIGTERM, which takes well under a second here.
 */
const STOP_GRACE_MS = graceMs(process.env.MONITOR_STOP_GRACE_MS);

function graceMs(v: string | undefined): number {
  if (v === undefined) return 5_000;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`MONITOR_STOP_GRACE_MS=${v} is not a number of milliseconds`);
  return n;
}

/** SIGTERM to every component at once, then wait for all of them together (SIGKILL after the grace). */
async function down(): Promise<void> {
  if (!existsSync(PIDS)) return;
  const stopping: { name: string; pid: number; file: string }[] = [];
  for (const file of readdirSync(PIDS).filter((f) => f.endsWith('.pid'))) {
    const name = file.slice(0, -4);
    const pid = runningPid(name);
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      stopping.push({ name, pid, file });
      continue;
    }
    const stale = readPid(name);
    if (stale !== undefined && alive(stale)) console.log(`${name}: pid ${stale} now belongs to ${commandOf(stale)}; left alone`);
    rmSync(join(PIDS, file));
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (stopping.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(25);
  for (const p of stopping) {
    if (alive(p.pid)) {
      process.kill(p.pid, 'SIGKILL');
      console.log(`${p.name}: killed (pid ${p.pid}) after ${STOP_GRACE_MS / 1000} s`);
    } else console.log(`${p.name}: stopped (pid ${p.pid})`);
    rmSync(join(PIDS, p.file));
  }
}

function status(): void {
  for (const spec of monitoringProcesses({ ports: ports(process.env), paths: { prometheusConfig: '', alertmanagerConfig: '', dataDir: DIR } })) {
    const pid = runningPid(spec.name);
    console.log(`${spec.name.padEnd(18)} ${pid !== undefined ? `running (pid ${pid})` : 'stopped'}`);
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
