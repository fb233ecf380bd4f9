/**
 * Builds every Grafana dashboard from TypeScript and writes them to monitoring/grafana/dashboards/.
 * Run with `npm run dashboards`; test/monitoring/dashboards.test.ts fails when the committed JSON
 * differs from what this produces.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiDashboard } from './dashboards/api.ts';
import { containersDashboard } from './dashboards/containers.ts';
import { crawlerScraperDashboard } from './dashboards/crawler-scraper.ts';
import { databaseDashboard } from './dashboards/database.ts';
import { hostDashboard } from './dashboards/host.ts';
import { probesDashboard } from './dashboards/probes.ts';
import { proxyPoolDashboard } from './dashboards/proxy-pool.ts';
import { redisDashboard } from './dashboards/redis.ts';
import { workersDashboard } from './dashboards/workers.ts';
import type { Dashboard } from './types.ts';

/** Folder the generated JSON lives in (provisioned into Grafana by F1's provider). */
export const DASHBOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');

/** File name → dashboard, in a fixed order. */
export function buildDashboards(): Map<string, Dashboard> {
  return new Map<string, Dashboard>([
    ['crawler_scraper_dashboard.json', crawlerScraperDashboard()],
    ['proxypool_dashboard.json', proxyPoolDashboard()],
    ['database_dashboard.json', databaseDashboard()],
    ['api_dashboard.json', apiDashboard()],
    ['workers_dashboard.json', workersDashboard()],
    ['host_dashboard.json', hostDashboard()],
    ['containers_dashboard.json', containersDashboard()],
    ['redis_dashboard.json', redisDashboard()],
    ['probes_dashboard.json', probesDashboard()],
  ]);
}

/** The exact text written to disk: two-space JSON with a final newline. */
export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

function main(): void {
  mkdirSync(DASHBOARDS_DIR, { recursive: true });
  for (const [file, d] of buildDashboards()) {
    writeFileSync(join(DASHBOARDS_DIR, file), renderDashboard(d));
    console.log(`wrote ${join('monitoring/grafana/dashboards', file)} (${d.panels.length} panels)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
