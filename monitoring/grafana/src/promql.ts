/**
 * PromQL helpers for the builders, and a small extractor of the metric names an expression
 * reads (used by the metric contract test on dashboards and rule files alike).
 */

/** The range every rate()/increase() on a dashboard uses: Grafana sizes it to the scrape interval. */
export const RATE_INTERVAL = '$__rate_interval';

/** `metric{selector}`; the selector is the inside of the braces, e.g. `status_code=~"5.."`. */
export function sel(metric: string, selector = ''): string {
  return selector ? `${metric}{${selector}}` : metric;
}

/** `rate(metric{selector}[$__rate_interval])`. */
export function rate(metric: string, selector = ''): string {
  return `rate(${sel(metric, selector)}[${RATE_INTERVAL}])`;
}

/** `increase(metric{selector}[$__rate_interval])`. */
export function increase(metric: string, selector = ''): string {
  return `increase(${sel(metric, selector)}[${RATE_INTERVAL}])`;
}

/** `histogram_quantile(q, sum by (le, ...by) (rate(<histogram>_bucket{selector}[$__rate_interval])))`. */
export function quantile(q: number, histogram: string, by: readonly string[] = [], selector = ''): string {
  const labels = ['le', ...by].join(', ');
  return `histogram_quantile(${q}, sum by (${labels}) (${rate(`${histogram}_bucket`, selector)}))`;
}

const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan',
]);

/**
 * Metric names read by a PromQL expression (Grafana variables allowed). Strings, label
 * matchers, grouping clauses, ranges, numbers and function names are removed first; what is
 * left as a bare identifier is a metric name. `{__name__="x"}` selectors are not supported
 * (none of our expressions use them).
 */
export function metricNames(expr: string): Set<string> {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  s = s.replace(/(?<![\w:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)(?![\w:])/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const name = m[0];
    const rest = s.slice((m.index ?? 0) + name.length);
    if (/^\s*\(/.test(rest)) continue;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return names;
}

/** The dashboard's whole time range, for instant queries in tables. */
export const DASHBOARD_RANGE = '$__range';

/** `increase(metric{selector}[$__range])`: the total over the dashboard's time range. */
export function increaseOverRange(metric: string, selector = ''): string {
  return `increase(${sel(metric, selector)}[${DASHBOARD_RANGE}])`;
}
