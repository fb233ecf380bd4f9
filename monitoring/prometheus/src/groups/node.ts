/** The host, from node_exporter. */
import { NODE } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors, type Duration } from '../config.ts';
import { alert, percent, record, sel, spoken, type RuleGroup } from '../rule.ts';

/** Busy share of all CPUs of each host over `window` (1 - idle share). */
function cpuBusy(window: Duration): string {
  return `1 - avg by (instance) (rate(${sel(NODE.cpuSeconds, selectors.node, 'mode="idle"')}[${window}]))`;
}

export function nodeGroup(): RuleGroup {
  const cpu = alerts.NodeHighCPU;
  return {
    name: 'node.rules',
    rules: [
      record('instance:node_cpu_utilisation:rate5m', cpuBusy('5m')),
      alert({
        name: 'NodeHighCPU',
        expr: `${cpuBusy(cpu.window)} > ${cpu.busyShare}`,
        for: cpu.for,
        severity: 'warning',
        component: 'node',
        summary: `Host CPU above ${percent(cpu.busyShare)} %`,
        description: `{{ $labels.instance }} has been {{ $value | humanizePercentage }} busy for ${spoken(cpu.for)}.`,
        comment: [
          'Busy share = 1 - idle share, averaged over the CPUs (plan bug: averaging the seven',
          'non-idle modes gives about 0.14 on a fully busy host, so it never reached 0.9).',
        ].join('\n'),
      }),
    ],
  };
}
