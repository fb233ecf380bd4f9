import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALL_APP_METRICS } from '../../src/metrics/definitions.ts';
import { DASHBOARDS_DIR, buildDashboards, renderDashboard } from '../../monitoring/grafana/src/build.ts';
import type { Panel } from '../../monitoring/grafana/src/types.ts';

const built = buildDashboards();
const BUILDERS_DIR = join(DASHBOARDS_DIR, '..', 'src');

/** Literal ranges shorter than an hour belong to `$__rate_interval`; SLO windows (≥ 1h) are deliberate. */
function shortLiteralRanges(expr: string): string[] {
  return [...expr.matchAll(/\[(\d+)(ms|s|m|h|d|w|y)\]/g)].filter((m) => m[2] !== 'd' && m[2] !== 'w' && m[2] !== 'y' && !(m[2] === 'h' && Number(m[1]) >= 1)).map((m) => m[0]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('generated dashboards', () => {
  it('match the committed JSON exactly (run `npm run dashboards` after changing a builder)', () => {
    const committed = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(committed, [...built.keys()].sort(), 'dashboard files on disk differ from the builders');
    for (const [file, d] of built) {
      assert.equal(readFileSync(join(DASHBOARDS_DIR, file), 'utf8'), renderDashboard(d), `${file} is stale or hand-edited`);
    }
  });

  it('have unique, fixed uids and a generated-file note', () => {
    const uids = [...built.values()].map((d) => d.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const d of built.values()) {
      assert.match(d.uid, /^[a-z0-9-]{1,40}$/);
      assert.match(d.description, /do not edit/);
      assert.ok(d.tags.length > 0, `${d.uid} has no tags`);
      assert.equal(d.id, null);
      assert.ok(!('folder' in d) && !('folderUid' in d), `${d.uid} sets a folder; provisioning owns folders`);
    }
  });

  it('keep the plan\'s Crawler & Scraper panels first', () => {
    const d = built.get('crawler_scraper_dashboard.json');
    assert.ok(d);
    assert.equal(d.uid, 'crawler-scraper');
    assert.equal(d.title, 'Crawler & Scraper');
    assert.deepEqual(d.panels.slice(0, 4).map((p) => [p.type, p.title]), [
      ['stat', 'Proxy Pool Size'],
      ['timeseries', 'Pages Fetched (rate)'],
      ['timeseries', '403/429 (rate)'],
      ['timeseries', 'API P95 Latency'],
    ]);
  });

  for (const [file, d] of built) {
    describe(file, () => {
      const panels: Panel[] = d.panels;
      const queryPanels = panels.filter((p) => p.type !== 'row');

      it('declares a prometheus datasource variable that every panel and target uses', () => {
        const ds = d.templating.list.find((v) => v.name === 'datasource');
        assert.ok(ds, 'no datasource variable');
        assert.equal(ds.type, 'datasource');
        assert.equal(ds.query, 'prometheus');
        const grafanaVariable = '$' + '{datasource}';
        for (const p of queryPanels) {
          assert.equal(p.datasource?.uid, grafanaVariable, `panel "${p.title}"`);
          for (const t of p.targets ?? []) assert.equal(t.datasource.uid, grafanaVariable, `panel "${p.title}" target ${t.refId}`);
        }
      });

      it('numbers panels uniquely and gives every target a unique refId', () => {
        const ids = panels.map((p) => p.id);
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(ids.every((id) => Number.isInteger(id) && id > 0));
        for (const p of queryPanels) {
          const refIds = (p.targets ?? []).map((t) => t.refId);
          assert.ok(refIds.length > 0, `panel "${p.title}" has no query`);
          assert.ok(refIds.every((r) => /^[A-Z]$/.test(r)), `panel "${p.title}" refIds ${refIds}`);
          assert.equal(new Set(refIds).size, refIds.length, `panel "${p.title}" repeats a refId`);
        }
      });

      it('describes every panel, shows legends and sets units', () => {
        for (const p of queryPanels) {
          assert.ok(p.description && p.description.length > 10, `panel "${p.title}" has no description`);
          assert.ok(typeof p.fieldConfig?.defaults.unit === 'string', `panel "${p.title}" has no unit`);
          if (p.type === 'timeseries') {
            const legend = p.options?.legend as { showLegend?: boolean } | undefined;
            assert.equal(legend?.showLegend, true, `panel "${p.title}" hides its legend`);
            for (const t of p.targets ?? []) assert.ok(t.legendFormat, `panel "${p.title}" target ${t.refId} has no legend`);
          }
        }
      });

      it('uses $__rate_interval (or $__range in tables) instead of short literal ranges', () => {
        for (const p of queryPanels) {
          for (const t of p.targets ?? []) {
            assert.deepEqual(shortLiteralRanges(t.expr), [], `panel "${p.title}": ${t.expr}`);
            for (const m of t.expr.matchAll(/\b(?:rate|increase|irate)\([^[]*\[([^\]]+)\]/g)) {
              assert.ok(/^\$__rate_interval$|^\$__range$|^\d+[hdw]$/.test(m[1] ?? ''), `panel "${p.title}": range [${m[1]}] in ${t.expr}`);
            }
          }
        }
      });

      it('lays panels inside the 24-column grid without overlap', () => {
        const cells = new Set<string>();
        for (const p of panels) {
          const { x, y, w, h } = p.gridPos;
          assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `panel "${p.title}" gridPos ${JSON.stringify(p.gridPos)}`);
          for (let i = x; i < x + w; i++) {
            for (let j = y; j < y + h; j++) {
              assert.ok(!cells.has(`${i},${j}`), `panel "${p.title}" overlaps another`);
              cells.add(`${i},${j}`);
            }
          }
        }
      });
    });
  }

  it('builders never spell an app metric name as a literal (they import src/metrics/definitions.ts)', () => {
    const names = ALL_APP_METRICS.map((m) => m.name);
    for (const file of sourceFiles(BUILDERS_DIR)) {
      const text = readFileSync(file, 'utf8');
      for (const name of names) {
        assert.ok(!new RegExp(`['"\`]${name}(?:_bucket|_sum|_count)?[{'"\`]`).test(text), `${file} spells ${name}`);
      }
    }
  });
});
