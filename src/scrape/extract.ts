/**
 * Declarative CSS extraction (a job's `extract` option), on css-select over an htmlparser2 /
 * domhandler tree. Rules are validated and their selectors compiled once per job
 * (`compileExtractRules`); `applyExtract` runs them on one parsed page.
 *
 * The rule language (issue #11):
 *   {"fields": {NAME: RULE, ...}, "items": {"selector": SELECTOR, "fields": {NAME: RULE, ...}}}
 *   RULE = SELECTOR | {selector, attr?, all?, type?, required?}
 * - `attr`: "text" (default: the element's text, script/style left out, a space between block
 *   elements, whitespace collapsed and trimmed), "html" (inner HTML), or an attribute name
 *   (its value, whitespace collapsed and trimmed);
 * - `all`: false (default) takes the first match; true gives an array of every match (`[]` when
 *   none; values that do not convert stay in it as null);
 * - `type`: "string" (default), "number", "integer", "boolean", "url", "date" (see values.ts);
 * - `required`: the page's extraction status becomes `missing_required` when the value is null
 *   (or, with `all`, when no value is non-null);
 * - inside `items`, selectors are relative to the item (they match its descendants) and the
 *   selector `:scope` alone is the item element itself.
 * A value that does not convert is null with its reason counted; nothing here throws on a page.
 */
import { compile, selectAll, selectOne } from 'css-select';
import { isCDATA, isDocument, isTag, isText, type AnyNode, type Document, type Element } from 'domhandler';
import { getInnerHTML } from 'domutils';
import { OwlError } from '../errors.ts';
import { collapseWhitespace, toBoolean, toDate, toInteger, toNumber, toUrl, type Converted, type NullReason } from './values.ts';
import { EXTRACT_LIMITS, VALUE_TYPES, type ExtractRules, type Rule, type RuleObject, type ValueType } from './extract-rules.ts';

export { EXTRACT_LIMITS, VALUE_TYPES, type ExtractRules, type Rule, type RuleObject, type ValueType };

/** Extraction outcome of one page: what the metric `pages_extracted_total{outcome}` counts. */
export type ExtractionStatus = 'complete' | 'missing_required' | 'failed';

export interface ExtractionReport {
  status: ExtractionStatus;
  /** Null values by reason (`no_match`, `invalid_number`, …), items' fields included. */
  nulls: Partial<Record<NullReason, number>>;
  /** Required fields that came out null (`price`, `items.url`), each named once. */
  missingRequired: string[];
  /** Why extraction failed (`failed` only). */
  error?: string;
}

export interface ExtractResult {
  /** One object for `fields` (absent when the rules have none). */
  data?: Record<string, unknown>;
  /** One object per `items` match (absent when the rules have none). */
  items?: Array<Record<string, unknown>>;
  extraction: ExtractionReport;
  /** `items` or `data.NAME` when a per-page bound dropped values. */
  truncated: string[];
}

type Query = ReturnType<typeof compile<AnyNode, Element>>;

interface CompiledRule {
  name: string;
  /** null: the context element itself (`:scope` inside items). */
  query: Query | null;
  attr: string;
  all: boolean;
  type: ValueType;
  required: boolean;
}

export interface CompiledExtract {
  /** The rules as given (normalised: every rule an object with every property). */
  readonly rules: ExtractRules;
  readonly fields: readonly CompiledRule[];
  readonly items: { query: Query; fields: readonly CompiledRule[] } | null;
  /** Field names in order, for CSV columns. */
  readonly fieldNames: readonly string[];
  readonly itemFieldNames: readonly string[];
}

function invalid(field: string, message: string): OwlError {
  return new OwlError('VALIDATION', `${field}: ${message}`, { field });
}

/** `extract.fields.price`, or `extract.fields["unit price"]` for names that are not identifiers. */
function childPath(parent: string, name: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** css-select's message, starting lower-case: `unknown pseudo-class :foo`. */
function selectorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length === 0 ? 'invalid selector' : msg[0]!.toLowerCase() + msg.slice(1);
}

function compileSelector(selector: unknown, path: string): Query {
  if (typeof selector !== 'string') throw invalid(path, 'must be a string (a CSS selector)');
  if (selector.trim() === '') throw invalid(path, 'must not be empty');
  if (selector.length > EXTRACT_LIMITS.maxSelectorLength) throw invalid(path, `must be at most ${EXTRACT_LIMITS.maxSelectorLength} characters`);
  try {
    return compile<AnyNode, Element>(selector);
  } catch (err) {
    throw invalid(path, selectorMessage(err));
  }
}

const RULE_KEYS = new Set(['selector', 'attr', 'all', 'type', 'required']);
const ATTR_NAME = /^[^\s"'>/=\p{Cc}]+$/u;

function compileRule(name: string, raw: unknown, path: string, inItems: boolean): { compiled: CompiledRule; normal: RuleObject } {
  const rule: Record<string, unknown> = typeof raw === 'string' ? { selector: raw } : isPlainObject(raw) ? raw : {};
  if (typeof raw !== 'string' && !isPlainObject(raw)) throw invalid(path, 'must be a CSS selector string or an object {selector, attr, all, type, required}');
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) throw invalid(path, `unknown property "${key}" (known: selector, attr, all, type, required)`);
  }
  const selectorPath = typeof raw === 'string' ? path : `${path}.selector`;
  if (rule.selector === undefined) throw invalid(path, 'needs a "selector"');
  const isScope = inItems && typeof rule.selector === 'string' && rule.selector.trim() === ':scope';
  const query = isScope ? null : compileSelector(rule.selector, selectorPath);
  let attr = 'text';
  if (rule.attr !== undefined) {
    if (typeof rule.attr !== 'string' || rule.attr === '') throw invalid(`${path}.attr`, 'must be "text", "html" or an attribute name');
    if (rule.attr.length > EXTRACT_LIMITS.maxAttrLength || !ATTR_NAME.test(rule.attr)) throw invalid(`${path}.attr`, `is not an attribute name: ${JSON.stringify(rule.attr.slice(0, 64))}`);
    // htmlparser2 lower-cases attribute names, so the lookup must too.
    attr = rule.attr === 'text' || rule.attr === 'html' ? rule.attr : rule.attr.toLowerCase();
  }
  if (rule.all !== undefined && typeof rule.all !== 'boolean') throw invalid(`${path}.all`, 'must be true or false');
  if (rule.required !== undefined && typeof rule.required !== 'boolean') throw invalid(`${path}.required`, 'must be true or false');
  const type = rule.type ?? 'string';
  if (typeof type !== 'string' || !(VALUE_TYPES as readonly string[]).includes(type)) {
    throw invalid(`${path}.type`, `must be one of ${VALUE_TYPES.join(', ')}`);
  }
  const all = rule.all === true;
  const required = rule.required === true;
  const normal: RuleObject = { selector: rule.selector as string, attr, all, type: type as ValueType, required };
  return { compiled: { name, query, attr, all, type: type as ValueType, required }, normal };
}

function compileFields(raw: unknown, path: string, inItems: boolean): { compiled: CompiledRule[]; normal: Record<string, RuleObject> } {
  if (!isPlainObject(raw)) throw invalid(path, 'must be an object of field name → rule');
  const names = Object.keys(raw);
  if (names.length === 0) throw invalid(path, 'must name at least one field');
  if (names.length > EXTRACT_LIMITS.maxFields) throw invalid(path, `must have at most ${EXTRACT_LIMITS.maxFields} fields`);
  const compiled: CompiledRule[] = [];
  const normal: Record<string, RuleObject> = {};
  for (const name of names) {
    if (name.trim() === '' || name.length > EXTRACT_LIMITS.maxFieldNameLength || /\p{Cc}/u.test(name)) {
      throw invalid(path, `field names must be 1 to ${EXTRACT_LIMITS.maxFieldNameLength} printable characters: ${JSON.stringify(name.slice(0, 64))}`);
    }
    if (name === '__proto__') throw invalid(path, 'a field cannot be named "__proto__"');
    const r = compileRule(name, raw[name], childPath(path, name), inItems);
    compiled.push(r.compiled);
    normal[name] = r.normal;
  }
  return { compiled, normal };
}

/**
 * Validates `raw` (the job's `extract`) and compiles its selectors. Throws OwlError('VALIDATION')
 * whose message starts with the field path, e.g. `extract.items.fields.url.selector: unknown
 * pseudo-class :foo`, and whose `details.field` is that path.
 */
export function compileExtractRules(raw: unknown, path = 'extract'): CompiledExtract {
  if (!isPlainObject(raw)) throw invalid(path, 'must be an object with "fields" and/or "items"');
  for (const key of Object.keys(raw)) {
    if (key !== 'fields' && key !== 'items') throw invalid(path, `unknown property "${key}" (known: fields, items)`);
  }
  if (raw.fields === undefined && raw.items === undefined) throw invalid(path, 'needs "fields" or "items"');
  const rules: ExtractRules = {};
  let fields: CompiledRule[] = [];
  if (raw.fields !== undefined) {
    const f = compileFields(raw.fields, `${path}.fields`, false);
    fields = f.compiled;
    rules.fields = f.normal;
  }
  let items: CompiledExtract['items'] = null;
  if (raw.items !== undefined) {
    const itemsPath = `${path}.items`;
    if (!isPlainObject(raw.items)) throw invalid(itemsPath, 'must be an object {selector, fields}');
    for (const key of Object.keys(raw.items)) {
      if (key !== 'selector' && key !== 'fields') throw invalid(itemsPath, `unknown property "${key}" (known: selector, fields)`);
    }
    if (raw.items.selector === undefined) throw invalid(itemsPath, 'needs a "selector"');
    const query = compileSelector(raw.items.selector, `${itemsPath}.selector`);
    if (raw.items.fields === undefined) throw invalid(itemsPath, 'needs "fields"');
    const f = compileFields(raw.items.fields, `${itemsPath}.fields`, true);
    items = { query, fields: f.compiled };
    rules.items = { selector: raw.items.selector as string, fields: f.normal };
  }
  return {
    rules,
    fields,
    items,
    fieldNames: fields.map((f) => f.name),
    itemFieldNames: items === null ? [] : items.fields.map((f) => f.name),
  };
}

/** Elements whose text starts on a new line: a space separates their text from their neighbours'. */
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'option',
]);
const SKIPPED = new Set(['script', 'style', 'template', 'noscript']);

function appendText(node: AnyNode, out: string[]): void {
  if (isText(node)) {
    out.push(node.data);
    return;
  }
  if (isTag(node)) {
    if (SKIPPED.has(node.name)) return;
    const block = BLOCK.has(node.name);
    if (block) out.push(' ');
    for (const child of node.children) appendText(child, out);
    if (block) out.push(' ');
  } else if (isDocument(node) || isCDATA(node)) {
    for (const child of node.children) appendText(child, out);
  }
}

/** The element's text as `attr: "text"` defines it. */
export function elementText(el: AnyNode): string {
  const out: string[] = [];
  appendText(el, out);
  return collapseWhitespace(out.join(''));
}

interface Counter {
  nulls: Partial<Record<NullReason, number>>;
}

function count(counter: Counter, reason: NullReason): null {
  counter.nulls[reason] = (counter.nulls[reason] ?? 0) + 1;
  return null;
}

function convert(rule: CompiledRule, el: Element, baseUrl: string | null, counter: Counter): unknown {
  let raw: string | null;
  if (rule.attr === 'text') raw = elementText(el);
  else if (rule.attr === 'html') raw = getInnerHTML(el).trim();
  else {
    const v = el.attribs[rule.attr];
    raw = v === undefined ? null : collapseWhitespace(v);
  }
  if (rule.type === 'boolean') {
    const isAttr = rule.attr !== 'text' && rule.attr !== 'html';
    return settle(toBoolean(raw, isAttr ? rule.attr : undefined), counter);
  }
  if (raw === null) return count(counter, 'no_attribute');
  switch (rule.type) {
    case 'string':
      return raw;
    case 'number':
      return settle(toNumber(raw), counter);
    case 'integer':
      return settle(toInteger(raw), counter);
    case 'url':
      return settle(toUrl(raw, baseUrl), counter);
    case 'date':
      return settle(toDate(raw), counter);
  }
}

function settle<T>(c: Converted<T>, counter: Counter): T | null {
  if (c.reason !== null) return count(counter, c.reason);
  return c.value;
}

function runRule(rule: CompiledRule, context: Document | Element, baseUrl: string | null, counter: Counter, truncated: Set<string>, prefix: string): unknown {
  if (rule.query === null) {
    // `:scope` inside items: the item element itself (compileRule allows it only there).
    const value = isTag(context) ? convert(rule, context, baseUrl, counter) : count(counter, 'no_match');
    return rule.all ? [value] : value;
  }
  if (!rule.all) {
    const el = selectOne<AnyNode, Element>(rule.query, context);
    return el === null ? count(counter, 'no_match') : convert(rule, el, baseUrl, counter);
  }
  let matches = selectAll<AnyNode, Element>(rule.query, context);
  if (matches.length > EXTRACT_LIMITS.maxValuesPerRule) {
    matches = matches.slice(0, EXTRACT_LIMITS.maxValuesPerRule);
    truncated.add(`${prefix}${rule.name}`);
  }
  return matches.map((el) => convert(rule, el, baseUrl, counter));
}

function isMissing(rule: CompiledRule, value: unknown): boolean {
  if (!rule.required) return false;
  if (Array.isArray(value)) return !value.some((v) => v !== null);
  return value === null;
}

function fieldsObject(rules: readonly CompiledRule[], context: Document | Element, baseUrl: string | null, counter: Counter, missing: Set<string>, truncated: Set<string>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const rule of rules) {
    const value = runRule(rule, context, baseUrl, counter, truncated, prefix);
    out[rule.name] = value;
    if (isMissing(rule, value)) missing.add(`${prefix}${rule.name}`);
  }
  return out;
}

/**
 * Runs compiled rules on a parsed page. `baseUrl` is the document base (`<base href>` honoured)
 * that `url` values resolve against. Never throws for a page's content; a thrown error (a bug, or
 * a selector engine failure) is the caller's `failed`.
 */
export function applyExtract(compiled: CompiledExtract, doc: Document, baseUrl: string | null): ExtractResult {
  const counter: Counter = { nulls: {} };
  const missing = new Set<string>();
  const truncated = new Set<string>();
  const result: ExtractResult = { extraction: { status: 'complete', nulls: counter.nulls, missingRequired: [] }, truncated: [] };
  if (compiled.fields.length > 0) result.data = fieldsObject(compiled.fields, doc, baseUrl, counter, missing, truncated, 'data.');
  if (compiled.items !== null) {
    let elements = selectAll<AnyNode, Element>(compiled.items.query, doc);
    if (elements.length > EXTRACT_LIMITS.maxItemsPerPage) {
      elements = elements.slice(0, EXTRACT_LIMITS.maxItemsPerPage);
      truncated.add('items');
    }
    result.items = elements.map((el) => fieldsObject(compiled.items!.fields, el, baseUrl, counter, missing, truncated, 'items.'));
  }
  // Missing fields are named as in the rules: `price`, `items.url`.
  result.extraction.missingRequired = Array.from(missing, (m) => (m.startsWith('data.') ? m.slice(5) : m));
  if (missing.size > 0) result.extraction.status = 'missing_required';
  result.truncated = Array.from(truncated);
  return result;
}

/** The report of a page whose extraction threw. */
export function failedExtraction(err: unknown): ExtractionReport {
  return { status: 'failed', nulls: {}, missingRequired: [], error: err instanceof Error ? err.message : String(err) };
}
