/** The new-crawl form, with an extraction-rule editor and its "try on one URL" preview. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api } from './api.ts';
import type { Job, PageDetail } from './types.ts';
import { RulesEditor } from './rules-editor.ts';
import { ErrorBox, Extracted, ExternalLink, Markdown } from './ui.ts';

const FORMATS = ['links', 'text', 'markdown', 'html'] as const;

class FormError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function parseRules(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormError('VALIDATION', `Extraction rules: not valid JSON (${(err as Error).message})`);
  }
}

export function NewCrawlView({ navigate }: { navigate: (hash: string) => void }) {
  const [seeds, setSeeds] = useState('');
  const [maxPages, setMaxPages] = useState('100');
  const [maxDepth, setMaxDepth] = useState('3');
  const [scope, setScope] = useState('host');
  const [mode, setMode] = useState('http');
  const [formats, setFormats] = useState<string[]>(['markdown']);
  const [sitemaps, setSitemaps] = useState('include');
  const [rules, setRules] = useState('');
  const [previewUrl, setPreviewUrl] = useState('');
  const [preview, setPreview] = useState<PageDetail | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const seedList = () => seeds.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  const toggle = (f: string) => setFormats(formats.includes(f) ? formats.filter((x) => x !== f) : [...formats, f]);

  const tryPreview = async () => {
    setPreviewing(true);
    setPreviewError(null);
    setPreview(null);
    try {
      const url = previewUrl.trim() || seedList()[0];
      if (!url) throw new FormError('VALIDATION', 'Give a URL to try (or a seed URL first)');
      const extract = parseRules(rules);
      setPreview(await api<PageDetail>('POST', '/scrape', { url, formats: ['metadata', ...formats.filter((f) => f !== 'html')], extract }));
    } catch (err) {
      setPreviewError(err);
    } finally {
      setPreviewing(false);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        seeds: seedList(),
        maxPages: Number(maxPages),
        maxDepth: Number(maxDepth),
        scope,
        mode,
        formats: ['metadata', ...formats],
        sitemaps,
        extract: parseRules(rules),
        source: 'console',
      };
      if (body.seeds.length === 0) throw new FormError('VALIDATION', 'Seed URLs: give at least one URL');
      const job = await api<Job>('POST', '/jobs', body);
      navigate(`#/jobs/${job.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`
    <h1 tabindex="-1">New crawl</h1>
    <form class="crawl-form" onSubmit=${submit} novalidate>
      <div class="field wide">
        <label for="seeds">Seed URLs</label>
        <textarea id="seeds" rows="4" required aria-describedby="seeds-help" value=${seeds} onInput=${(e: Event) => setSeeds((e.target as HTMLTextAreaElement).value)}></textarea>
        <small id="seeds-help">One absolute http(s) URL per line.</small>
      </div>
      <div class="field"><label for="max-pages">Max pages</label>
        <input id="max-pages" type="number" min="1" max="1000000" inputmode="numeric" value=${maxPages} onInput=${(e: Event) => setMaxPages((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="max-depth">Depth</label>
        <input id="max-depth" type="number" min="0" max="100" inputmode="numeric" value=${maxDepth} onInput=${(e: Event) => setMaxDepth((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="scope">Scope</label>
        <select id="scope" value=${scope} onChange=${(e: Event) => setScope((e.target as HTMLSelectElement).value)}>
          <option value="host">host (same host name)</option><option value="domain">domain (its subdomains too)</option>
        </select></div>
      <div class="field"><label for="mode">Mode</label>
        <select id="mode" value=${mode} onChange=${(e: Event) => setMode((e.target as HTMLSelectElement).value)}>
          <option value="http">http</option><option value="browser">browser (Chromium)</option><option value="auto">auto</option>
        </select></div>
      <div class="field"><label for="sitemaps">Sitemaps</label>
        <select id="sitemaps" value=${sitemaps} onChange=${(e: Event) => setSitemaps((e.target as HTMLSelectElement).value)}>
          <option value="include">include (seeds and sitemap URLs)</option><option value="skip">skip</option><option value="only">only sitemap URLs</option>
        </select></div>
      <fieldset class="field wide">
        <legend>Formats</legend>
        <span class="muted">metadata is always kept.</span>
        ${FORMATS.map((f) => html`<label class="check"><input type="checkbox" checked=${formats.includes(f)} onChange=${() => toggle(f)} /> ${f}</label>`)}
      </fieldset>
      <${RulesEditor} text=${rules} onChange=${setRules} />
      <div class="field wide preview-row">
        <label for="preview-url">Preview URL</label>
        <div class="inline">
          <input id="preview-url" type="url" placeholder="the first seed URL" value=${previewUrl} onInput=${(e: Event) => setPreviewUrl((e.target as HTMLInputElement).value)} />
          <button type="button" onClick=${tryPreview} disabled=${previewing}>Try on one URL</button>
        </div>
      </div>
      <${ErrorBox} error=${error} />
      <div class="actions wide"><button type="submit" class="primary" disabled=${busy}>Start crawl</button></div>
    </form>
    <section class="preview" aria-labelledby="preview-title" aria-live="polite" aria-busy=${previewing}>
      <h2 id="preview-title">Preview</h2>
      <${ErrorBox} error=${previewError} />
      ${previewing ? html`<p class="muted">Fetching…</p>` : ''}
      ${preview ? html`
        <p><${ExternalLink} url=${preview.finalUrl ?? preview.url} /> — HTTP ${preview.statusCode}, ${preview.contentType ?? 'no type'}${preview.title ? html`, “${preview.title}”` : ''}</p>
        <${Extracted} data=${preview.data} items=${preview.items} extraction=${preview.extraction} />
        ${preview.markdown !== undefined ? html`<h2>Markdown</h2><${Markdown} source=${preview.markdown} />` : ''}`
      : !previewing && !previewError ? html`<p class="muted">Try the rules on one page before starting: its extracted fields and Markdown show here.</p>` : ''}
    </section>`;
}
