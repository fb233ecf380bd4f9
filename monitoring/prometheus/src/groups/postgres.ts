/** PostgreSQL (scale-out store) as postgres_exporter sees it. */
import { POSTGRES, PROMETHEUS } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors } from '../config.ts';
import { alert, lines, sel, spoken, type RuleGroup } from '../rule.ts';

export function postgresAlertGroup(): RuleGroup {
  const pg = selectors.postgres;
  const down = alerts.PostgresDown;
  const exporterDown = alerts.PostgresExporterDown;
  const saturated = alerts.PostgresConnectionsSaturated;
  return {
    name: 'postgres.rules',
    rules: [
      alert({
        name: 'PostgresDown',
        expr: `${sel(POSTGRES.up, pg)} == 0`,
        for: down.for,
        severity: 'critical',
        component: 'postgres',
        summary: 'PostgreSQL is unreachable',
        description: `postgres-exporter {{ $labels.instance }} cannot connect to PostgreSQL (pg_up = 0) for ${spoken(down.for)}.`,
        comment: [
          'pg_up is the exporter\'s verdict on the database; up{job="postgres"} only says the',
          'exporter itself answered (plan bug: the plan alerted on the latter as "PostgresDown").',
        ].join('\n'),
      }),
      alert({
        name: 'PostgresExporterDown',
        expr: `${sel(PROMETHEUS.up, pg)} == 0`,
        for: exporterDown.for,
        severity: 'warning',
        component: 'postgres',
        summary: 'postgres-exporter does not answer',
        description: `Prometheus could not scrape postgres-exporter at {{ $labels.instance }} for ${spoken(exporterDown.for)}; the database itself may be fine.`,
      }),
      alert({
        name: 'PostgresConnectionsSaturated',
        expr: lines(
          `sum by (instance) (${sel(POSTGRES.activityCount, pg)})`,
          '/',
          `max by (instance) (${sel(POSTGRES.maxConnections, pg)})`,
          `> ${saturated.connectionShare}`,
        ),
        for: saturated.for,
        severity: 'warning',
        component: 'postgres',
        summary: 'PostgreSQL connections near max_connections',
        description: '{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.instance }}.',
      }),
    ],
  };
}
