/** One page of a job: metadata, extracted data, Markdown (sanitised), links. Crawled text is always text. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { time, valueText } from './format.ts';
import type { PageDetail } from './types.ts';
import { ErrorBox, Extracted, ExternalLink, Markdown } from './ui.ts';

const META_KEYS = ['title', 'description', 'lang', 'canonical', 'siteName', 'author', 'publishedTime'];

export function PageView({ jobId, pageId }: { jobId: string; pageId: string }) {
  const [page, setPage] = useState<PageDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<PageDetail>('GET', `/jobs/${jobId}/pages/${pageId}`).then(setPage, setError);
  }, [jobId, pageId]);
  const back = html`<p><a href=${`#/jobs/${jobId}`}>← Back to the job</a></p>`;
  if (page === null) return html`<h1 tabindex="-1">Page</h1>${back}<${ErrorBox} error=${error} />`;
  const meta = page.metadata ?? {};
  return html`
    <h1 tabindex="-1">Page <span class="url">${page.title ?? page.url}</span></h1>
    ${back}
    <section aria-labelledby="meta-title" class="card">
      <h2 id="meta-title">Metadata</h2>
      <dl class="facts">
        <dt>URL</dt><dd><${ExternalLink} url=${page.url} /></dd>
        ${page.finalUrl && page.finalUrl !== page.url ? html`<dt>Final URL</dt><dd><${ExternalLink} url=${page.finalUrl} /></dd>` : ''}
        <dt>HTTP status</dt><dd>${page.statusCode ?? '—'}</dd>
        ${page.errorCode ? html`<dt>Error</dt><dd><code>${page.errorCode}</code></dd>` : ''}
        <dt>Content type</dt><dd>${page.contentType ?? '—'}</dd>
        <dt>Fetched</dt><dd>${time(page.fetchedAt)}</dd>
        ${META_KEYS.filter((k) => k !== 'title' && meta[k] !== null && meta[k] !== undefined).map((k) => html`<dt>${k}</dt><dd>${valueText(meta[k])}</dd>`)}
      </dl>
      ${page.contentMissing ? html`<p class="muted">The content of this page is not stored (robots noindex, or removed by retention).</p>` : ''}
      ${page.truncated ? html`<p class="muted">Cut by the content cap: ${page.truncated.join(', ')}</p>` : ''}
    </section>
    <div class="card"><${Extracted} data=${page.data} items=${page.items} extraction=${page.extraction} /></div>
    ${page.markdown !== undefined ? html`<section aria-labelledby="md-title" class="card"><h2 id="md-title">Markdown</h2><${Markdown} source=${page.markdown} /></section>` : ''}
    ${page.text !== undefined ? html`<section aria-labelledby="text-title" class="card"><h2 id="text-title">Text</h2><pre class="text">${page.text}</pre></section>` : ''}
    ${page.links !== undefined ? html`<section aria-labelledby="links-title" class="card"><h2 id="links-title">Links (${page.links.length})</h2>
      <ul class="links">${page.links.map((l) => html`<li><${ExternalLink} url=${l} /></li>`)}</ul></section>` : ''}
    ${page.html !== undefined ? html`<details class="card"><summary>HTML source</summary><pre class="text">${page.html}</pre></details>` : ''}`;
}
