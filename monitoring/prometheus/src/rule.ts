/**
 * The shapes of Prometheus rule files and the helpers every rule module uses: `alert()` gives each
 * alert the labels and annotations the house requires (severity, component, summary, description,
 * runbook_url), `record()` a recording rule, and a few PromQL and text helpers.
 */
import { RUNBOOK_BASE, type Duration } from './config.ts';

export type Severity = 'critical' | 'warning' | 'info' | 'none';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: Duration;
  labels: { severity: Severity; component: string };
  annotations: { summary: string; description: string; runbook_url: string };
  /** Written as a YAML comment above the rule: why the expression looks the way it does. */
  comment?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
  comment?: string;
}

export type Rule = AlertRule | RecordingRule;

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export interface AlertSpec {
  name: string;
  expr: string;
  /** Omitted from the file when 0s (Prometheus' default). */
  for: Duration;
  severity: Severity;
  /** What the alert is about (`api`, `crawler`, `postgres`, …): Alertmanager inhibits by it. */
  component: string;
  summary: string;
  /** Should template a value (`{{ $value }}`, `{{ $labels.instance }}`) so the message says what is wrong. */
  description: string;
  comment?: string;
}

/** An alerting rule with the runbook link derived from its name (docs/runbooks.md has a section per alert). */
export function alert(s: AlertSpec): AlertRule {
  return {
    alert: s.name,
    expr: s.expr,
    ...(s.for === '0s' ? {} : { for: s.for }),
    labels: { severity: s.severity, component: s.component },
    annotations: { summary: s.summary, description: s.description, runbook_url: runbookUrl(s.name) },
    ...(s.comment ? { comment: s.comment } : {}),
  };
}

export function record(name: string, expr: string, options: { labels?: Record<string, string>; comment?: string } = {}): RecordingRule {
  return { record: name, expr, ...(options.labels ? { labels: options.labels } : {}), ...(options.comment ? { comment: options.comment } : {}) };
}

export function runbookUrl(alertName: string): string {
  return `${RUNBOOK_BASE}#${alertName.toLowerCase()}`;
}

export function isAlert(rule: Rule): rule is AlertRule {
  return 'alert' in rule;
}

/** `metric{a,b}`: the matchers joined inside the braces (none: the bare name). */
export function sel(metric: string, ...matchers: string[]): string {
  const inner = matchers.filter((m) => m !== '').join(',');
  return inner ? `${metric}{${inner}}` : metric;
}

/** Lines of a multi-line expression (written as a YAML block). */
export function lines(...parts: string[]): string {
  return parts.join('\n');
}

/** 0.1 → "10", 0.995 → "99.5": a share as a percentage for texts. */
export function percent(share: number): string {
  return String(Number((share * 100).toFixed(6)));
}

const UNIT_WORDS: Record<string, [string, string]> = { s: ['second', 'seconds'], m: ['minute', 'minutes'], h: ['hour', 'hours'], d: ['day', 'days'] };

function parts(d: Duration): { n: number; one: string; many: string } {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  const [one, many] = UNIT_WORDS[m[2] as string] as [string, string];
  return { n: Number(m[1]), one, many };
}

/** "5m" → "5 minutes", "1m" → "1 minute": durations in texts. */
export function spoken(d: Duration): string {
  const { n, one, many } = parts(d);
  return `${n} ${n === 1 ? one : many}`;
}

/** "5m" → "the last 5 minutes", "1h" → "the last hour". */
export function theLast(d: Duration): string {
  const { n, one } = parts(d);
  return n === 1 ? `the last ${one}` : `the last ${spoken(d)}`;
}

/** Seconds in a duration. */
export function seconds(d: Duration): number {
  const { n, one } = parts(d);
  return n * { second: 1, minute: 60, hour: 3600, day: 86400 }[one as 'second' | 'minute' | 'hour' | 'day'];
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** 2 → "two" (up to ten, then digits), for texts that read better in words. */
export function inWords(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}
