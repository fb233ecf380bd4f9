/**
 * The monitoring itself: Prometheus, Alertmanager, and the always-firing Watchdog (a dead man's
 * switch: if its notifications stop arriving, the alerting pipeline is broken).
 */
import { PROMETHEUS } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors } from '../config.ts';
import { alert, sel, spoken, type RuleGroup } from '../rule.ts';

export function metaAlertGroup(): RuleGroup {
  const { prometheus, alertmanager } = selectors;
  const promReload = alerts.PrometheusConfigReloadFailed;
  const evalFailures = alerts.PrometheusRuleEvaluationFailures;
  const notifications = alerts.AlertmanagerNotificationsFailing;
  const amReload = alerts.AlertmanagerConfigReloadFailed;
  return {
    name: 'meta.rules',
    rules: [
      alert({
        name: 'PrometheusConfigReloadFailed',
        expr: `${sel(PROMETHEUS.configReloadSuccess, prometheus)} == 0`,
        for: promReload.for,
        severity: 'warning',
        component: 'monitoring',
        summary: 'Prometheus could not reload its configuration',
        description: 'The last configuration reload of {{ $labels.instance }} failed; it still runs the previous configuration.',
      }),
      alert({
        name: 'PrometheusRuleEvaluationFailures',
        expr: `increase(${sel(PROMETHEUS.ruleEvaluationFailures, prometheus)}[${evalFailures.window}]) > 0`,
        for: evalFailures.for,
        severity: 'critical',
        component: 'monitoring',
        summary: 'Prometheus fails to evaluate rules',
        description: `{{ $value | humanize }} evaluations of rule group {{ $labels.rule_group }} failed in ${spoken(evalFailures.window)}; alerts of that group may be blind.`,
      }),
      alert({
        name: 'AlertmanagerNotificationsFailing',
        expr: `sum by (instance, integration) (increase(${sel(PROMETHEUS.alertmanagerNotificationsFailed, alertmanager)}[${notifications.window}])) > 0`,
        for: notifications.for,
        severity: 'warning',
        component: 'monitoring',
        summary: 'Alertmanager cannot deliver {{ $labels.integration }} notifications',
        description: `{{ $value | humanize }} {{ $labels.integration }} notifications failed in ${spoken(notifications.window)} on {{ $labels.instance }}.`,
      }),
      alert({
        name: 'AlertmanagerConfigReloadFailed',
        expr: `${sel(PROMETHEUS.alertmanagerConfigReloadSuccess, alertmanager)} == 0`,
        for: amReload.for,
        severity: 'warning',
        component: 'monitoring',
        summary: 'Alertmanager could not reload its configuration',
        description: 'The last configuration reload of {{ $labels.instance }} failed; it still runs the previous configuration.',
      }),
      alert({
        name: 'Watchdog',
        expr: 'vector(1)',
        for: '0s',
        severity: 'none',
        component: 'monitoring',
        summary: 'Alerting pipeline heartbeat (always firing)',
        description: 'This alert always fires. If its notifications stop arriving at the heartbeat receiver, Prometheus or Alertmanager is broken.',
      }),
    ],
  };
}
