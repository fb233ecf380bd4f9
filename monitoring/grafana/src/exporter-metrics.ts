/**
 * Metrics that come from exporters and from Prometheus itself, not from the application.
 * The single list the builders take exporter names from and that the metric contract test
 * accepts besides the app's own definitions (src/metrics/definitions.ts). Names were read
 * from the Debian 12 binaries' /metrics output (node_exporter 1.5, postgres_exporter 0.11.1,
 * redis_exporter 1.45, blackbox_exporter 0.23) and cAdvisor's documented metric set.
 * Add a name here only after seeing the exporter emit it.
 */

/** Series Prometheus writes itself for every scrape and rule evaluation. */
export const PROMETHEUS = {
  up: 'up',
  scrapeDuration: 'scrape_duration_seconds',
  scrapeSamples: 'scrape_samples_scraped',
  alerts: 'ALERTS',
  alertsForState: 'ALERTS_FOR_STATE',
  ruleEvaluationFailures: 'prometheus_rule_evaluation_failures_total',
  notificationsDropped: 'prometheus_notifications_dropped_total',
  notificationsErrors: 'prometheus_notifications_errors_total',
  configReloadSuccess: 'prometheus_config_last_reload_successful',
  tsdbHeadSeries: 'prometheus_tsdb_head_series',
  alertmanagerNotificationsFailed: 'alertmanager_notifications_failed_total',
  alertmanagerConfigReloadSuccess: 'alertmanager_config_last_reload_successful',
} as const;

/** prometheus-node-exporter (host). */
export const NODE = {
  cpuSeconds: 'node_cpu_seconds_total',
  load1: 'node_load1',
  load5: 'node_load5',
  load15: 'node_load15',
  memAvailable: 'node_memory_MemAvailable_bytes',
  memTotal: 'node_memory_MemTotal_bytes',
  filesystemAvail: 'node_filesystem_avail_bytes',
  filesystemSize: 'node_filesystem_size_bytes',
  networkReceive: 'node_network_receive_bytes_total',
  networkTransmit: 'node_network_transmit_bytes_total',
  diskIoTime: 'node_disk_io_time_seconds_total',
  diskRead: 'node_disk_read_bytes_total',
  diskWritten: 'node_disk_written_bytes_total',
} as const;

/** prometheus-postgres-exporter 0.11 (its counters carry no _total suffix). */
export const POSTGRES = {
  up: 'pg_up',
  activityCount: 'pg_stat_activity_count',
  activityMaxTxDuration: 'pg_stat_activity_max_tx_duration',
  numBackends: 'pg_stat_database_numbackends',
  maxConnections: 'pg_settings_max_connections',
  blocksHit: 'pg_stat_database_blks_hit',
  blocksRead: 'pg_stat_database_blks_read',
  xactCommit: 'pg_stat_database_xact_commit',
  xactRollback: 'pg_stat_database_xact_rollback',
  deadlocks: 'pg_stat_database_deadlocks',
  tuplesInserted: 'pg_stat_database_tup_inserted',
  tuplesUpdated: 'pg_stat_database_tup_updated',
  tuplesDeleted: 'pg_stat_database_tup_deleted',
  tuplesFetched: 'pg_stat_database_tup_fetched',
  locksCount: 'pg_locks_count',
  databaseSize: 'pg_database_size_bytes',
  lastScrapeError: 'pg_exporter_last_scrape_error',
} as const;

/** prometheus-redis-exporter 1.45. */
export const REDIS = {
  up: 'redis_up',
  connectedClients: 'redis_connected_clients',
  blockedClients: 'redis_blocked_clients',
  memoryUsed: 'redis_memory_used_bytes',
  memoryMax: 'redis_memory_max_bytes',
  commandsProcessed: 'redis_commands_processed_total',
  keyspaceHits: 'redis_keyspace_hits_total',
  keyspaceMisses: 'redis_keyspace_misses_total',
  dbKeys: 'redis_db_keys',
  evictedKeys: 'redis_evicted_keys_total',
  expiredKeys: 'redis_expired_keys_total',
  uptime: 'redis_uptime_in_seconds',
} as const;

/** prometheus-blackbox-exporter (http_2xx module). */
export const BLACKBOX = {
  success: 'probe_success',
  duration: 'probe_duration_seconds',
  httpStatusCode: 'probe_http_status_code',
  httpDuration: 'probe_http_duration_seconds',
} as const;

/** cAdvisor (containers; runs only where Docker does). */
export const CADVISOR = {
  cpuUsage: 'container_cpu_usage_seconds_total',
  memoryWorkingSet: 'container_memory_working_set_bytes',
  networkReceive: 'container_network_receive_bytes_total',
  networkTransmit: 'container_network_transmit_bytes_total',
  startTime: 'container_start_time_seconds',
} as const;

/** Every exporter by name, for the contract test and the live test's exemptions. */
export const EXPORTERS = { prometheus: PROMETHEUS, node: NODE, postgres: POSTGRES, redis: REDIS, blackbox: BLACKBOX, cadvisor: CADVISOR } as const;

export type ExporterName = keyof typeof EXPORTERS;

/** Every known exporter metric name. */
export const EXPORTER_METRIC_NAMES: ReadonlySet<string> = new Set(
  Object.values(EXPORTERS).flatMap((group) => Object.values(group) as string[]),
);

/** The exporter a metric name belongs to, or undefined for a non-exporter name. */
export function exporterOf(metric: string): ExporterName | undefined {
  for (const [exporter, group] of Object.entries(EXPORTERS)) {
    if ((Object.values(group) as string[]).includes(metric)) return exporter as ExporterName;
  }
  return undefined;
}

/** prom-client's default metrics, served by every app process beside its own (not an exporter). */
export const RUNTIME = {
  residentMemory: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total',
  heapUsed: 'nodejs_heap_size_used_bytes',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
} as const;
