/** OWL_METRICS_TOKEN_FILE in the shipped scrape configs: the native stack's api and workers jobs send the token when it is set. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PORTS, nativePrometheusConfig } from '../../scripts/monitor/native-config.ts';

type Job = { job_name: string; authorization?: { type: string; credentials_file: string } };

describe('the metrics token in the native Prometheus config', () => {
  it('the api and workers jobs carry authorization.credentials_file only when a token file is given; promtool accepts it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'owl-metrics-token-'));
    try {
      const tokenFile = path.join(dir, 'token');
      writeFileSync(tokenFile, 'scrape-secret\n');
      const workersFile = path.join(dir, 'workers.json');
      writeFileSync(workersFile, '[]\n');
      const jobsOf = (text: string) => (parse(text) as { scrape_configs: Job[] }).scrape_configs;
      const open = jobsOf(nativePrometheusConfig({ ports: DEFAULT_PORTS, workersFile }));
      assert.ok(open.every((j) => j.authorization === undefined));
      const text = nativePrometheusConfig({ ports: DEFAULT_PORTS, workersFile, metricsTokenFile: tokenFile });
      const guarded = jobsOf(text);
      assert.deepEqual(guarded.find((j) => j.job_name === 'api')?.authorization, { type: 'Bearer', credentials_file: tokenFile });
      assert.deepEqual(guarded.find((j) => j.job_name === 'workers')?.authorization, { type: 'Bearer', credentials_file: tokenFile });
      assert.deepEqual(guarded.filter((j) => j.authorization).map((j) => j.job_name), ['api', 'workers']);
      const configFile = path.join(dir, 'prometheus.yml');
      writeFileSync(configFile, text);
      const check = spawnSync('promtool', ['check', 'config', '--syntax-only', configFile], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
