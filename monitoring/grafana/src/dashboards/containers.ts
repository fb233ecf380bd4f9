import { CADVISOR } from '../exporter-metrics.ts';
import { dashboard, q, timeseries } from '../panels.ts';
import { rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** cAdvisor labels every container; the root cgroup and unnamed ones are left out. */
const NAMED = 'name!=""';

/** Containers as cAdvisor sees them (Docker deployments only). */
export function containersDashboard(): Dashboard {
  return dashboard({
    uid: 'containers',
    title: 'Containers',
    description: 'CPU, memory and network per container (cAdvisor). Empty on hosts without Docker.',
    tags: ['containers', 'cadvisor'],
    panels: [
      timeseries({
        title: 'CPU by container',
        description: 'CPU cores used by each container.',
        queries: [q(`sum by (name) (${rate(CADVISOR.cpuUsage, NAMED)})`, '{{name}}')],
        unit: 'percentunit',
        min: 0,
      }),
      timeseries({
        title: 'Memory working set by container',
        description: 'Memory the kernel cannot reclaim, per container; the OOM killer acts on this.',
        queries: [q(`sum by (name) (${CADVISOR.memoryWorkingSet}{${NAMED}})`, '{{name}}')],
        unit: 'bytes',
        min: 0,
      }),
      timeseries({
        title: 'Network by container',
        description: 'Bytes received and sent per second, per container.',
        queries: [
          q(`sum by (name) (${rate(CADVISOR.networkReceive, NAMED)})`, '{{name}} in'),
          q(`sum by (name) (${rate(CADVISOR.networkTransmit, NAMED)})`, '{{name}} out'),
        ],
        unit: 'Bps',
      }),
      timeseries({
        title: 'Container uptime',
        description: 'Time since each container started; a saw-tooth means restarts.',
        queries: [q(`time() - max by (name) (${CADVISOR.startTime}{${NAMED}})`, '{{name}}')],
        unit: 's',
        min: 0,
      }),
    ],
  });
}
