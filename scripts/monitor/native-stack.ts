/**
 * The native monitoring stack: which Debian binary runs with which flags (field notes:
 * Alertmanager needs an empty --cluster.listen-address, node_exporter --no-collector.systemd,
 * postgres_exporter reads its DSN from the environment, redis_exporter takes single-dash flags,
 * blackbox_exporter needs --config.file). Shared by native.ts and the live tests.
 */
import { join } from 'node:path';
import { MONITORING_DIR, type NativePorts } from './native-config.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Port whose /metrics (or /-/ready) answers once the process is up. */
  port: number;
}

export interface StackPaths {
  /** Generated prometheus.yml. */
  prometheusConfig: string;
  /** Generated alertmanager.yml. */
  alertmanagerConfig: string;
  /** Folder for Prometheus's and Alertmanager's data. */
  dataDir: string;
}

export interface StackOptions {
  ports: NativePorts;
  paths: StackPaths;
  /** DSN for postgres_exporter (default: the local server's `postgres` database, trust auth). */
  postgresDsn?: string;
  /** Redis address for redis_exporter (default redis://127.0.0.1:<ports.redis>). */
  redisAddr?: string;
  /** Enable Prometheus's TSDB admin API (the live tests delete series with it). Default false. */
  adminApi?: boolean;
  /** How often Prometheus re-sends firing alerts to Alertmanager (default: Prometheus's 1m). */
  alertResendDelay?: string;
}

export function monitoringProcesses(o: StackOptions): ProcessSpec[] {
  const { ports, paths } = o;
  const local = (port: number) => `127.0.0.1:${port}`;
  return [
    {
      name: 'prometheus',
      command: 'prometheus',
      args: [
        `--config.file=${paths.prometheusConfig}`,
        `--storage.tsdb.path=${join(paths.dataDir, 'prometheus')}`,
        `--web.listen-address=${local(ports.prometheus)}`,
        '--web.enable-lifecycle',
        ...(o.adminApi ? ['--web.enable-admin-api'] : []),
        ...(o.alertResendDelay ? [`--rules.alert.resend-delay=${o.alertResendDelay}`] : []),
        '--log.level=warn',
      ],
      port: ports.prometheus,
    },
    {
      name: 'alertmanager',
      command: 'prometheus-alertmanager',
      args: [
        `--config.file=${paths.alertmanagerConfig}`,
        `--storage.path=${join(paths.dataDir, 'alertmanager')}`,
        `--web.listen-address=${local(ports.alertmanager)}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      port: ports.alertmanager,
    },
    {
      name: 'node-exporter',
      command: 'prometheus-node-exporter',
      args: [`--web.listen-address=${local(ports.node)}`, '--no-collector.systemd', '--log.level=warn'],
      port: ports.node,
    },
    {
      name: 'postgres-exporter',
      command: 'prometheus-postgres-exporter',
      args: [`--web.listen-address=${local(ports.postgresExporter)}`, '--log.level=warn'],
      env: { DATA_SOURCE_NAME: o.postgresDsn ?? `postgresql://postgres@127.0.0.1:${ports.postgres}/postgres?sslmode=disable` },
      port: ports.postgresExporter,
    },
    {
      name: 'redis-exporter',
      command: 'prometheus-redis-exporter',
      args: ['-web.listen-address', local(ports.redisExporter), '-redis.addr', o.redisAddr ?? `redis://127.0.0.1:${ports.redis}`],
      port: ports.redisExporter,
    },
    {
      name: 'blackbox-exporter',
      command: 'prometheus-blackbox-exporter',
      args: [`--config.file=${join(MONITORING_DIR, 'blackbox', 'config.yml')}`, `--web.listen-address=${local(ports.blackbox)}`, '--log.level=warn'],
      port: ports.blackbox,
    },
  ];
}
