/** OWL_METRICS_TOKEN_FILE on `owl worker`: its /metrics answers only the token, like the API's. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useScaleFixture } from './fixture.ts';
import { startWorker } from './processes.ts';

describe('owl worker with OWL_METRICS_TOKEN_FILE', () => {
  const fx = useScaleFixture(1);

  it('answers /metrics with 401 and a JSON error without the token or with a wrong one, 200 with it; /healthz stays open', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'owl-worker-token-'));
    try {
      const tokenFile = path.join(dir, 'metrics-token');
      writeFileSync(tokenFile, 'scrape-secret-9f2c\n');
      const worker = await startWorker({ DATABASE_URL: fx.schema.url(), OWL_METRICS_TOKEN_FILE: tokenFile });
      fx.procs.push(worker);
      const get = (headers: Record<string, string> = {}) => fetch(`${worker.url}/metrics`, { headers });

      const none = await get();
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.deepEqual(await none.json(), { error: { code: 'UNAUTHORIZED', message: 'No token: /metrics needs Authorization: Bearer <the metrics token>' } });
      for (const header of ['Bearer scrape-secret-9f2', 'Bearer scrape-secret-9f2c0', 'Basic c2NyYXBl', 'scrape-secret-9f2c']) {
        const wrong = await get({ authorization: header });
        assert.equal(wrong.status, 401, header);
        assert.equal(((await wrong.json()) as { error: { message: string } }).error.message, 'The metrics token is not valid', header);
      }
      const ok = await get({ authorization: 'Bearer scrape-secret-9f2c' });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^# TYPE pages_fetched_total counter$/m);
      assert.equal((await fetch(`${worker.url}/healthz`)).status, 200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
