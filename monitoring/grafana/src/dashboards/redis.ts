import { REDIS } from '../exporter-metrics.ts';
import { dashboard, q, stat, timeseries } from '../panels.ts';
import { rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** Redis as redis_exporter sees it. */
export function redisDashboard(): Dashboard {
  const hits = `sum(${rate(REDIS.keyspaceHits)})`;
  const misses = `sum(${rate(REDIS.keyspaceMisses)})`;
  return dashboard({
    uid: 'redis',
    title: 'Redis',
    description: 'Availability, clients, memory, commands and keyspace of Redis (redis_exporter).',
    tags: ['redis'],
    panels: [
      stat({
        title: 'Redis up',
        description: 'redis_up: 1 when the exporter could talk to Redis.',
        queries: [q(`min(${REDIS.up})`, 'up')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
      }),
      stat({
        title: 'Connected clients',
        description: 'Client connections open now.',
        queries: [q(`sum(${REDIS.connectedClients})`, 'clients')],
      }),
      stat({
        title: 'Memory used',
        description: 'Memory allocated by Redis.',
        queries: [q(`sum(${REDIS.memoryUsed})`, 'used')],
        unit: 'bytes',
      }),
      stat({
        title: 'Uptime',
        description: 'Time since Redis started.',
        queries: [q(`min(${REDIS.uptime})`, 'uptime')],
        unit: 's',
      }),
      timeseries({
        title: 'Commands per second',
        description: 'Commands processed per second.',
        queries: [q(`sum(${rate(REDIS.commandsProcessed)})`, 'commands/s')],
        unit: 'ops',
        min: 0,
      }),
      timeseries({
        title: 'Keyspace hit ratio',
        description: 'Share of key lookups that found the key; NaN while nothing is looked up.',
        queries: [q(`${hits} / (${hits} + ${misses})`, 'hit ratio')],
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'Clients',
        description: 'Connected and blocked clients.',
        queries: [q(`sum(${REDIS.connectedClients})`, 'connected'), q(`sum(${REDIS.blockedClients})`, 'blocked')],
        min: 0,
      }),
      timeseries({
        title: 'Memory',
        description: 'Memory used against maxmemory (0 means no limit).',
        queries: [q(`sum(${REDIS.memoryUsed})`, 'used'), q(`sum(${REDIS.memoryMax})`, 'max')],
        unit: 'bytes',
        min: 0,
      }),
      timeseries({
        title: 'Keys by database',
        description: 'Keys stored, by logical database.',
        queries: [q(`sum by (db) (${REDIS.dbKeys})`, '{{db}}')],
        min: 0,
      }),
      timeseries({
        title: 'Evicted and expired keys',
        description: 'Keys evicted for memory and keys expired, per second. Evictions mean maxmemory is too small.',
        queries: [q(`sum(${rate(REDIS.evictedKeys)})`, 'evicted'), q(`sum(${rate(REDIS.expiredKeys)})`, 'expired')],
        unit: 'ops',
        min: 0,
      }),
    ],
  });
}
