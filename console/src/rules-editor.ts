/**
 * The extraction-rule editor: one row per field (name, CSS selector, what to read, type, required,
 * all matches) kept in step with the rules' JSON, which stays editable for what rows cannot say
 * (`items` rules). Editing a row rewrites the JSON; editing the JSON re-reads the rows (rows keep
 * their own state in between, so a name typed half-way that equals another is not merged away).
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

const TYPES = ['string', 'number', 'integer', 'boolean', 'url', 'date'];

export interface FieldRow {
  name: string;
  selector: string;
  attr: string;
  type: string;
  required: boolean;
  all: boolean;
}

const EMPTY_ROW: FieldRow = { name: '', selector: '', attr: 'text', type: 'string', required: false, all: false };

/** The rows of a rules text, or null when the text holds more than `fields` rows can show (or is not valid JSON). */
export function rowsOf(text: string): FieldRow[] | null {
  if (text.trim() === '') return [];
  let rules: unknown;
  try {
    rules = JSON.parse(text);
  } catch {
    return null;
  }
  if (rules === null) return [];
  if (typeof rules !== 'object' || Array.isArray(rules)) return null;
  const keys = Object.keys(rules);
  if (keys.some((k) => k !== 'fields')) return null;
  const fields = (rules as { fields?: unknown }).fields;
  if (fields === undefined) return [];
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return null;
  const rows: FieldRow[] = [];
  for (const [name, rule] of Object.entries(fields as Record<string, unknown>)) {
    if (typeof rule === 'string') rows.push({ ...EMPTY_ROW, name, selector: rule });
    else if (rule !== null && typeof rule === 'object' && !Array.isArray(rule)) {
      const r = rule as Partial<FieldRow>;
      if (Object.keys(r).some((k) => !['selector', 'attr', 'type', 'required', 'all'].includes(k))) return null;
      rows.push({ name, selector: String(r.selector ?? ''), attr: r.attr ?? 'text', type: r.type ?? 'string', required: r.required === true, all: r.all === true });
    } else return null;
  }
  return rows;
}

/** The rules text of rows: a plain selector where nothing else is set, else the rule object. */
export function textOf(rows: FieldRow[]): string {
  if (rows.length === 0) return '';
  const fields: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    const name = row.name.trim() || `field${i + 1}`;
    const rule: Record<string, unknown> = { selector: row.selector };
    if (row.attr !== 'text' && row.attr.trim() !== '') rule.attr = row.attr.trim();
    if (row.type !== 'string') rule.type = row.type;
    if (row.required) rule.required = true;
    if (row.all) rule.all = true;
    fields[name] = Object.keys(rule).length === 1 ? row.selector : rule;
  });
  return JSON.stringify({ fields }, null, 2);
}

export function RulesEditor({ text, onChange }: { text: string; onChange: (text: string) => void }) {
  const [rows, setRows] = useState<FieldRow[] | null>(() => rowsOf(text));
  const setAll = (next: FieldRow[]) => {
    setRows(next);
    onChange(textOf(next));
  };
  const update = (i: number, patch: Partial<FieldRow>) => setAll(rows!.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  const names = (rows ?? []).map((r, i) => r.name.trim() || `field${i + 1}`);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  return html`
    <fieldset class="field wide rules">
      <legend>Extraction rules</legend>
      ${rows === null
        ? html`<p class="muted">These rules hold more than fields (items, or JSON that does not parse): edit them as JSON below.</p>`
        : html`
          ${rows.length === 0 ? html`<p class="muted">No extraction: add a field to read a value from every page with a CSS selector.</p>` : html`
            <ol class="rule-rows">
              ${rows.map((row, i) => html`<li class="rule-row">
                <label>Field ${i + 1} name<input value=${row.name} onInput=${(e: Event) => update(i, { name: value(e) })} spellcheck="false" /></label>
                <label>Field ${i + 1} selector<input class="code" value=${row.selector} placeholder="h1.title" onInput=${(e: Event) => update(i, { selector: value(e) })} spellcheck="false" /></label>
                <label>Field ${i + 1} reads<input class="code" value=${row.attr} list="rule-attrs" onInput=${(e: Event) => update(i, { attr: value(e) })} spellcheck="false" /></label>
                <label>Field ${i + 1} type<select value=${row.type} onChange=${(e: Event) => update(i, { type: value(e) })}>${TYPES.map((t) => html`<option value=${t}>${t}</option>`)}</select></label>
                <label class="check"><input type="checkbox" aria-label=${`Field ${i + 1} required`} checked=${row.required} onChange=${(e: Event) => update(i, { required: (e.target as HTMLInputElement).checked })} /> required</label>
                <label class="check"><input type="checkbox" aria-label=${`Field ${i + 1} all matches`} checked=${row.all} onChange=${(e: Event) => update(i, { all: (e.target as HTMLInputElement).checked })} /> all matches</label>
                <button type="button" aria-label=${`Remove field ${i + 1}`} onClick=${() => setAll(rows.filter((_, j) => j !== i))}>Remove</button>
              </li>`)}
            </ol>`}
          ${duplicate ? html`<p class="error" role="alert">Two fields are named ${duplicate}: give each its own name.</p>` : ''}
          <datalist id="rule-attrs"><option value="text"></option><option value="html"></option><option value="href"></option><option value="src"></option><option value="content"></option><option value="datetime"></option></datalist>
          <div><button type="button" onClick=${() => setAll([...rows, { ...EMPTY_ROW, name: `field${rows.length + 1}` }])}>Add field</button></div>`}
      <div class="field">
        <label for="rules">Rules as JSON</label>
        <textarea id="rules" class="code" rows="5" spellcheck="false" aria-describedby="rules-help" value=${text}
          onInput=${(e: Event) => { const t = (e.target as HTMLTextAreaElement).value; onChange(t); setRows(rowsOf(t)); }}></textarea>
        <small id="rules-help">A field is a CSS selector or <code>{selector, attr, all, type, required}</code> (attr: text, html or an attribute name); <code>items</code> <code>{selector, fields}</code> gives one object per match. Empty: no extraction.</small>
      </div>
    </fieldset>`;
}
