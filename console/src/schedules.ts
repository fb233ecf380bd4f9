/**
 * Schedules: the list with a form to create one (a cron pattern and the crawl each run submits),
 * enable/disable; a schedule's view with its runs and a form to change its timing; a run's changes against the schedule's baseline
 * (new, changed, unchanged, gone) with each changed page's diff.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, can } from './api.ts';
import { number, shortId, time } from './format.ts';
import type { Change, PageDiff, Run, Schedule } from './types.ts';
import { ConfirmButton, ErrorBox, useInterval } from './ui.ts';

const REFRESH_MS = 3000;
const CHANGES_PAGE = 50;
export const CHANGE_TYPES = ['new', 'changed', 'unchanged', 'gone'] as const;

function EnableButton({ schedule, onChanged, onError }: { schedule: Schedule; onChanged: (s: Schedule) => void; onError: (e: unknown) => void }) {
  const label = schedule.enabled ? 'Disable' : 'Enable';
  const toggle = () => api<Schedule>('PATCH', `/schedules/${schedule.id}`, { enabled: !schedule.enabled }).then(onChanged, onError);
  return html`<button type="button" onClick=${toggle} aria-label=${`${label} schedule ${schedule.name ?? shortId(schedule.id)}`}>${label}</button>`;
}

/** When a schedule runs: its cron pattern, time zone, overlap and revisit policy. */
interface Timing {
  cron: string;
  timezone: string;
  overlap: string;
  revisit: string;
}

/** The timing fields of a schedule form; `idPrefix` keeps the ids of two forms apart. */
function TimingFields({ idPrefix, timing, onChange }: { idPrefix: string; timing: Timing; onChange: (t: Timing) => void }) {
  const set = (field: keyof Timing) => (e: Event) => onChange({ ...timing, [field]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  return html`
    <div class="field"><label for=${`${idPrefix}-cron`}>Cron pattern</label>
      <input id=${`${idPrefix}-cron`} required aria-describedby=${`${idPrefix}-cron-help`} value=${timing.cron} onInput=${set('cron')} />
      <small id=${`${idPrefix}-cron-help`}>Five fields (minute hour day month weekday), or six with seconds first.</small></div>
    <div class="field"><label for=${`${idPrefix}-timezone`}>Time zone</label>
      <input id=${`${idPrefix}-timezone`} value=${timing.timezone} onInput=${set('timezone')} /></div>
    <div class="field"><label for=${`${idPrefix}-overlap`}>When the previous run still goes</label>
      <select id=${`${idPrefix}-overlap`} value=${timing.overlap} onChange=${set('overlap')}>
        <option value="skip">skip this run</option><option value="queue">queue it</option>
      </select></div>
    <div class="field"><label for=${`${idPrefix}-revisit`}>Revisit</label>
      <select id=${`${idPrefix}-revisit`} value=${timing.revisit} onChange=${set('revisit')}>
        <option value="all">every page, every run</option><option value="adaptive">adaptive (pages that change more, more often)</option>
      </select></div>`;
}

function NewSchedule({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [seeds, setSeeds] = useState('');
  const [maxPages, setMaxPages] = useState('100');
  const [timing, setTiming] = useState<Timing>({ cron: '0 * * * *', timezone: 'UTC', overlap: 'skip', revisit: 'all' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const seedList = seeds.split('\n').map((s) => s.trim()).filter((s) => s !== '');
      await api<Schedule>('POST', '/schedules', {
        name: name.trim() || undefined,
        cron: timing.cron.trim(),
        timezone: timing.timezone.trim(),
        overlap: timing.overlap,
        revisit: timing.revisit,
        job: { seeds: seedList, maxPages: Number(maxPages), source: 'console', formats: ['metadata', 'markdown'] },
      });
      setName('');
      setSeeds('');
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section aria-labelledby="new-schedule-title" class="card">
      <h2 id="new-schedule-title">New schedule</h2>
      <form class="crawl-form" onSubmit=${submit} novalidate>
        <div class="field"><label for="schedule-name">Name</label>
          <input id="schedule-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></div>
        <${TimingFields} idPrefix="schedule" timing=${timing} onChange=${setTiming} />
        <div class="field wide"><label for="schedule-seeds">Seed URLs</label>
          <textarea id="schedule-seeds" rows="3" required aria-describedby="schedule-seeds-help" value=${seeds} onInput=${(e: Event) => setSeeds((e.target as HTMLTextAreaElement).value)}></textarea>
          <small id="schedule-seeds-help">One absolute http(s) URL per line; each run crawls them.</small></div>
        <div class="field"><label for="schedule-max-pages">Max pages</label>
          <input id="schedule-max-pages" type="number" min="1" inputmode="numeric" value=${maxPages} onInput=${(e: Event) => setMaxPages((e.target as HTMLInputElement).value)} /></div>
        <${ErrorBox} error=${error} />
        <div class="actions wide"><button type="submit" class="primary" disabled=${busy}>Create schedule</button></div>
      </form>
    </section>`;
}

export function SchedulesView() {
  const [list, setList] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api<{ schedules: Schedule[]; next: string | null }>('GET', '/schedules?limit=100').then((r) => { setList(r.schedules); setError(null); }, setError);
  useEffect(() => void load(), []);
  useInterval(() => void load(), 10_000);
  const writable = can('jobs:write');
  return html`
    <h1 tabindex="-1">Schedules</h1>
    <${ErrorBox} error=${error} />
    ${list === null ? html`<p class="muted">Loading…</p>` : list.length === 0 ? html`<p>No schedules yet.</p>` : html`
      <div class="scroll"><table>
        <caption class="sr-only">Schedules, oldest first</caption>
        <thead><tr><th scope="col">Schedule</th><th scope="col">Cron</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Seeds</th>${writable ? html`<th scope="col">Action</th>` : ''}</tr></thead>
        <tbody>${list.map((s) => html`<tr>
          <td><a href=${`#/schedules/${s.id}`}>${s.name ?? shortId(s.id)}</a></td>
          <td><code>${s.cron}</code> <span class="muted">${s.timezone}</span></td>
          <td>${s.enabled ? 'enabled' : 'disabled'}</td>
          <td>${time(s.nextRunAt)}</td>
          <td class="seeds">${String((s.job.seeds as string[] | undefined)?.[0] ?? '')}</td>
          ${writable ? html`<td><${EnableButton} schedule=${s} onChanged=${() => void load()} onError=${setError} /></td>` : ''}
        </tr>`)}</tbody>
      </table></div>`}
    ${writable ? html`<${NewSchedule} onCreated=${() => void load()} />` : ''}`;
}

/** A schedule's timing changed in place: cron, time zone, overlap and revisit (PATCH; a bad pattern is named in the error). */
function EditSchedule({ schedule, onSaved }: { schedule: Schedule; onSaved: (s: Schedule) => void }) {
  const [timing, setTiming] = useState<Timing>({ cron: schedule.cron, timezone: schedule.timezone, overlap: schedule.overlap, revisit: schedule.revisit });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onSaved(await api<Schedule>('PATCH', `/schedules/${schedule.id}`, { ...timing, cron: timing.cron.trim(), timezone: timing.timezone.trim() }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section aria-labelledby="edit-schedule-title" class="card">
      <h2 id="edit-schedule-title">Change timing</h2>
      <form class="crawl-form" onSubmit=${submit} novalidate>
        <${TimingFields} idPrefix="edit" timing=${timing} onChange=${setTiming} />
        <${ErrorBox} error=${error} />
        <div class="actions wide"><button type="submit" class="primary" disabled=${busy}>Save timing</button>
          <span role="status" class="muted">${saved ? 'Saved.' : ''}</span></div>
      </form>
    </section>`;
}

export function ScheduleView({ id, navigate }: { id: string; navigate: (hash: string) => void }) {
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    void api<Schedule>('GET', `/schedules/${id}`).then(setSchedule, setError);
    void api<{ runs: Run[]; next: number | null }>('GET', `/schedules/${id}/runs?limit=50`).then((r) => setRuns(r.runs), setError);
  };
  useEffect(load, [id]);
  useInterval(load, REFRESH_MS, schedule?.enabled === true || (runs ?? []).some((r) => r.finishedAt === null));
  const remove = () => api('DELETE', `/schedules/${id}`).then(() => navigate('#/schedules'), setError);
  return html`
    <h1 tabindex="-1">Schedule ${schedule?.name ?? html`<code>${shortId(id)}</code>`}</h1>
    <${ErrorBox} error=${error} />
    ${schedule ? html`
      <section aria-labelledby="schedule-title" class="card">
        <h2 id="schedule-title">Schedule</h2>
        <dl class="facts">
          <dt>Cron</dt><dd><code>${schedule.cron}</code> (${schedule.timezone})</dd>
          <dt>State</dt><dd>${schedule.enabled ? 'enabled' : 'disabled'}</dd>
          <dt>Next run</dt><dd>${time(schedule.nextRunAt)}</dd>
          <dt>Overlap</dt><dd>${schedule.overlap}</dd>
          <dt>Revisit</dt><dd>${schedule.revisit}</dd>
          <dt>Seeds</dt><dd>${((schedule.job.seeds as string[] | undefined) ?? []).map((s) => html`<div class="url">${s}</div>`)}</dd>
        </dl>
        ${can('jobs:write') ? html`<div class="actions">
          <${EnableButton} schedule=${schedule} onChanged=${setSchedule} onError=${setError} />
          <${ConfirmButton} label="Delete schedule" title="Delete this schedule?" question="It, its runs and its baseline are removed; the jobs it started stay." confirmLabel="Delete it" danger=${true} onConfirm=${remove} />
        </div>` : ''}
      </section>
      ${can('jobs:write') ? html`<${EditSchedule} key=${schedule.id} schedule=${schedule} onSaved=${setSchedule} />` : ''}` : ''}
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      ${runs === null ? html`<p class="muted">Loading…</p>` : runs.length === 0 ? html`<p>No runs yet.</p>` : html`
        <div class="scroll"><table>
          <caption class="sr-only">Runs, newest first</caption>
          <thead><tr><th scope="col">Planned</th><th scope="col">Outcome</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Job</th><th scope="col">Changes</th></tr></thead>
          <tbody>${runs.map((r) => html`<tr>
            <td>${time(r.plannedAt)}</td>
            <td><span class=${`status status-${r.outcome}`}>${r.outcome}</span>${r.reason ? html` <span class="muted">(${r.reason})</span>` : ''}</td>
            <td>${time(r.startedAt)}</td>
            <td>${time(r.finishedAt)}</td>
            <td>${r.jobId ? html`<a href=${`#/jobs/${r.jobId}`} aria-label=${`Job ${shortId(r.jobId)}`}><code>${shortId(r.jobId)}</code></a>` : '—'}</td>
            <td>${r.jobId ? html`<a href=${`#/jobs/${r.jobId}/changes`} aria-label=${`Changes of the run planned ${time(r.plannedAt)}`}>changes</a>` : '—'}</td>
          </tr>`)}</tbody>
        </table></div>`}
    </section>`;
}

/** A run's pages by change; a changed page opens its diff (content as text, fields before and after). */
export function ChangesView({ jobId }: { jobId: string }) {
  const [type, setType] = useState('');
  const [cursors, setCursors] = useState<number[]>([]);
  const [changes, setChanges] = useState<Change[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [diff, setDiff] = useState<PageDiff | null>(null);
  const [error, setError] = useState<unknown>(null);
  const after = cursors[cursors.length - 1];
  useEffect(() => {
    const q = new URLSearchParams({ limit: String(CHANGES_PAGE) });
    if (type) q.set('type', type);
    if (after !== undefined) q.set('after', String(after));
    api<{ changes: Change[]; next: number | null }>('GET', `/jobs/${jobId}/changes?${q}`).then((r) => { setChanges(r.changes); setNext(r.next); }, setError);
  }, [jobId, type, after]);
  const open = (pageId: number) => api<PageDiff>('GET', `/jobs/${jobId}/pages/${pageId}/diff`).then(setDiff, setError);
  return html`
    <h1 tabindex="-1">Changes of run <code>${shortId(jobId)}</code></h1>
    <p><a href=${`#/jobs/${jobId}`}>The run's job</a></p>
    <${ErrorBox} error=${error} />
    <div class="toolbar">
      <label for="change-type">Change</label>
      <select id="change-type" value=${type} onChange=${(e: Event) => { setType((e.target as HTMLSelectElement).value); setCursors([]); }}>
        <option value="">all</option>${CHANGE_TYPES.map((t) => html`<option value=${t}>${t}</option>`)}
      </select>
    </div>
    ${changes === null ? html`<p class="muted">Loading…</p>` : changes.length === 0 ? html`<p>No changes${type ? ` of type ${type}` : ''}.</p>` : html`
      <div class="scroll"><table>
        <caption class="sr-only">Pages of this run by change</caption>
        <thead><tr><th scope="col">Change</th><th scope="col">URL</th><th scope="col">Diff</th></tr></thead>
        <tbody>${changes.map((c) => html`<tr>
          <td><span class=${`change change-${c.change}`}>${c.change}</span></td>
          <td class="url-cell">${c.url}</td>
          <td>${c.change === 'changed' || c.change === 'gone' ? html`<button type="button" class="link" onClick=${() => void open(c.pageId)} aria-label=${`Diff of ${c.url}`}>diff</button>` : '—'}</td>
        </tr>`)}</tbody>
      </table></div>`}
    <nav class="pager" aria-label="Pages of changes">
      <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
      <button type="button" disabled=${next === null} onClick=${() => next !== null && setCursors([...cursors, next])}>Next</button>
    </nav>
    ${diff ? html`
      <section aria-labelledby="diff-title" class="card">
        <h2 id="diff-title">Diff of <span class="url">${diff.url}</span></h2>
        ${diff.data.length > 0 ? html`<div class="scroll"><table>
          <caption>Extracted fields that differ</caption>
          <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
          <tbody>${diff.data.map((d) => html`<tr><th scope="row">${d.field}</th><td>${JSON.stringify(d.before ?? null)}</td><td>${JSON.stringify(d.after ?? null)}</td></tr>`)}</tbody>
        </table></div>` : ''}
        ${diff.content.diff ? html`<pre class="diff">${diff.content.diff.split('\n').map((line) => html`<span class=${line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : ''}>${`${line}\n`}</span>`)}</pre>` : html`<p>The main content did not change.</p>`}
      </section>` : ''}
    <p class="muted">${changes ? `${number(changes.length)} shown` : ''}</p>`;
}
