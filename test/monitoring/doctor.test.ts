/**
 * `make monitor-check` against a real Prometheus and blackbox-exporter. The blackbox job is the
 * committed `blackbox-http` job (its relabelling included) pointed at loopback: an API that
 * answers, one that answers 503, a port where another service answers 200 with the wrong body,
 * and a port nothing listens on. Every one of these targets is `up` (the exporter answers each
 * scrape); only the probes tell them apart, and so must the doctor.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { fetchTargets, report, type TargetInfo } from '../../scripts/monitor/doctor.ts';
import { MONITORING_DIR, REPO_ROOT } from '../../scripts/monitor/native-config.ts';
import { GiveUp, Managed, answers, freePort, waitFor } from './harness.ts';

describe('make monitor-check (doctor) judges blackbox probes by probe_success', { timeout: 120_000 }, () => {
  let dir = '';
  let server: Server;
  let prometheus: Managed;
  let blackbox: Managed;
  let promUrl = '';
  const urls = { ok: '', unhealthy: '', wrongBody: '', closed: '' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'owl-doctor-'));
    server = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else if (req.url === '/unhealthy') res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"down"}');
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>someone else</h1>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    Object.assign(urls, { ok: `${base}/healthz`, unhealthy: `${base}/unhealthy`, wrongBody: `${base}/other`, closed: `http://127.0.0.1:${await freePort()}/healthz` });

    const [promPort, blackboxPort] = [await freePort(), await freePort()];
    const committed = parse(readFileSync(join(MONITORING_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: Record<string, any>[] };
    const job = structuredClone(committed.scrape_configs.find((j) => j.job_name === 'blackbox-http'));
    assert.ok(job, 'prometheus.yml has no blackbox-http job');
    job.static_configs = [{ targets: Object.values(urls) }];
    for (const r of job.relabel_configs) if (r.target_label === '__address__') r.replacement = `127.0.0.1:${blackboxPort}`;
    const config = join(dir, 'prometheus.yml');
    // A 1 s scrape timeout leaves the exporter 0.5 s per probe, which a loaded CI machine
    // overran (the scrape timed out and the target was down); 3 s leaves 2.5 s.
    writeFileSync(config, stringify({ global: { scrape_interval: '3s', scrape_timeout: '3s', evaluation_interval: '3s' }, scrape_configs: [job] }));

    blackbox = new Managed({
      name: 'blackbox-exporter',
      command: 'prometheus-blackbox-exporter',
      args: [`--config.file=${join(MONITORING_DIR, 'blackbox', 'config.yml')}`, `--web.listen-address=127.0.0.1:${blackboxPort}`, '--log.level=warn'],
    }, dir);
    prometheus = new Managed({
      name: 'prometheus',
      command: 'prometheus',
      args: [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    }, dir);
    blackbox.start();
    prometheus.start();
    promUrl = `http://127.0.0.1:${promPort}`;
    for (const [p, url] of [[blackbox, `http://127.0.0.1:${blackboxPort}/metrics`], [prometheus, `${promUrl}/-/ready`]] as const) {
      await waitFor(`${p.spec.name} to answer`, () => {
        if (!p.running) throw new GiveUp(`${p.spec.name} exited:\n${p.tail()}`);
        return answers(url);
      }, 30_000);
    }
  });

  after(async () => {
    await Promise.all([prometheus?.stop(), blackbox?.stop()]);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports the failing probes with their causes although every target is up, and exits 1', async () => {
    // Discovery waits about 5 s after start; then each target needs one probe on record from a
    // scrape that succeeded. A scrape that times out on a busy machine makes its target down
    // until the next one; the last state seen is named if none ever comes.
    let seen: TargetInfo[] = [];
    const targets = await waitFor('a probe result for every target, every target up', async () => {
      seen = await fetchTargets(promUrl);
      return seen.length === 4 && seen.every((t) => t.probe !== undefined && t.health === 'up') ? seen : false;
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\nlast seen: ${JSON.stringify(seen.map((t) => ({ instance: t.instance, health: t.health, lastError: t.lastError, probe: t.probe })))}`);
    });
    const byUrl = (url: string): TargetInfo => {
      const t = targets.find((x) => x.instance === url);
      assert.ok(t, `no target ${url}`);
      return t;
    };
    assert.ok(targets.every((t) => t.health === 'up'), 'the exporter answered every scrape, so Prometheus calls every target up');
    assert.deepEqual([urls.ok, urls.unhealthy, urls.wrongBody, urls.closed].map((u) => byUrl(u).probe?.success), [true, false, false, false]);

    const { lines, healthy } = report(targets);
    const text = lines.join('\n');
    assert.equal(healthy, false, text);
    assert.match(text, new RegExp(`^UP\\s+blackbox-http\\s+${urls.ok}$`, 'm'));
    const causeOf = (url: string) => {
      const at = lines.findIndex((l) => new RegExp(`^FAILED\\s+blackbox-http\\s+${url}$`).test(l));
      assert.ok(at >= 0, `${url} not reported FAILED:\n${text}`);
      return lines.slice(at + 1, at + 3).join('\n');
    };
    assert.match(causeOf(urls.closed), /nothing answers at/);
    assert.match(causeOf(urls.unhealthy), /answers HTTP 503, not 2xx/);
    assert.match(causeOf(urls.wrongBody), /answers HTTP 200 but not with the body/);
    assert.match(text, /^1\/4 targets up \(3 failing probes\)$/m);

    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'monitor', 'doctor.ts'), promUrl], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(cli.status, 1, cli.stdout + cli.stderr);
    assert.match(cli.stdout, new RegExp(`^FAILED\\s+blackbox-http\\s+${urls.closed}$`, 'm'));
  });
});
