/**
 * Schedules: a due run that did not start. Two ways to see it: runs recorded as missed (the
 * scheduler found planned times that passed while nothing ran, or a claimer died before creating
 * the job), and a due run nobody claims (every scheduler is stuck: the store refuses its claims).
 */
import { SCHEDULE_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, selectors } from '../config.ts';
import { alert, lines, sel, theLast, type RuleGroup } from '../rule.ts';

export function schedulesAlertGroup(): RuleGroup {
  const c = alerts.ScheduleMissed;
  const missed = sel(SCHEDULE_METRICS.scheduleRuns.name, selectors.crawler, 'outcome="missed"');
  const overdue = sel(SCHEDULE_METRICS.schedulesOverdue.name, selectors.crawler);
  return {
    name: 'schedules.rules',
    rules: [
      alert({
        name: 'ScheduleMissed',
        expr: lines(
          `sum(increase(${missed}[${c.window}])) > 0`,
          `or`,
          `max(${overdue}) > ${c.overdueSeconds}`,
        ),
        for: c.for,
        severity: 'warning',
        component: 'scheduler',
        summary: 'A scheduled run did not start',
        description: `Scheduled runs were missed in ${theLast(c.window)} or a due run has waited more than ${c.overdueSeconds} s to start (value {{ $value | humanize }}): a site watched by a schedule was not re-crawled on time.`,
        comment: 'Missed runs are recorded when a process finds planned times that passed while nothing ran; the overdue gauge catches schedulers that are up but cannot claim.',
      }),
    ],
  };
}
