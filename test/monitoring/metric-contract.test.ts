import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALL_APP_METRICS, PROCESS_METRIC_PREFIXES } from '../../src/metrics/definitions.ts';
import { buildDashboards } from '../../monitoring/grafana/src/build.ts';
import { EXPORTER_METRIC_NAMES } from '../../monitoring/grafana/src/exporter-metrics.ts';
import { metricNames } from '../../monitoring/grafana/src/promql.ts';

const RULES_DIR = join(import.meta.dirname, '..', '..', 'monitoring', 'prometheus', 'rules');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}

function ruleFiles(): string[] {
  return readdirSync(RULES_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
}

function rules(): { file: string; rule: Rule }[] {
  return ruleFiles().flatMap((file) => {
    const doc = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups?: { rules?: Rule[] }[] };
    return (doc.groups ?? []).flatMap((g) => (g.rules ?? []).map((rule) => ({ file, rule })));
  });
}

/** Names the app can emit: definitions, histogram series, prom-client defaults. */
function isAppMetric(name: string): boolean {
  if (PROCESS_METRIC_PREFIXES.some((p) => name.startsWith(p))) return true;
  return ALL_APP_METRICS.some((m) =>
    m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`].includes(name) : m.name === name,
  );
}

function unknown(names: Iterable<string>, extra: ReadonlySet<string> = new Set()): string[] {
  return [...names].filter((n) => !isAppMetric(n) && !EXPORTER_METRIC_NAMES.has(n) && !extra.has(n));
}

describe('metric contract', () => {
  it('the extractor finds metric names and ignores functions, labels, ranges and variables', () => {
    assert.deepEqual(
      [...metricNames('histogram_quantile(0.95, sum by (le, site) (rate(scrape_latency_seconds_bucket{job=~"api|workers", site!="x"}[$__rate_interval]))) > 1e3 and on (site) up offset 5m')].sort(),
      ['scrape_latency_seconds_bucket', 'up'],
    );
    assert.deepEqual([...metricNames('sum(a_total) by (x) / ignoring(y) group_left(z) b:rec:rate5m or vector(0)')].sort(), ['a_total', 'b:rec:rate5m']);
  });

  it('there are rule files to check', () => {
    assert.ok(ruleFiles().length > 0, `no rule files in ${RULES_DIR}`);
    assert.ok(rules().length > 0, 'rule files hold no rules');
  });

  it('every metric a rule reads is emitted by the app or a known exporter (or recorded by a rule)', () => {
    const all = rules();
    const recorded = new Set(all.flatMap(({ rule }) => (rule.record ? [rule.record] : [])));
    const problems = all.flatMap(({ file, rule }) =>
      unknown(metricNames(rule.expr), recorded).map((n) => `${file} ${rule.alert ?? rule.record}: ${n}`),
    );
    assert.deepEqual(problems, [], 'rules read metrics nothing emits');
  });

  it('every metric a dashboard queries is emitted by the app or a known exporter (or recorded by a rule)', () => {
    const recorded = new Set(rules().flatMap(({ rule }) => (rule.record ? [rule.record] : [])));
    const problems: string[] = [];
    for (const [file, d] of buildDashboards()) {
      for (const p of d.panels) {
        for (const t of p.targets ?? []) problems.push(...unknown(metricNames(t.expr), recorded).map((n) => `${file} "${p.title}": ${n}`));
      }
    }
    assert.deepEqual(problems, [], 'dashboards query metrics nothing emits');
  });

  it('every app metric appears on at least one dashboard', () => {
    const used = new Set<string>();
    for (const d of buildDashboards().values()) {
      for (const p of d.panels) for (const t of p.targets ?? []) for (const n of metricNames(t.expr)) used.add(n.replace(/_(bucket|sum|count)$/, ''));
    }
    const missing = ALL_APP_METRICS.map((m) => m.name).filter((n) => !used.has(n));
    assert.deepEqual(missing, [], 'app metrics no dashboard shows');
  });
});
