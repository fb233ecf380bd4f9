/** ScheduleEvents that keeps what the scheduler reported, for the schedule tests. */
import type { ChangeSummary, RunSkipped, ScheduleEvents } from '../../src/schedules/events.ts';

export class Recorder implements ScheduleEvents {
  finished: ChangeSummary[] = [];
  skipped: RunSkipped[] = [];
  onRunFinished(s: ChangeSummary): void {
    this.finished.push(s);
  }
  onRunSkipped(s: RunSkipped): void {
    this.skipped.push(s);
  }
}
