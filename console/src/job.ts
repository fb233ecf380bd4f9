/** A job: live progress over Server-Sent Events, its pages (filter, paging), exports, cancel and fail. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, can, download, readEvents } from './api.ts';
import { number, time } from './format.ts';
import { progressOf } from './jobs.ts';
import type { Job, PageRow, Progress } from './types.ts';
import { ConfirmButton, ErrorBox, ReadOnlyNote, Status } from './ui.ts';

const PAGE_SIZE = 50;
const LIVE = new Set(['queued', 'running']);

function PagesTable({ job }: { job: Job }) {
  const [outcome, setOutcome] = useState('');
  const [cursors, setCursors] = useState<number[]>([]);
  const [rows, setRows] = useState<PageRow[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const after = cursors[cursors.length - 1];
  const settled = job.counts.fetched + job.counts.failed;

  useEffect(() => {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (outcome) q.set('outcome', outcome);
    if (after !== undefined) q.set('after', String(after));
    api<{ pages: PageRow[]; next: number | null }>('GET', `/jobs/${job.id}/pages?${q}`).then(
      (page) => {
        setRows(page.pages);
        setNext(page.next);
        setError(null);
      },
      setError,
    );
    // Re-read while the job runs (its settled count moves) so new results appear.
  }, [job.id, outcome, after, settled, job.status]);

  return html`
    <section aria-labelledby="pages-title">
      <h2 id="pages-title">Pages</h2>
      <div class="toolbar">
        <label>Show
          <select value=${outcome} onChange=${(e: Event) => { setOutcome((e.target as HTMLSelectElement).value); setCursors([]); }}>
            <option value="">all pages</option><option value="ok">fetched</option><option value="failed">failed</option>
          </select>
        </label>
      </div>
      <${ErrorBox} error=${error} />
      ${rows === null ? html`<p class="muted">Loading…</p>` : rows.length === 0 ? html`<p>No pages yet.</p>` : html`
        <div class="scroll"><table class="pages">
          <caption class="sr-only">Pages of this job, oldest first</caption>
          <thead><tr><th scope="col">Status</th><th scope="col">URL</th><th scope="col">Title</th><th scope="col" class="num">Time</th><th scope="col">Change</th><th scope="col">Error</th></tr></thead>
          <tbody>${rows.map((p) => html`<tr>
            <td>${p.statusCode ?? '—'}</td>
            <td class="url-cell"><a href=${`#/jobs/${job.id}/pages/${p.id}`}>${p.url}</a></td>
            <td>${p.title ?? ''}</td>
            <td class="num">${Math.round(p.fetchMs)} ms</td>
            <td>${p.contentHash ? html`<code title="content hash: changes only when the main content or extracted data change">${p.contentHash.slice(0, 8)}</code>` : '—'}</td>
            <td>${p.errorCode ?? ''}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <nav class="pager" aria-label="Pages of results">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <button type="button" disabled=${next === null} onClick=${() => next !== null && setCursors([...cursors, next])}>Next</button>
      </nav>
    </section>`;
}

export function JobView({ id }: { id: string }) {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [streamState, setStreamState] = useState('connecting');

  useEffect(() => {
    const abort = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const connect = () => {
      setStreamState('live');
      readEvents(`/jobs/${id}/events`, (e) => {
        if (e.event === 'progress' || e.event === 'end') setProgress(JSON.parse(e.data) as Progress);
        if (e.event === 'end' || e.event === 'gone') {
          ended = true;
          setStreamState('ended');
        }
      }, abort.signal).then(
        () => {
          // The stream closes on its own when the job ends; anything else is a dropped connection.
          if (ended || abort.signal.aborted) return;
          setStreamState('reconnecting');
          retry = setTimeout(() => connect(), 2000);
        },
        (err: unknown) => {
          setError(err);
          setStreamState('stopped');
        },
      );
    };
    connect();
    return () => {
      abort.abort();
      clearTimeout(retry);
    };
  }, [id]);

  if (progress === null) return html`<h1 tabindex="-1">Job</h1><${ErrorBox} error=${error} />${error ? '' : html`<p class="muted">Connecting…</p>`}`;
  const { job } = progress;
  const p = progressOf(job);
  const live = LIVE.has(job.status);
  const act = async (path: string, body?: unknown) => {
    try {
      const updated = await api<Job>('POST', path, body);
      setProgress({ ...progress, job: updated });
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  const codes = Object.entries(progress.failuresByCode);
  return html`
    <h1 tabindex="-1">Job <code>${job.id}</code></h1>
    <p class="job-status">Status: <${Status} status=${job.status} />${job.reason ? html` <span class="muted">(${job.reason})</span>` : ''}
      <span class="muted" aria-hidden="true"> · ${streamState === 'live' ? 'live' : streamState}</span></p>
    <${ErrorBox} error=${error} />
    <section aria-labelledby="progress-title" class="card">
      <h2 id="progress-title">Progress</h2>
      <progress max=${p.of || 1} value=${p.done} aria-label="Pages settled"></progress>
      <dl class="stats" aria-live="polite">
        <div><dt>Fetched</dt><dd data-stat="fetched">${number(job.counts.fetched)}</dd></div>
        <div><dt>Failed</dt><dd data-stat="failed">${number(job.counts.failed)}</dd></div>
        <div><dt>Queue</dt><dd>${number(job.counts.queued)}</dd></div>
        <div><dt>In flight</dt><dd>${number(job.counts.inFlight)}</dd></div>
        <div><dt>Pages/s</dt><dd>${progress.pagesPerSecond}</dd></div>
        <div><dt>Admitted</dt><dd>${number(job.counts.admitted)} of ${number(job.options.maxPages)} max</dd></div>
      </dl>
      ${codes.length > 0 ? html`<h3>Failures by error code</h3><ul class="codes">${codes.map(([c, n]) => html`<li><code>${c}</code> ${number(n)}</li>`)}</ul>` : ''}
    </section>
    <section aria-labelledby="about-title" class="card">
      <h2 id="about-title">Job</h2>
      <dl class="facts">
        <dt>Seeds</dt><dd>${job.seeds.map((s) => html`<div class="url">${s}</div>`)}</dd>
        <dt>Options</dt><dd>depth ${job.options.maxDepth}, scope ${job.options.scope}, mode ${job.options.mode}${job.options.scrape ? `, formats ${job.options.scrape.formats.join(', ')}, sitemaps ${job.options.scrape.sitemaps}` : ''}</dd>
        <dt>Created</dt><dd>${time(job.createdAt)}</dd>
        <dt>Finished</dt><dd>${time(job.finishedAt)}</dd>
      </dl>
      <div class="actions">
        <button type="button" onClick=${() => void download(`/jobs/${job.id}/export?format=csv`, `${job.id}.csv`).catch(setError)}>Download CSV</button>
        <button type="button" onClick=${() => void download(`/jobs/${job.id}/export?format=jsonl`, `${job.id}.jsonl`).catch(setError)}>Download JSON Lines</button>
        ${live && can('jobs:write') ? html`
          <${ConfirmButton} label="Cancel job" title="Cancel this job?" question="Its waiting URLs are dropped; pages already fetched stay." confirmLabel="Cancel the job" danger=${true}
            onConfirm=${() => act(`/jobs/${job.id}/cancel`)} />
          <${ConfirmButton} label="Mark failed" title="Mark this job failed?" question="The job stops and is counted as failed (reason operator_failed)." confirmLabel="Mark it failed" danger=${true}
            onConfirm=${() => act(`/jobs/${job.id}/fail`, { reason: 'operator_failed' })} />` : ''}
      </div>
      ${live && !can('jobs:write') ? html`<${ReadOnlyNote} what="cancel or fail this job" />` : ''}
    </section>
    <${PagesTable} job=${job} />`;
}
