import { BLACKBOX } from '../exporter-metrics.ts';
import { dashboard, q, stat, timeseries } from '../panels.ts';
import type { Dashboard } from '../types.ts';

/** Black-box HTTP probes of the API's /healthz (blackbox_exporter, module http_2xx). */
export function probesDashboard(): Dashboard {
  return dashboard({
    uid: 'probes',
    title: 'Probes',
    description: 'Outside-in HTTP probes (blackbox_exporter): success, status code and time per phase.',
    tags: ['blackbox', 'probes'],
    panels: [
      stat({
        title: 'Probes succeeding',
        description: 'Share of probed endpoints answering 2xx right now.',
        queries: [q(`avg(${BLACKBOX.success})`, 'success')],
        unit: 'percentunit',
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
        w: 8,
      }),
      stat({
        title: 'Slowest probe',
        description: 'Longest probe duration right now.',
        queries: [q(`max(${BLACKBOX.duration})`, 'slowest')],
        unit: 's',
        thresholds: [{ color: 'orange', value: 0.5 }, { color: 'red', value: 2 }],
        w: 8,
      }),
      stat({
        title: 'Status codes',
        description: 'HTTP status code of each probed endpoint.',
        queries: [q(`max by (instance) (${BLACKBOX.httpStatusCode})`, '{{instance}}')],
        w: 8,
      }),
      timeseries({
        title: 'Probe success by target',
        description: '1 when the target answered as the module expects.',
        queries: [q(`min by (instance) (${BLACKBOX.success})`, '{{instance}}')],
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'Probe duration by target',
        description: 'Time of the whole probe per target.',
        queries: [q(`max by (instance) (${BLACKBOX.duration})`, '{{instance}}')],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: 'HTTP time by phase',
        description: 'Time per phase (resolve, connect, tls, processing, transfer), summed over targets.',
        queries: [q(`sum by (phase) (${BLACKBOX.httpDuration})`, '{{phase}}')],
        unit: 's',
        min: 0,
        stack: true,
        w: 24,
      }),
    ],
  });
}
