import { API_METRICS as API } from '../../../../src/metrics/definitions.ts';
import { alerts } from '../../../prometheus/src/config.ts';
import { spoken } from '../../../prometheus/src/rule.ts';
import { POSTGRES as PG } from '../exporter-metrics.ts';
import { dashboard, gauge, q, stat, timeseries } from '../panels.ts';
import { increase, rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** The plan's database dashboard (§6): postgres_exporter 0.11 metrics and the app's store check. */
export function databaseDashboard(): Dashboard {
  const hits = `sum(${rate(PG.blocksHit)})`;
  const reads = `sum(${rate(PG.blocksRead)})`;
  return dashboard({
    uid: 'database',
    title: 'Database',
    description: 'PostgreSQL as seen by postgres_exporter (connections, pg_stat_activity, cache hit ratio, transactions, locks, size) and the app\'s own store check.',
    tags: ['postgres', 'database'],
    panels: [
      stat({
        title: 'PostgreSQL up',
        description: 'pg_up from postgres_exporter: 1 when it could query the server. 0 while the exporter itself is up means the database is down (PostgresDown).',
        queries: [q(`min(${PG.up})`, 'pg_up')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
      }),
      stat({
        title: 'App store up',
        description: 'store_up from the app: 1 when its store (SQLite or PostgreSQL) answered the last readiness check.',
        queries: [q(`min by (backend) (${API.storeUp.name})`, '{{backend}}')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
      }),
      gauge({
        title: 'Connection use',
        description: 'Backends connected as a share of max_connections. Near 1, new connections are refused.',
        queries: [q(`sum(${PG.numBackends}) / max(${PG.maxConnections})`, 'used')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'orange', value: 0.7 }, { color: 'red', value: 0.9 }],
      }),
      stat({
        title: 'Cache hit ratio',
        description: 'Share of block reads served from shared buffers. Below about 0.9 on a busy database, shared_buffers may be too small.',
        queries: [q(`${hits} / (${hits} + ${reads})`, 'hit ratio')],
        unit: 'percentunit',
        thresholds: [{ color: 'red', value: null }, { color: 'orange', value: 0.9 }, { color: 'green', value: 0.99 }],
      }),
      timeseries({
        title: 'Connections by state',
        description: 'pg_stat_activity rows by state (active, idle, idle in transaction, …), all databases.',
        queries: [q(`sum by (state) (${PG.activityCount})`, '{{state}}')],
        min: 0,
        stack: true,
      }),
      timeseries({
        title: 'pg_stat_activity by database',
        description: 'Sessions per database (pg_stat_activity rows), all states.',
        queries: [q(`sum by (datname) (${PG.activityCount})`, '{{datname}} sessions')],
        min: 0,
      }),
      timeseries({
        title: 'Longest transaction',
        description: 'Age of the oldest open transaction, by database and state.',
        queries: [q(`max by (datname) (${PG.activityMaxTxDuration})`, '{{datname}}')],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: 'Transactions',
        description: 'Commits and rollbacks per second, all databases.',
        queries: [q(`sum(${rate(PG.xactCommit)})`, 'commit'), q(`sum(${rate(PG.xactRollback)})`, 'rollback')],
        unit: 'ops',
        min: 0,
      }),
      timeseries({
        title: 'Rows written and read',
        description: 'Tuples inserted, updated, deleted and fetched per second.',
        queries: [
          q(`sum(${rate(PG.tuplesInserted)})`, 'inserted'),
          q(`sum(${rate(PG.tuplesUpdated)})`, 'updated'),
          q(`sum(${rate(PG.tuplesDeleted)})`, 'deleted'),
          q(`sum(${rate(PG.tuplesFetched)})`, 'fetched'),
        ],
        unit: 'ops',
        min: 0,
      }),
      timeseries({
        title: 'Locks by mode',
        description: 'Locks held, by mode. Many exclusive locks together with long transactions point at contention on the frontier.',
        queries: [q(`sum by (mode) (${PG.locksCount})`, '{{mode}}')],
        min: 0,
      }),
      timeseries({
        title: 'Deadlocks',
        description: 'Deadlocks detected per interval, by database.',
        queries: [q(`sum by (datname) (${increase(PG.deadlocks)})`, '{{datname}}')],
        min: 0,
      }),
      timeseries({
        title: 'Database size',
        description: 'On-disk size of each database.',
        queries: [q(`max by (datname) (${PG.databaseSize})`, '{{datname}}')],
        unit: 'bytes',
        min: 0,
      }),
      timeseries({
        title: 'Exporter scrape errors',
        description: '1 when the last postgres_exporter scrape had an error (bad DSN, missing pg_monitor grant).',
        queries: [q(`max(${PG.lastScrapeError})`, 'last scrape error')],
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'App store failed commits',
        description: `Commits of the app's store that failed and are being retried, per interval, by process and backend. StoreCommitFailing fires on more than ${alerts.StoreCommitFailing.failures} in ${spoken(alerts.StoreCommitFailing.window)}: settled pages are not durable meanwhile.`,
        queries: [q(`sum by (instance, backend) (${increase(API.storeCommitFailures.name)})`, '{{instance}} {{backend}}')],
        min: 0,
        thresholds: [{ color: 'red', value: 1 }],
      }),
    ],
  });
}
