/**
 * `owl keys` as operators run it: beside a running `owl serve` that owns the embedded store (the
 * control socket), and with no server running; `owl serve` refusing OWL_AUTH=off off loopback;
 * the bootstrap key file of the compose files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKey } from '../../src/auth/keys.ts';
import { runOwl, startServe, type ServeProcess } from '../bin/serve-process.ts';

const owl = runOwl;

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

describe('owl keys beside a running owl serve (embedded store)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-keys-'));
  let serve: ServeProcess;
  let earlyKey: string;
  before(async () => {
    // A key made while no server runs: the command opens the store itself.
    const made = await owl(['keys', 'create', '--name', 'early', '--scopes', 'jobs:read'], { OWL_DATA_DIR: dataDir });
    assert.equal(made.code, 0, made.stderr);
    earlyKey = lastLine(made.stdout);
    serve = await startServe({ OWL_DATA_DIR: dataDir, OWL_AUTH: 'required' });
  });
  after(async () => {
    serve.child.kill('SIGTERM');
    await serve.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('create prints the key once as the last line; it works at once; list never shows it; revoke refuses it', async () => {
    assert.equal((await fetch(`${serve.url}/jobs`, { headers: { authorization: `Bearer ${earlyKey}` } })).status, 200, 'the key made before the server started');
    const made = await owl(['keys', 'create', '--name', 'ci bot', '--scopes', 'jobs:read,jobs:write', '--rate', '20/s', '--max-running-jobs', '3', '--expires', '2099-01-01T00:00:00Z'], { OWL_DATA_DIR: dataDir });
    assert.equal(made.code, 0, made.stderr);
    const key = lastLine(made.stdout);
    assert.match(key, /^owl_[A-Za-z0-9_-]{43}$/);
    assert.equal(made.stdout.split(key).length, 2, 'printed once');
    const res = await fetch(`${serve.url}/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ seeds: ['https://a.example/'] }) });
    assert.equal(res.status, 201);
    const list = await owl(['keys', 'list'], { OWL_DATA_DIR: dataDir });
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(key) && !list.stdout.includes(earlyKey), 'no secret listed');
    assert.match(list.stdout, /ci bot\s+jobs:read,jobs:write\s+owl_\S{8}\s+active/);
    const json = JSON.parse((await owl(['keys', 'list', '--json'], { OWL_DATA_DIR: dataDir })).stdout) as { keys: { id: string; name: string }[] };
    const id = json.keys.find((k) => k.name === 'ci bot')!.id;
    const revoked = await owl(['keys', 'revoke', id], { OWL_DATA_DIR: dataDir });
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await fetch(`${serve.url}/jobs`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(refused.status, 401);
    const unknown = await owl(['keys', 'revoke', '00000000-0000-4000-8000-000000000000'], { OWL_DATA_DIR: dataDir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No API key has the id/);
  });

  it('bad flags are one line and exit 2', async () => {
    for (const args of [['keys', 'create', '--name', 'x', '--scopes', 'jobs:delete'], ['keys', 'create', '--scopes', 'admin'], ['keys', 'create', '--name', 'x', '--scopes', 'admin', '--expires', 'soon'], ['keys']]) {
      const r = await owl(args, { OWL_DATA_DIR: dataDir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('owl keys when another process holds the data folder without a control socket', () => {
  it('says so in one line, exit 2', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-keys-'));
    try {
      // This test process stands for a holder that does not answer (its pid is alive).
      writeFileSync(path.join(dataDir, 'owl.lock'), String(process.pid));
      const r = await owl(['keys', 'list'], { OWL_DATA_DIR: dataDir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`pid ${process.pid}.*control socket`));
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('owl serve start-up and keys', () => {
  it('refuses OWL_AUTH=off on a non-loopback address, saying why and how', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-keys-'));
    try {
      const r = await owl(['serve', '--port', '0'], { OWL_DATA_DIR: dataDir, OWL_AUTH: 'off', OWL_HOST: '0.0.0.0' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /OWL_AUTH=off is refused because the API would listen on 0\.0\.0\.0.*OWL_HOST=127\.0\.0\.1.*owl keys create/s);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('OWL_BOOTSTRAP_KEY_FILE makes its key an admin key, once; OWL_METRICS_TOKEN_FILE guards /metrics', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-keys-'));
    const secrets = mkdtempSync(path.join(tmpdir(), 'owl-secrets-'));
    const key = generateKey();
    writeFileSync(path.join(secrets, 'bootstrap'), `${key}\n`);
    writeFileSync(path.join(secrets, 'metrics'), 'scrape-token\n');
    const env = { OWL_DATA_DIR: dataDir, OWL_AUTH: 'required', OWL_BOOTSTRAP_KEY_FILE: path.join(secrets, 'bootstrap'), OWL_METRICS_TOKEN_FILE: path.join(secrets, 'metrics') };
    try {
      for (let run = 0; run < 2; run++) {
        const serve = await startServe(env);
        try {
          const keys = await fetch(`${serve.url}/keys`, { headers: { authorization: `Bearer ${key}` } });
          assert.equal(keys.status, 200);
          assert.deepEqual(((await keys.json()) as { keys: { name: string; scopes: string[] }[] }).keys.map((k) => [k.name, k.scopes]), [['bootstrap', ['admin']]]);
          assert.equal((await fetch(`${serve.url}/metrics`)).status, 401);
          assert.equal((await fetch(`${serve.url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } })).status, 200);
        } finally {
          serve.child.kill('SIGTERM');
          await serve.exited;
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(secrets, { recursive: true, force: true });
    }
  });
});
