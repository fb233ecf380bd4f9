/**
 * Webhooks (admin keys): the list with a form to register one (its signing secret is shown once),
 * and a webhook's view: its deliveries (status, attempts, last error; paged), a test event, delete.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { number, shortId, time } from './format.ts';
import type { Delivery, Webhook } from './types.ts';
import { ConfirmButton, ErrorBox, useInterval } from './ui.ts';

/** The event types a webhook may subscribe to (the API's SUBSCRIBABLE_EVENT_TYPES; a test keeps them equal). */
export const WEBHOOK_EVENTS = ['job.completed', 'job.failed', 'job.cancelled', 'page.changed', 'schedule.run.skipped'] as const;

const DELIVERIES_PAGE = 50;
const REFRESH_MS = 3000;

function NewWebhook({ onCreated }: { onCreated: (hook: Webhook & { secret: string }) => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['job.completed', 'job.failed']);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (e: string) => setEvents(events.includes(e) ? events.filter((x) => x !== e) : [...events, e]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api<Webhook & { secret: string }>('POST', '/webhooks', { url: url.trim(), events });
      setUrl('');
      onCreated(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section aria-labelledby="new-webhook-title" class="card">
      <h2 id="new-webhook-title">New webhook</h2>
      <form class="crawl-form" onSubmit=${submit} novalidate>
        <div class="field wide">
          <label for="webhook-url">Receiver URL</label>
          <input id="webhook-url" type="url" required aria-describedby="webhook-url-help" value=${url} onInput=${(e: Event) => setUrl((e.target as HTMLInputElement).value)} />
          <small id="webhook-url-help">Events are POSTed there, signed the Standard Webhooks way.</small>
        </div>
        <fieldset class="field wide">
          <legend>Events</legend>
          ${WEBHOOK_EVENTS.map((ev) => html`<label class="check"><input type="checkbox" checked=${events.includes(ev)} onChange=${() => toggle(ev)} /> ${ev}</label>`)}
        </fieldset>
        <${ErrorBox} error=${error} />
        <div class="actions wide"><button type="submit" class="primary" disabled=${busy}>Create webhook</button></div>
      </form>
    </section>`;
}

export function WebhooksView() {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [created, setCreated] = useState<(Webhook & { secret: string }) | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api<{ webhooks: Webhook[]; next: string | null }>('GET', '/webhooks?limit=100').then((r) => { setHooks(r.webhooks); setError(null); }, setError);
  useEffect(() => void load(), []);
  return html`
    <h1 tabindex="-1">Webhooks</h1>
    <${ErrorBox} error=${error} />
    ${created ? html`
      <div class="notice" role="status">
        <p>Webhook <a href=${`#/webhooks/${created.id}`}><code>${shortId(created.id)}</code></a> created. Its signing secret is shown this once: store it now to verify deliveries.</p>
        <p><label for="webhook-secret">Signing secret</label> <input id="webhook-secret" class="secret" readonly value=${created.secret} onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} /></p>
      </div>` : ''}
    ${hooks === null ? html`<p class="muted">Loading…</p>` : hooks.length === 0 ? html`<p>No webhooks yet.</p>` : html`
      <div class="scroll"><table>
        <caption class="sr-only">Webhooks, oldest first</caption>
        <thead><tr><th scope="col">Webhook</th><th scope="col">Receiver</th><th scope="col">Events</th><th scope="col">Created</th></tr></thead>
        <tbody>${hooks.map((h) => html`<tr>
          <td><a href=${`#/webhooks/${h.id}`} aria-label=${`Webhook ${shortId(h.id)}`}><code>${shortId(h.id)}</code></a></td>
          <td class="url-cell">${h.url}</td>
          <td>${h.events.join(', ')}</td>
          <td>${time(h.createdAt)}</td>
        </tr>`)}</tbody>
      </table></div>`}
    <${NewWebhook} onCreated=${(h: Webhook & { secret: string }) => { setCreated(h); void load(); }} />`;
}

export function WebhookView({ id, navigate }: { id: string; navigate: (hash: string) => void }) {
  const [hook, setHook] = useState<Webhook | null>(null);
  const [cursors, setCursors] = useState<number[]>([]);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string | null>(null);
  const after = cursors[cursors.length - 1];
  useEffect(() => void api<Webhook>('GET', `/webhooks/${id}`).then(setHook, setError), [id]);
  const load = () => {
    const q = new URLSearchParams({ limit: String(DELIVERIES_PAGE) });
    if (after !== undefined) q.set('after', String(after));
    return api<{ deliveries: Delivery[]; next: number | null }>('GET', `/webhooks/${id}/deliveries?${q}`).then((r) => { setDeliveries(r.deliveries); setNext(r.next); }, setError);
  };
  useEffect(() => void load(), [id, after]);
  // Pending deliveries move on their own (retries): the first page is re-read while it shows one.
  const waiting = (deliveries ?? []).some((d) => d.status === 'pending') || (sent !== null && !(deliveries ?? []).some((d) => d.eventId === sent));
  useInterval(() => void load(), REFRESH_MS, after === undefined && waiting);
  const test = async () => {
    try {
      const r = await api<{ eventId: string }>('POST', `/webhooks/${id}/test`);
      setSent(r.eventId);
      setCursors([]);
      void load();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', `/webhooks/${id}`);
      navigate('#/webhooks');
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <h1 tabindex="-1">Webhook <code>${shortId(id)}</code></h1>
    <${ErrorBox} error=${error} />
    ${hook ? html`
      <section aria-labelledby="webhook-title" class="card">
        <h2 id="webhook-title">Receiver</h2>
        <dl class="facts">
          <dt>URL</dt><dd class="url">${hook.url}</dd>
          <dt>Events</dt><dd>${hook.events.join(', ')}</dd>
          <dt>Created</dt><dd>${time(hook.createdAt)}</dd>
        </dl>
        <div class="actions">
          <button type="button" onClick=${test}>Send test event</button>
          <${ConfirmButton} label="Delete webhook" title="Delete this webhook?" question="It and its deliveries are removed; pending deliveries are never sent." confirmLabel="Delete it" danger=${true} onConfirm=${remove} />
        </div>
        ${sent ? html`<p class="muted" role="status">Test event <code>${sent}</code> queued.</p>` : ''}
      </section>` : ''}
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries</h2>
      ${deliveries === null ? html`<p class="muted">Loading…</p>` : deliveries.length === 0 ? html`<p>No deliveries yet.</p>` : html`
        <div class="scroll"><table>
          <caption class="sr-only">Deliveries, newest first</caption>
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Last HTTP status</th><th scope="col">Last error</th><th scope="col">Published</th><th scope="col">Finished</th></tr></thead>
          <tbody>${deliveries.map((d) => html`<tr>
            <td>${d.eventType}</td>
            <td><span class=${`status status-${d.status}`}>${d.status}</span>${d.status === 'pending' && d.nextAttemptAt ? html` <span class="muted">next ${time(d.nextAttemptAt)}</span>` : ''}</td>
            <td class="num">${number(d.attempts)}</td>
            <td class="num">${d.lastStatusCode ?? '—'}</td>
            <td>${d.lastError ?? ''}</td>
            <td>${time(d.createdAt)}</td>
            <td>${time(d.finishedAt)}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <nav class="pager" aria-label="Pages of deliveries">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
        <button type="button" disabled=${next === null} onClick=${() => next !== null && setCursors([...cursors, next])}>Older</button>
      </nav>
    </section>`;
}
