/**
 * What common HTTP clients see from a real `owl serve` (its own process, as users run it) when a
 * request is too big: Node's fetch must read the 413 of a body it is still sending, and an
 * over-long header or URL gets a 431 in the catalogue's JSON shape.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServe, type ServeProcess } from './serve-process.ts';

describe('owl serve answers oversized requests so that clients can read the answer', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-serve-http-'));
  let serve: ServeProcess;
  before(async () => {
    serve = await startServe({ OWL_DATA_DIR: dataDir });
  });
  after(async () => {
    serve.child.kill('SIGTERM');
    await serve.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a 6 MB POST /jobs body gets 413 BODY_TOO_LARGE, not a reset connection', async () => {
    const body = JSON.stringify({ seeds: ['https://a.example/'], pad: 'x'.repeat(6 * 1024 * 1024) });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${serve.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
    }
  });

  it('a header or URL over 16 KB gets 431 HEADERS_TOO_LARGE as JSON', async () => {
    const header = await fetch(`${serve.url}/healthz`, { headers: { 'x-padding': 'y'.repeat(20_000) } });
    assert.equal(header.status, 431);
    assert.equal(header.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await header.json(), { error: { code: 'HEADERS_TOO_LARGE', message: 'The request line or headers are too large (16 KB in all at most)' } });
    const url = await fetch(`${serve.url}/jobs?x=${'z'.repeat(20_000)}`);
    assert.equal(url.status, 431);
    assert.equal(((await url.json()) as { error: { code: string } }).error.code, 'HEADERS_TOO_LARGE');
  });
});
