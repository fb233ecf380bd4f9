/** Sites: per-site health of the last hour (worst first), proxy health, links to Grafana. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { number, time } from './format.ts';
import type { SitesAnswer } from './types.ts';
import { ErrorBox, useInterval } from './ui.ts';

const WINDOWS = ['15m', '1h', '6h', '24h'];

function grafana(base: string, uid: string, site?: string): string {
  const url = new URL(`d/${uid}`, base.endsWith('/') ? base : `${base}/`);
  if (site) url.searchParams.set('var-site', site);
  return url.href;
}

export function SitesView() {
  const [window, setWindow] = useState('1h');
  const [answer, setAnswer] = useState<SitesAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api<SitesAnswer>('GET', `/sites?window=${window}`).then((a) => { setAnswer(a); setError(null); }, setError);
  useEffect(() => void load(), [window]);
  useInterval(() => void load(), 10_000);
  const g = answer?.grafanaUrl ?? null;
  return html`
    <h1 tabindex="-1">Sites</h1>
    <div class="toolbar">
      <label>Window
        <select value=${window} onChange=${(e: Event) => setWindow((e.target as HTMLSelectElement).value)}>
          ${WINDOWS.map((w) => html`<option value=${w}>last ${w}</option>`)}
        </select>
      </label>
      ${g ? html`<a class="button" href=${grafana(g, 'crawler-scraper')} rel="noopener" target="_blank">Crawler dashboard in Grafana</a>` : html`<span class="muted">Set OWL_GRAFANA_URL for links to the Grafana dashboards.</span>`}
    </div>
    <${ErrorBox} error=${error} />
    ${answer === null ? html`<p class="muted">Loading…</p>` : html`
      <section aria-labelledby="sites-title">
        <h2 id="sites-title">Per-site health, worst first</h2>
        ${answer.view === 'key' ? html`<p class="notice" role="status">The sites of this key's own jobs: an admin key sees every job's sites and the proxy pool.</p>` : ''}
        ${answer.sampled ? html`<p class="muted">The window holds more results than are read: the newest ${number(answer.results)} are shown.</p>` : ''}
        ${answer.sites.length === 0 ? html`<p>No pages fetched in the last ${answer.window}.</p>` : html`
          <div class="scroll"><table>
            <caption class="sr-only">Sites sorted by the share of results in trouble</caption>
            <thead><tr><th scope="col">Site</th><th scope="col" class="num">Pages</th><th scope="col" class="num">Failed</th><th scope="col" class="num">403</th>
              <th scope="col" class="num">429</th><th scope="col" class="num">Captchas</th><th scope="col" class="num">Median latency</th><th scope="col" class="num">Trouble</th>${g ? html`<th scope="col">Grafana</th>` : ''}</tr></thead>
            <tbody>${answer.sites.map((s) => html`<tr class=${s.trouble >= 0.2 ? 'trouble' : ''}>
              <th scope="row">${s.site}</th><td class="num">${number(s.pages)}</td><td class="num">${number(s.failed)}</td><td class="num">${number(s.http403)}</td>
              <td class="num">${number(s.http429)}</td><td class="num">${number(s.captchas)}</td><td class="num">${number(s.medianFetchMs)} ms</td>
              <td class="num">${Math.round(s.trouble * 100)} %</td>
              ${g ? html`<td><a href=${grafana(g, 'crawler-scraper', s.site)} rel="noopener" target="_blank" aria-label=${`${s.site} in Grafana`}>dashboard</a></td>` : ''}
            </tr>`)}</tbody>
          </table></div>`}
      </section>
      ${answer.view === 'key' ? '' : html`<section aria-labelledby="proxies-title">
        <h2 id="proxies-title">Proxy pool</h2>
        ${g ? html`<p><a href=${grafana(g, 'proxy-pool')} rel="noopener" target="_blank">Proxy pool dashboard in Grafana</a></p>` : ''}
        ${answer.proxies.length === 0 ? html`<p>No proxies configured (OWL_PROXIES / OWL_PROXY_FILE): fetches go direct.</p>` : html`
          <div class="scroll"><table>
            <caption class="sr-only">Proxies</caption>
            <thead><tr><th scope="col">Proxy</th><th scope="col">State</th><th scope="col" class="num">Consecutive failures</th><th scope="col">Cooling down until</th><th scope="col">Last error</th></tr></thead>
            <tbody>${answer.proxies.map((p) => html`<tr><th scope="row">${p.proxy}</th><td>${p.usable ? 'usable' : 'cooling down'}</td>
              <td class="num">${p.failures}</td><td>${p.usable ? '—' : time(p.cooldownUntil)}</td><td>${p.lastError ?? ''}</td></tr>`)}</tbody>
          </table></div>`}
      </section>`}`}`;
}
