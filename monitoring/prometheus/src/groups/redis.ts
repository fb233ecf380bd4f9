/** Redis (optional) as redis_exporter sees it. */
import { REDIS } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors } from '../config.ts';
import { alert, sel, spoken, type RuleGroup } from '../rule.ts';

export function redisAlertGroup(): RuleGroup {
  const down = alerts.RedisDown;
  return {
    name: 'redis.rules',
    rules: [
      alert({
        name: 'RedisDown',
        expr: `${sel(REDIS.up, selectors.redis)} == 0`,
        for: down.for,
        severity: 'warning',
        component: 'redis',
        summary: 'Redis is unreachable',
        description: `redis-exporter {{ $labels.instance }} cannot connect to Redis (redis_up = 0) for ${spoken(down.for)}.`,
      }),
    ],
  };
}
