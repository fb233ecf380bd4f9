/**
 * The API's availability SLO (config.slo): the share of requests answered with 5xx over each
 * window the burn-rate alerts use, and the multiwindow, multi-burn-rate alerts of the Google SRE
 * workbook (chapter "Alerting on SLOs"). The long window measures the burn; the short window
 * confirms it is still going on, so the alert resolves soon after the errors stop.
 */
import { API_METRICS } from '../../../../src/metrics/definitions.ts';
import { selectors, slo, type Duration } from '../config.ts';
import { alert, inWords, lines, percent, seconds, sel, theLast, type AlertRule, type RuleGroup } from '../rule.ts';

const requests = API_METRICS.httpRequests.name;
const api = selectors.api;

/** Name of the recorded 5xx share over `window`. */
export function errorRatioRecord(window: Duration): string {
  return `job:slo_api_errors:ratio_rate${window}`;
}

/** The windows the burn-rate alerts read, shortest first. */
function windows(): Duration[] {
  const all = [slo.fast.long, slo.fast.short, slo.slow.long, slo.slow.short] as Duration[];
  return [...new Set(all)].sort((a, b) => seconds(a) - seconds(b));
}

export function sloRecordingGroup(): RuleGroup {
  const rate = (w: Duration, ...matchers: string[]) => `sum by (job) (rate(${sel(requests, api, ...matchers)}[${w}]))`;
  return {
    name: 'slo.recording',
    rules: windows().map((w) => ({
      record: errorRatioRecord(w),
      expr: lines(`(${rate(w, 'status_code=~"5.."')} or ${rate(w)} * 0)`, `/ (${rate(w)} > 0)`),
    })),
  };
}

function burnAlert(name: string, b: (typeof slo)['fast' | 'slow'], severity: 'critical' | 'warning'): AlertRule {
  const threshold = `(${b.burnRate} * (1 - ${slo.objective}))`;
  const periodDays = seconds(slo.period) / 86_400;
  return alert({
    name,
    expr: lines(`${errorRatioRecord(b.long)} > ${threshold}`, 'and on (job)', `${errorRatioRecord(b.short)} > ${threshold}`),
    for: b.for,
    severity,
    component: 'api',
    summary: `API burns its ${percent(slo.objective)} % availability budget ${Math.round(b.burnRate)}x too fast`,
    description:
      `{{ $value | humanizePercentage }} of API requests failed over ${theLast(b.long)} (budget ${percent(1 - slo.objective)} %); ` +
      `at this rate the ${periodDays}-day budget is gone in about ${inWords(Math.round(periodDays / b.burnRate))} days.`,
  });
}

export function sloAlertGroup(): RuleGroup {
  return {
    name: 'slo.rules',
    rules: [burnAlert('APIErrorBudgetBurnFast', slo.fast, 'critical'), burnAlert('APIErrorBudgetBurnSlow', slo.slow, 'warning')],
  };
}
