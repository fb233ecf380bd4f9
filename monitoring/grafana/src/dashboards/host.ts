import { alerts } from '../../../prometheus/src/config.ts';
import { percent, spoken } from '../../../prometheus/src/rule.ts';
import { NODE } from '../exporter-metrics.ts';
import { dashboard, gauge, q, timeseries } from '../panels.ts';
import { rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** Pseudo file systems left out of disk usage. */
const REAL_FILESYSTEMS = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|proc|sysfs"';

/** The host as node_exporter sees it. */
export function hostDashboard(): Dashboard {
  const cpuBusy = `1 - avg by (instance) (${rate(NODE.cpuSeconds, 'mode="idle"')})`;
  const memUsed = `1 - sum by (instance) (${NODE.memAvailable}) / sum by (instance) (${NODE.memTotal})`;
  const diskUsed = `max by (instance) (1 - ${NODE.filesystemAvail}{${REAL_FILESYSTEMS}} / ${NODE.filesystemSize}{${REAL_FILESYSTEMS}})`;
  return dashboard({
    uid: 'host',
    title: 'Host',
    description: 'CPU, load, memory, disk and network of each host (node_exporter).',
    tags: ['host', 'node'],
    panels: [
      gauge({
        title: 'CPU busy',
        description: `Share of CPU time not idle, all cores. NodeHighCPU fires above ${percent(alerts.NodeHighCPU.busyShare)}% for ${spoken(alerts.NodeHighCPU.for)}.`,
        queries: [q(cpuBusy, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'orange', value: 0.7 }, { color: 'red', value: alerts.NodeHighCPU.busyShare }],
        w: 8,
      }),
      gauge({
        title: 'Memory used',
        description: 'Share of memory not available to new processes.',
        queries: [q(memUsed, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'orange', value: 0.8 }, { color: 'red', value: 0.95 }],
        w: 8,
      }),
      gauge({
        title: 'Fullest file system',
        description: 'Used share of the fullest real file system.',
        queries: [q(diskUsed, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'orange', value: 0.8 }, { color: 'red', value: 0.9 }],
        w: 8,
      }),
      timeseries({
        title: 'CPU busy by instance',
        description: 'Share of CPU time not idle.',
        queries: [q(cpuBusy, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'Load average',
        description: 'Runnable processes averaged over 1, 5 and 15 minutes; above the core count, work queues up.',
        queries: [
          q(`max by (instance) (${NODE.load1})`, '{{instance}} 1m'),
          q(`max by (instance) (${NODE.load5})`, '{{instance}} 5m'),
          q(`max by (instance) (${NODE.load15})`, '{{instance}} 15m'),
        ],
        min: 0,
      }),
      timeseries({
        title: 'Memory used',
        description: 'Share of memory not available to new processes.',
        queries: [q(memUsed, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'File system used',
        description: 'Used share of each real file system.',
        queries: [q(`1 - ${NODE.filesystemAvail}{${REAL_FILESYSTEMS}} / ${NODE.filesystemSize}{${REAL_FILESYSTEMS}}`, '{{instance}} {{mountpoint}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'Network traffic',
        description: 'Bytes received and sent per second, by interface (loopback excluded).',
        queries: [
          q(`sum by (instance, device) (${rate(NODE.networkReceive, 'device!="lo"')})`, '{{instance}} {{device}} in'),
          q(`sum by (instance, device) (${rate(NODE.networkTransmit, 'device!="lo"')})`, '{{instance}} {{device}} out'),
        ],
        unit: 'Bps',
      }),
      timeseries({
        title: 'Disk I/O',
        description: 'Bytes read and written per second and the share of time each disk was busy.',
        queries: [
          q(`sum by (instance) (${rate(NODE.diskRead)})`, '{{instance}} read'),
          q(`sum by (instance) (${rate(NODE.diskWritten)})`, '{{instance}} written'),
        ],
        unit: 'Bps',
        min: 0,
      }),
      timeseries({
        title: 'Disk busy',
        description: 'Share of time each disk had I/O in progress; near 1 the disk is saturated.',
        queries: [q(`max by (instance, device) (${rate(NODE.diskIoTime)})`, '{{instance}} {{device}}')],
        unit: 'percentunit',
        min: 0,
        w: 24,
      }),
    ],
  });
}
