import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { DEFAULTS, SETTINGS } from '../../src/config/schema.ts';
import { withTable } from '../../scripts/settings-table.ts';

describe('configuration', () => {
  it('starts from the documented defaults, frozen', () => {
    const config = loadConfig({});
    assert.deepEqual({ ...config }, DEFAULTS);
    assert.ok(Object.isFrozen(config));
  });

  it('reads every setting from its environment variable', () => {
    const config = loadConfig({ OWL_PORT: '8100', OWL_ALLOW_PRIVATE_TARGETS: 'yes', OWL_PROXIES: 'http://a:1, http://b:2', OWL_LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://u@h/db' });
    assert.equal(config.port, 8100);
    assert.equal(config.allowPrivateTargets, true);
    assert.deepEqual(config.proxies, ['http://a:1', 'http://b:2']);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.databaseUrl, 'postgres://u@h/db');
    assert.deepEqual(loadConfig({ OWL_WEBHOOK_RETRY_SCHEDULE: '100, 200' }).webhookRetrySchedule, ['100', '200']);
  });

  it('lets flags override the environment', () => {
    assert.equal(loadConfig({ OWL_PORT: '8100' }, { port: 9999 }).port, 9999);
  });

  for (const [env, value, message] of [
    ['OWL_PORT', 'eighty', /OWL_PORT must be an integer/],
    ['OWL_PORT', '70000', /OWL_PORT must be ≤ 65535/],
    ['OWL_CONCURRENCY', '0', /OWL_CONCURRENCY must be ≥ 1/],
    ['OWL_RESPECT_ROBOTS', 'maybe', /OWL_RESPECT_ROBOTS must be true or false/],
    ['OWL_LOG_LEVEL', 'loud', /OWL_LOG_LEVEL must be one of/],
    ['OWL_CONCURENCY', '4', /unknown setting OWL_CONCURENCY/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must start with postgres/],
    ['OWL_GRAFANA_URL', 'grafana:3000', /OWL_GRAFANA_URL must be an http\(s\) URL/],
    ['OWL_WEBHOOK_RETRY_SCHEDULE', '5s,30s', /OWL_WEBHOOK_RETRY_SCHEDULE must list waits in ms/],
    ['OWL_WEBHOOK_RETRY_SCHEDULE', '5000,0', /OWL_WEBHOOK_RETRY_SCHEDULE must list waits in ms/],
  ] as const) {
    it(`rejects ${env}=${value} naming the setting`, () => {
      assert.throws(() => loadConfig({ [env]: value }), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && message.test(err.message));
    });
  }

  it('rejects unknown override keys', () => {
    assert.throws(() => loadConfig({}, { colour: 'blue' } as never), /unknown setting colour/);
  });

  it('every setting has a default and an OWL_ or standard variable name', () => {
    for (const [key, s] of Object.entries(SETTINGS)) {
      assert.ok(key in DEFAULTS, key);
      assert.match(s.env, /^(OWL_[A-Z0-9_]+|DATABASE_URL)$/);
    }
  });

  it('the README settings table is generated from the schema (run: node --import tsx scripts/settings-table.ts --write)', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    assert.equal(withTable(readme), readme);
  });
});
