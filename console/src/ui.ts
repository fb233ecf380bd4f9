/** Pieces every view uses: status words, error boxes, the confirmation dialog, safe Markdown, extracted data. */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentKey } from './api.ts';
import { safeHref, valueText } from './format.ts';
import type { JobStatus } from './types.ts';

export function Status({ status }: { status: JobStatus }) {
  return html`<span class=${`status status-${status}`}>${status}</span>`;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return html`<p class="error" role="alert">${code ? html`<strong>${code}</strong>: ` : ''}${message}</p>`;
}

/** A link for an http(s) URL, plain text for anything else; crawled URLs open outside the console. */
export function ExternalLink({ url, text }: { url: string; text?: string }) {
  const href = safeHref(url);
  if (href === null) return html`<span class="url">${text ?? url}</span>`;
  return html`<a class="url" href=${href} rel="noopener noreferrer nofollow" target="_blank">${text ?? url}</a>`;
}

/**
 * A modal confirmation (the native <dialog>: focus is trapped and Escape closes it). `onConfirm`
 * runs when the confirm button is pressed; the dialog closes either way.
 */
export function ConfirmButton(props: { label: string; title: string; question: string; confirmLabel: string; onConfirm: () => Promise<void> | void; danger?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const open = () => ref.current?.showModal();
  const close = () => ref.current?.close();
  const confirm = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
    } finally {
      setBusy(false);
      close();
    }
  };
  const id = `dlg-${props.label.replace(/\W+/g, '-').toLowerCase()}`;
  return html`
    <button type="button" class=${props.danger ? 'danger' : ''} onClick=${open}>${props.label}</button>
    <dialog ref=${ref} aria-labelledby=${`${id}-title`}>
      <h2 id=${`${id}-title`}>${props.title}</h2>
      <p>${props.question}</p>
      <div class="actions">
        <button type="button" class=${props.danger ? 'danger' : 'primary'} disabled=${busy} onClick=${confirm}>${props.confirmLabel}</button>
        <button type="button" onClick=${close}>Keep it</button>
      </div>
    </dialog>`;
}

/** Markdown rendered through marked and DOMPurify (loaded on first use). */
export function Markdown({ source }: { source: string }) {
  const [safe, setSafe] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void import('./markdown.ts').then((m) => {
      if (live) setSafe(m.renderMarkdown(source));
    });
    return () => {
      live = false;
    };
  }, [source]);
  if (safe === null) return html`<p class="muted">Rendering…</p>`;
  // Sanitised by DOMPurify in renderMarkdown: the only HTML the console ever inserts.
  return html`<div class="markdown" dangerouslySetInnerHTML=${{ __html: safe }}></div>`;
}

/** Extracted `data` (fields) as a two-column table, and `items` as a table of their fields. */
export function Extracted({ data, items, extraction }: { data?: unknown; items?: Array<Record<string, unknown>>; extraction?: { status: string } | null }) {
  const fields = data !== null && typeof data === 'object' && !Array.isArray(data) ? Object.entries(data as Record<string, unknown>) : null;
  const itemKeys = items && items.length > 0 ? [...new Set(items.flatMap((i) => Object.keys(i)))] : [];
  return html`
    <section aria-labelledby="extracted-title">
      <h2 id="extracted-title">Extracted data</h2>
      ${extraction ? html`<p>Extraction: <span class=${`extraction extraction-${extraction.status}`}>${extraction.status}</span></p>` : ''}
      ${fields
        ? html`<table class="fields"><caption class="sr-only">Extracted fields</caption>
            <thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead>
            <tbody>${fields.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><span class="value">${valueText(v)}</span></td></tr>`)}</tbody></table>`
        : data !== undefined ? html`<pre class="json">${JSON.stringify(data, null, 2)}</pre>` : ''}
      ${itemKeys.length > 0
        ? html`<div class="scroll"><table><caption>Items (${items!.length})</caption>
            <thead><tr>${itemKeys.map((k) => html`<th scope="col">${k}</th>`)}</tr></thead>
            <tbody>${items!.map((it) => html`<tr>${itemKeys.map((k) => html`<td>${valueText(it[k])}</td>`)}</tr>`)}</tbody></table></div>`
        : ''}
      ${!fields && data === undefined && itemKeys.length === 0 ? html`<p class="muted">No extraction rules on this job.</p>` : ''}
    </section>`;
}

/** Re-runs `fn` every `ms` while the component is shown and `active` holds. */
export function useInterval(fn: () => void, ms: number, active = true): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => saved.current(), ms);
    return () => clearInterval(t);
  }, [ms, active]);
}

/** What a key without the scope is told where it would start or stop crawls (jobs:write) or manage webhooks (admin). */
export function ReadOnlyNote({ what, scope = 'jobs:write' }: { what: string; scope?: string }) {
  const key = currentKey();
  return html`<p class="notice" role="status">This key${key ? html` (<strong>${key.name}</strong>, ${key.scopes.join(', ')})` : ''} may not ${what}: that needs the scope <code>${scope}</code>. Sign in with such a key to do it.</p>`;
}
