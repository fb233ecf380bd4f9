/** Scrape targets and blackbox probes: anything Prometheus cannot reach. */
import { BLACKBOX, PROMETHEUS } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors } from '../config.ts';
import { alert, sel, spoken, type RuleGroup } from '../rule.ts';

export function targetsAlertGroup(): RuleGroup {
  const down = alerts.TargetDown;
  const probe = alerts.BlackboxProbeFailed;
  return {
    name: 'targets.rules',
    rules: [
      alert({
        name: 'TargetDown',
        expr: `${PROMETHEUS.up} == 0`,
        for: down.for,
        severity: 'warning',
        component: 'monitoring',
        summary: 'Scrape target {{ $labels.job }}/{{ $labels.instance }} is down',
        description: `Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for ${spoken(down.for)}.`,
        comment: [
          'WorkerDown and PostgresExporterDown fire earlier for their jobs and inhibit this one',
          'in Alertmanager, so a target is reported once.',
        ].join('\n'),
      }),
      alert({
        name: 'BlackboxProbeFailed',
        expr: `${sel(BLACKBOX.success, selectors.probes)} == 0`,
        for: probe.for,
        severity: 'critical',
        component: 'probe',
        summary: 'Probe of {{ $labels.instance }} fails',
        description: `The {{ $labels.job }} probe of {{ $labels.instance }} has failed for ${spoken(probe.for)}.`,
      }),
    ],
  };
}
