import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { chooseEntry } from '../../bin/entry.js';
import { migrationsDir } from '../../src/store/migration-files.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('which code owl runs (bin/entry.js)', () => {
  let dir: string;
  const at = (file: string, seconds: number) => {
    const full = path.join(dir, file);
    mkdirSync(path.dirname(full), { recursive: true });
    if (!existsSync(full)) writeFileSync(full, '');
    utimesSync(full, seconds, seconds);
  };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'owl-entry-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the sources while there is no build, the build while it is newer than every source', () => {
    at('src/bin/owl.ts', 1_000);
    at('src/bin', 1_000);
    at('src', 1_000);
    assert.equal(chooseEntry(dir), 'src');
    at('dist/owl.js', 2_000);
    assert.equal(chooseEntry(dir), 'dist');
  });

  it('the sources again once a file is edited, added or removed after the build', () => {
    at('src/bin/owl.ts', 3_000);
    assert.equal(chooseEntry(dir), 'src', 'edited');
    at('src/bin/owl.ts', 1_000);
    assert.equal(chooseEntry(dir), 'dist');
    // Adding or removing a file moves its folder's time.
    at('src/bin', 3_000);
    assert.equal(chooseEntry(dir), 'src', 'a file added or removed');
  });

  it('the build when there are no sources (the container image)', () => {
    rmSync(path.join(dir, 'src'), { recursive: true });
    assert.equal(chooseEntry(dir), 'dist');
  });
});

describe('the migrations folder, from the sources and from the build', () => {
  it('is beside the module in src/store/<dialect>/, dist/migrations/<dialect> in the build', () => {
    assert.equal(migrationsDir('file:///app/src/store/sqlite/migrations.ts', 'sqlite'), '/app/src/store/sqlite/migrations');
    assert.equal(migrationsDir('file:///app/dist/chunks/sqlite-X.js', 'sqlite'), '/app/dist/migrations/sqlite');
    assert.equal(migrationsDir('file:///app/dist/owl.js', 'postgres'), '/app/dist/migrations/postgres');
    assert.ok(existsSync(migrationsDir(new URL('../../src/store/postgres/migrate.ts', import.meta.url).href, 'postgres')));
  });
});

describe('the compiled build (scripts/build.js)', () => {
  let out: string;
  let site: FixtureSite;
  let dataDir: string;
  before(async () => {
    // Inside node_modules so that the build's imports of packages resolve, as they do from dist/.
    mkdirSync(path.join(ROOT, 'node_modules/.cache'), { recursive: true });
    out = mkdtempSync(path.join(ROOT, 'node_modules/.cache/owl-build-test-'));
    const r = spawnSync(process.execPath, ['scripts/build.js', '--outdir', out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    site = await startFixtureSite({ graphSize: 10, linksPerPage: 2 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'owl-build-'));
  });
  after(async () => {
    await site?.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has source maps back to the TypeScript sources', () => {
    const map = JSON.parse(readFileSync(path.join(out, 'owl.js.map'), 'utf8'));
    assert.ok(map.sources.some((s: string) => s.endsWith('src/bin/owl.ts')), map.sources.join(', '));
    assert.match(readFileSync(path.join(out, 'owl.js'), 'utf8'), /\/\/# sourceMappingURL=owl\.js\.map\s*$/);
  });

  it('maps a stack trace through the build to the TypeScript sources (bin/source-maps.js, as bin/owl.js runs dist/)', () => {
    // What bin/owl.js does for dist/, on this build: an internal error prints its stack.
    const driver = path.join(out, 'driver.mjs');
    writeFileSync(driver, `import { lazySourceMaps } from ${JSON.stringify(path.join(ROOT, 'bin/source-maps.js'))};\nlazySourceMaps(${JSON.stringify(out)});\nawait import('./owl.js');\n`);
    const notADir = path.join(dataDir, 'a-file');
    writeFileSync(notADir, '');
    const r = spawnSync(process.execPath, [driver, 'crawl', 'http://127.0.0.1:9/'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_DATA_DIR: notADir } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^owl: Error: ENOTDIR/, r.stderr);
    assert.match(r.stderr, /\n {4}at new SqliteCore \(.*\/src\/store\/sqlite\/core\.ts:\d+:\d+\)\n/, r.stderr);
    assert.doesNotMatch(r.stderr, /chunks\//, r.stderr);
  });

  it('writes readable logs on a terminal through pino-pretty in a worker (pino bundled, its worker files in node_modules)', async () => {
    // `script` gives the crawl a terminal, so its logger is pino's pretty transport (src/log.ts).
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(out, 'owl.js'))} crawl ${site.url}/graph/0 --max-pages 2 --host-delay 0`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_DATA_DIR: dataDir, OWL_LOG_LEVEL: 'debug' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, output);
    const text = stripVTControlCharacters(output).replace(/\r\n/g, '\n');
    assert.match(text, /\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG \(owl\): page fetched\n/, text);
    assert.match(text, /done: 2 pages fetched/, text);
  });

  it('runs a crawl end to end: SQLite migrations read from the build, pages stored', async () => {
    const child = spawn(process.execPath, ['--enable-source-maps', path.join(out, 'owl.js'), 'crawl', `${site.url}/graph/0`, '--host-delay', '0', '--json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, OWL_DATA_DIR: dataDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.status, 'done');
    assert.equal(summary.pages, 10);
  });
});
