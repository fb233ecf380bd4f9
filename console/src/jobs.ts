/** Jobs: newest first, filtered by status, paged on the server, refreshed every few seconds. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, can } from './api.ts';
import { age, number, shortId } from './format.ts';
import { JOB_STATUSES, type Job } from './types.ts';
import { ErrorBox, Status, useInterval } from './ui.ts';

const PAGE_SIZE = 20;
const REFRESH_MS = 2000;

export function progressOf(job: Job): { done: number; of: number } {
  const c = job.counts;
  return { done: c.fetched + c.failed, of: Math.max(c.admitted, c.fetched + c.failed) };
}

export function JobsView() {
  const [status, setStatus] = useState('');
  // Keyset paging: the cursors of the pages already passed (the first page has none).
  const [cursors, setCursors] = useState<string[]>([]);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const after = cursors[cursors.length - 1];

  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status) q.set('status', status);
    if (after) q.set('after', after);
    try {
      const page = await api<{ jobs: Job[]; next: string | null }>('GET', `/jobs?${q}`);
      setJobs(page.jobs);
      setNext(page.next);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [status, after]);
  useInterval(() => void load(), REFRESH_MS);

  return html`
    <h1 tabindex="-1">Jobs</h1>
    <div class="toolbar">
      <label>Status
        <select value=${status} onChange=${(e: Event) => { setStatus((e.target as HTMLSelectElement).value); setCursors([]); }}>
          <option value="">all</option>
          ${JOB_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      ${can('jobs:write') ? html`<a class="button primary" href="#/new">New crawl</a>` : ''}
    </div>
    <${ErrorBox} error=${error} />
    ${jobs === null ? html`<p class="muted">Loading…</p>` : jobs.length === 0 ? html`<p>No jobs${status ? ` with status ${status}` : ''} yet.</p>` : html`
      <div class="scroll">
        <table class="jobs">
          <caption class="sr-only">Jobs, newest first</caption>
          <thead><tr>
            <th scope="col">Job</th><th scope="col">Status</th><th scope="col">Progress</th>
            <th scope="col" class="num">Pages</th><th scope="col" class="num">Failures</th><th scope="col">Age</th><th scope="col">Seeds</th>
          </tr></thead>
          <tbody>
            ${jobs.map((job) => {
              const p = progressOf(job);
              return html`<tr>
                <td><a href=${`#/jobs/${job.id}`} aria-label=${`Job ${shortId(job.id)}`}><code>${shortId(job.id)}</code></a></td>
                <td><${Status} status=${job.status} /></td>
                <td><progress max=${p.of || 1} value=${p.done} aria-label=${`${p.done} of ${p.of} pages`}></progress> <span class="muted">${number(p.done)}/${number(p.of)}</span></td>
                <td class="num">${number(job.counts.fetched)}</td>
                <td class="num">${number(job.counts.failed)}</td>
                <td>${age(job.createdAt)}</td>
                <td class="seeds">${job.seeds[0]}${job.seeds.length > 1 ? ` +${job.seeds.length - 1}` : ''}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>`}
    <nav class="pager" aria-label="Jobs pages">
      <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
      <button type="button" disabled=${next === null} onClick=${() => next && setCursors([...cursors, next])}>Older</button>
    </nav>`;
}
