/**
 * `make monitor-native-up` / `monitor-native-status` / `monitor-native-down` (scripts/monitor/native.ts)
 * with the real Debian binaries, in a folder and on ports of the test's own. With the secrets
 * still the committed examples, the generated Alertmanager config must contact no external host;
 * `up` again reloads the running servers; `down` stops every component at once and leaves alone a
 * process that merely inherited a component's pid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../scripts/monitor/native-config.ts';
import { answers, freePort, waitFor } from './harness.ts';

const COMPONENTS = ['prometheus', 'alertmanager', 'node-exporter', 'postgres-exporter', 'redis-exporter', 'blackbox-exporter'];

/** Running and not a zombie (a stopped component waits to be reaped by init). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

describe('the native monitoring stack (make monitor-native-up/down)', { timeout: 120_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let promPort = 0;
  let amPort = 0;
  let bystander: ChildProcess | undefined;

  const native = (command: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'monitor', 'native.ts'), command], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `native.ts ${command}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const pidOf = (name: string) => Number(readFileSync(join(dir, 'pids', `${name}.pid`), 'utf8').trim());

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'owl-native-'));
    [promPort, amPort] = [await freePort(), await freePort()];
    env = {
      ...process.env,
      MONITOR_NATIVE_DIR: dir,
      MONITOR_PROMETHEUS_PORT: String(promPort),
      MONITOR_ALERTMANAGER_PORT: String(amPort),
      MONITOR_NODE_PORT: String(await freePort()),
      MONITOR_POSTGRES_EXPORTER_PORT: String(await freePort()),
      MONITOR_REDIS_EXPORTER_PORT: String(await freePort()),
      MONITOR_BLACKBOX_PORT: String(await freePort()),
      MONITOR_API_PORT: String(await freePort()),
      // However slow the machine, a component that honours SIGTERM is never SIGKILLed here.
      MONITOR_STOP_GRACE_MS: '60000',
    };
  });

  after(() => {
    // Whatever a failed assertion left running: only the pids this test's stack wrote.
    if (dir && existsSync(join(dir, 'pids'))) {
      for (const f of readdirSync(join(dir, 'pids'))) {
        const pid = Number(readFileSync(join(dir, 'pids', f), 'utf8'));
        if (pid !== bystander?.pid && running(pid)) process.kill(pid, 'SIGKILL');
      }
    }
    bystander?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts every component, with the example secrets kept away from Slack and SMTP', async () => {
    const out = native('up');
    for (const name of COMPONENTS) assert.match(out, new RegExp(`^${name}: started \\(pid \\d+\\)`, 'm'));
    assert.match(out, /Slack notifications are off until you fill in/);
    assert.match(out, /e-mail notifications are off until you fill in/);
    const am = readFileSync(join(dir, 'alertmanager.yml'), 'utf8');
    assert.doesNotMatch(am, /slack_configs|email_configs|smtp_|slack_api_url|hooks\.slack\.com|example\.com/);
    const receivers = (parse(am) as { receivers: { name: string }[] }).receivers.map((r) => r.name).sort();
    assert.deepEqual(receivers, ['critical', 'heartbeat', 'null', 'slack', 'webhook'], 'the routing tree keeps its receivers');
    assert.equal(readFileSync(join(dir, 'secrets', 'alertmanager_slack_api_url'), 'utf8'), readFileSync(join(REPO_ROOT, 'docker', 'monitoring', 'secrets', 'alertmanager_slack_api_url.example'), 'utf8'));

    await waitFor('Prometheus and Alertmanager ready', async () => (await answers(`http://127.0.0.1:${promPort}/-/ready`)) && answers(`http://127.0.0.1:${amPort}/-/ready`), 30_000);
    const status = native('status');
    for (const name of COMPONENTS) assert.match(status, new RegExp(`^${name}\\s+running \\(pid ${pidOf(name)}\\)$`, 'm'));
  });

  it('up again keeps the running components and reloads Prometheus and Alertmanager', () => {
    const out = native('up');
    assert.match(out, /^prometheus: already running \(pid \d+\), configuration reloaded$/m);
    assert.match(out, /^alertmanager: already running \(pid \d+\), configuration reloaded$/m);
    assert.doesNotMatch(out, /started/);
  });

  it('down stops every component without SIGKILL, and leaves alone a process that inherited a stale pid file', async () => {
    // blackbox-exporter dies behind the stack's back, and its pid goes to someone else.
    const blackbox = pidOf('blackbox-exporter');
    process.kill(blackbox, 'SIGTERM');
    await waitFor('blackbox-exporter gone', () => !running(blackbox), 10_000, 50);
    bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'pids', 'blackbox-exporter.pid'), `${bystander.pid}\n`);
    const pids = COMPONENTS.filter((n) => n !== 'blackbox-exporter').map((n) => [n, pidOf(n)] as const);

    const out = native('down');
    for (const [name, pid] of pids) {
      assert.match(out, new RegExp(`^${name}: stopped \\(pid ${pid}\\)$`, 'm'));
      assert.equal(running(pid), false, `${name} (pid ${pid}) still runs`);
    }
    assert.match(out, new RegExp(`^blackbox-exporter: pid ${bystander.pid} now belongs to sleep; left alone$`, 'm'));
    assert.equal(running(bystander.pid ?? 0), true, 'the bystander was killed');
    assert.deepEqual(readdirSync(join(dir, 'pids')), []);
    assert.match(native('status'), /^prometheus\s+stopped$/m);
  });
});
