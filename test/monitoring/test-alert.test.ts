/**
 * `make monitor-test-alert` against a real Alertmanager running the committed alertmanager.yml,
 * rendered as the native stack renders it (webhook URL pointed at this test's receiver, short
 * timings). The alert goes in through Alertmanager's API and must come out at the webhook, so it
 * has passed the committed routing tree: the `env="test"` route is the one that reaches the webhook,
 * while the same alert without that label goes to the `slack` receiver.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PORTS, REPO_ROOT, alertmanagerSecretNames, nativeAlertmanagerConfig } from '../../scripts/monitor/native-config.ts';
import { monitoringProcesses } from '../../scripts/monitor/native-stack.ts';
import { TEST_ALERT_NAME, parseLabels, sendTestAlert } from '../../scripts/monitor/test-alert.ts';
import { GiveUp, Managed, WebhookReceiver, answers, freePort, waitFor } from './harness.ts';

const run = promisify(execFile);

describe('make monitor-test-alert', { timeout: 90_000 }, () => {
  let dir = '';
  let webhook: WebhookReceiver;
  let alertmanager: Managed;
  let amUrl = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'owl-test-alert-'));
    webhook = new WebhookReceiver();
    await webhook.start();
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir);
    for (const name of alertmanagerSecretNames()) writeFileSync(join(secretsDir, name), 'https://example.invalid/unused\n');
    const paths = { prometheusConfig: join(dir, 'unused-prometheus.yml'), alertmanagerConfig: join(dir, 'alertmanager.yml'), dataDir: dir };
    writeFileSync(
      paths.alertmanagerConfig,
      nativeAlertmanagerConfig({ secretsDir, webhookUrl: webhook.url, timings: { group_wait: '0s', group_interval: '1s', repeat_interval: '1h' } }),
    );
    const ports = { ...DEFAULT_PORTS, alertmanager: await freePort() };
    const spec = monitoringProcesses({ ports, paths }).find((p) => p.name === 'alertmanager');
    assert.ok(spec);
    alertmanager = new Managed(spec, dir);
    alertmanager.start();
    amUrl = `http://127.0.0.1:${ports.alertmanager}`;
    await waitFor(`alertmanager to answer (log: ${alertmanager.logFile})`, async () => {
      if (!alertmanager.running) throw new GiveUp(`alertmanager exited:\n${alertmanager.tail()}`);
      return answers(`${amUrl}/-/ready`);
    }, 30_000);
  });

  after(async () => {
    await alertmanager?.stop();
    await webhook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses label=value arguments and rejects anything else', () => {
    assert.deepEqual(parseLabels(['env=test', 'team=crawl=x', 'empty=']), { env: 'test', team: 'crawl=x', empty: '' });
    assert.throws(() => parseLabels(['no-equals']), /not a label=value pair/);
    assert.throws(() => parseLabels(['1bad=x']), /not a label=value pair/);
  });

  it('the make target sends the alert through the routing to the webhook, and --resolve resolves it', async () => {
    const make = (args: string) =>
      run('make', ['--no-print-directory', 'monitor-test-alert', `ALERTMANAGER_URL=${amUrl}`, `TEST_ALERT_ARGS=${args}`], { cwd: REPO_ROOT, timeout: 30_000 });
    const sent = await make('env=test run=make-target');
    assert.match(sent.stdout, /routed to receiver\(s\): webhook\n/);
    assert.match(sent.stdout, /amtool --alertmanager\.url=\S+ alert query alertname=OwlTestAlert/);
    assert.match(sent.stdout, /amtool config routes test --config\.file=\S+alertmanager\.yml /);

    const fired = await waitFor('the test alert at the webhook', () => webhook.find(TEST_ALERT_NAME, 'firing', 0, { run: 'make-target' }), 20_000);
    assert.deepEqual(fired.labels, { alertname: TEST_ALERT_NAME, severity: 'warning', component: 'monitoring', env: 'test', run: 'make-target' });

    const resolved = await make('--resolve env=test run=make-target');
    assert.match(resolved.stdout, /^resolved /);
    await waitFor('the test alert resolved at the webhook', () => webhook.find(TEST_ALERT_NAME, 'resolved', 0, { run: 'make-target' }), 20_000);
  });

  it('without env="test" the committed routing sends it to slack, not to the webhook', async () => {
    const result = await sendTestAlert({ alertmanagerUrl: amUrl, labels: { run: 'default-route' }, minutes: 1 });
    assert.deepEqual(result.receivers, ['slack']);
    // A later webhook delivery proves deliveries still flow; none of them may carry this alert.
    await sendTestAlert({ alertmanagerUrl: amUrl, labels: { env: 'test', run: 'marker' }, minutes: 1 });
    await waitFor('the marker alert at the webhook', () => webhook.find(TEST_ALERT_NAME, 'firing', 0, { run: 'marker' }), 20_000);
    assert.equal(webhook.notifications.some((n) => n.labels.run === 'default-route'), false);
  });
});
