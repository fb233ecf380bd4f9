/**
 * The web console: sign-in, navigation and the hash router. Views: jobs (#/jobs), new crawl
 * (#/new), a job (#/jobs/ID), a page (#/jobs/ID/pages/N), sites (#/sites). Schedules and
 * webhooks slot into NAV and route() when their API lands.
 */
import { html, render } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { can, currentKey, getKey, onUnauthorized, probe, setKey } from './api.ts';
import { JobView } from './job.ts';
import { JobsView } from './jobs.ts';
import { NewCrawlView } from './new-crawl.ts';
import { PageView } from './page.ts';
import { ChangesView, ScheduleView, SchedulesView } from './schedules.ts';
import { SitesView } from './sites.ts';
import { WebhooksView, WebhookView } from './webhooks.ts';
import './style.css';
import { ErrorBox, ReadOnlyNote } from './ui.ts';

/** The views in the navigation; `needs` hides one from a key without that scope. */
const NAV: Array<{ href: string; label: string; match: RegExp; needs?: 'jobs:write' | 'admin' }> = [
  { href: '#/jobs', label: 'Jobs', match: /^#\/jobs/ },
  { href: '#/new', label: 'New crawl', match: /^#\/new/, needs: 'jobs:write' },
  { href: '#/schedules', label: 'Schedules', match: /^#\/schedules/ },
  { href: '#/sites', label: 'Sites', match: /^#\/sites/ },
  { href: '#/webhooks', label: 'Webhooks', match: /^#\/webhooks/, needs: 'admin' },
];

function navigate(hash: string): void {
  location.hash = hash;
}

function route(hash: string) {
  const page = /^#\/jobs\/([0-9a-f-]{36})\/pages\/(\d+)$/i.exec(hash);
  if (page) return html`<${PageView} jobId=${page[1]} pageId=${page[2]} />`;
  const changes = /^#\/jobs\/([0-9a-f-]{36})\/changes$/i.exec(hash);
  if (changes) return html`<${ChangesView} jobId=${changes[1]} />`;
  const schedule = /^#\/schedules\/([0-9a-f-]{36})$/i.exec(hash);
  if (schedule) return html`<${ScheduleView} id=${schedule[1]} navigate=${navigate} />`;
  if (hash === '#/schedules') return html`<${SchedulesView} />`;
  const job = /^#\/jobs\/([0-9a-f-]{36})$/i.exec(hash);
  if (job) return html`<${JobView} id=${job[1]} />`;
  if (hash === '#/new') return can('jobs:write') ? html`<${NewCrawlView} navigate=${navigate} />` : html`<h1 tabindex="-1">New crawl</h1><${ReadOnlyNote} what="start crawls" />`;
  if (hash === '#/sites') return html`<${SitesView} />`;
  const webhook = /^#\/webhooks\/([0-9a-f-]{36})$/i.exec(hash);
  if (webhook || hash === '#/webhooks') {
    if (!can('admin')) return html`<h1 tabindex="-1">Webhooks</h1><${ReadOnlyNote} what="manage webhooks (they receive the events of every key's jobs)" scope="admin" />`;
    return webhook ? html`<${WebhookView} id=${webhook[1]} navigate=${navigate} />` : html`<${WebhooksView} />`;
  }
  if (hash === '' || hash === '#' || hash === '#/' || hash === '#/jobs') return html`<${JobsView} />`;
  return html`<h1 tabindex="-1">Not found</h1><p>No view at <code>${hash}</code>. <a href="#/jobs">Go to the jobs</a>.</p>`;
}

function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: () => void }) {
  const [key, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setKey(key.trim());
    try {
      if ((await probe()) === 'ok') onSignedIn();
      else {
        setKey(null);
        setError(new Error('This key was refused.'));
      }
    } catch (err) {
      setKey(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="signin">
      <h1>Sign in to the console</h1>
      ${message ? html`<p class="notice" role="status">${message}</p>` : ''}
      <form onSubmit=${submit}>
        <div class="field">
          <label for="api-key">API key</label>
          <input id="api-key" ref=${input} type="password" autocomplete="off" required value=${key} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} aria-describedby="api-key-help" />
          <small id="api-key-help">Kept in this tab's session storage only, sent as a Bearer token.</small>
        </div>
        <${ErrorBox} error=${error} />
        <button type="submit" class="primary" disabled=${busy || key.trim() === ''}>Sign in</button>
      </form>
    </main>`;
}

function App() {
  const [auth, setAuth] = useState<'probing' | 'signin' | 'in' | 'down'>('probing');
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [hash, setHash] = useState(location.hash);
  const main = useRef<HTMLElement>(null);

  const check = () => probe().then((r) => setAuth(r === 'ok' ? 'in' : 'signin'), (err: unknown) => { setFailure(err); setAuth('down'); });
  useEffect(() => {
    void check();
    const off = onUnauthorized(() => {
      const hadKey = getKey() !== null;
      setKey(null);
      setMessage(hadKey ? 'Your key was refused (revoked or expired): sign in again.' : null);
      setAuth('signin');
    });
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => {
      off();
      removeEventListener('hashchange', onHash);
    };
  }, []);
  // A new view moves focus to its heading, as a page load would for a screen reader; the first
  // view leaves focus where a page load leaves it (the skip link is the first Tab stop). A layout
  // effect: focus and title change with the view's first paint, not a frame later.
  const shown = useRef(false);
  useLayoutEffect(() => {
    if (!main.current) return;
    const h1 = main.current.querySelector<HTMLElement>('h1');
    if (shown.current) h1?.focus();
    shown.current = true;
    // Each view names the tab (WCAG 2.4.2), as separate pages would.
    document.title = `${h1?.textContent?.trim() || 'Console'} · sparkling-owl-spin`;
  }, [hash, auth]);

  if (auth === 'probing') return html`<p class="boot">Loading the console…</p>`;
  if (auth === 'down') return html`<main id="main"><h1>The API does not answer</h1><${ErrorBox} error=${failure} /><button type="button" onClick=${() => void check()}>Try again</button></main>`;
  if (auth === 'signin') {
    document.title = 'Sign in · sparkling-owl-spin';
    // After signing in, focus goes to the first view's heading (the form it was on is gone).
    return html`<${SignIn} message=${message} onSignedIn=${() => { shown.current = true; setMessage(null); setAuth('in'); }} />`;
  }
  const current = hash || '#/jobs';
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); main.current?.querySelector<HTMLElement>('h1')?.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/jobs">sparkling-owl-spin</a>
      <nav aria-label="Main">
        <ul>${NAV.filter((n) => n.needs === undefined || can(n.needs)).map((n) => html`<li><a href=${n.href} aria-current=${n.match.test(current) ? 'page' : undefined}>${n.label}</a></li>`)}</ul>
      </nav>
      ${currentKey() ? html`<span class="who">Key <strong>${currentKey()!.name}</strong> <span class="muted">(${currentKey()!.scopes.join(', ')})</span></span>` : ''}
      ${getKey() ? html`<button type="button" class="link" onClick=${() => { setKey(null); setMessage('Signed out.'); setAuth('signin'); }}>Sign out</button>` : ''}
    </header>
    <main id="main" ref=${main}>${route(current)}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
