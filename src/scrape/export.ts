/**
 * Streaming exports of page records: JSON Lines, a JSON array, or CSV. Records come from an
 * async iterable (a store cursor) and go to a Writable (an HTTP response, a file, stdout) with
 * backpressure: at most one ~64 KiB batch is buffered here, and the writer waits for `drain`,
 * so memory stays constant however many records there are.
 *
 * CSV (RFC 4180: CRLF line ends, fields with `"`, `,`, CR or LF quoted, quotes doubled; UTF-8
 * without BOM; a header row):
 * - without items: one row per page — `url`, `title`, then one column per `fields` name;
 * - with items (`columns.itemFields` non-empty): one row per item — `pageUrl`, then one column per
 *   item field; pages without items add no row;
 * - null and absent values are empty cells; numbers and booleans as JSON writes them; arrays
 *   and objects as their JSON text.
 * Formula injection: a text cell starting with `=`, `+`, `-`, `@`, TAB or CR would run as a
 * formula when the file is opened in a spreadsheet; such cells get a leading `'` (OWASP's advice),
 * unless the whole cell is a plain number (`-12.5` stays as it is). Numbers (typed values) are never
 * changed. `formulaGuard: false` turns this off for consumers that are not spreadsheets.
 */
import type { Writable } from 'node:stream';

export const EXPORT_FORMATS = ['jsonl', 'json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an exported record needs; anything else in it is written as is in JSON formats. */
export interface ExportRecord {
  url: string;
  title?: string | null;
  metadata?: { title?: string | null } | null;
  data?: unknown;
  items?: unknown;
  [key: string]: unknown;
}

export interface ExportColumns {
  /** `fields` names of the job's rules (CSV columns after url and title). */
  fields?: readonly string[];
  /** `items` field names: CSV is then one row per item. */
  itemFields?: readonly string[];
}

export interface ExportOptions extends ExportColumns {
  /** Prefix risky CSV text cells with `'` (default true). */
  formulaGuard?: boolean;
  /** Bytes gathered before a write (default 64 KiB). */
  batchBytes?: number;
}

/** CSV columns of a job from its compiled rules (`compiled.extract`), or none. */
export function columnsFor(extract: { fieldNames: readonly string[]; itemFieldNames: readonly string[] } | null): ExportColumns {
  return extract === null ? {} : { fields: extract.fieldNames, itemFields: extract.itemFieldNames };
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const RISKY_START = new Set(['=', '+', '-', '@', '\t', '\r']);
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One CSV cell for `value` (RFC 4180 quoting, formula guard). */
export function csvCell(value: unknown, formulaGuard = true): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'string') {
    text = value;
    if (formulaGuard && text.length > 0 && RISKY_START.has(text[0]!) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  } else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    text = String(value);
  } else {
    text = JSON.stringify(value) ?? '';
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(values: unknown[], guard: boolean): string {
  return `${values.map((v) => csvCell(v, guard)).join(',')}\r\n`;
}

function field(obj: unknown, name: string): unknown {
  return typeof obj === 'object' && obj !== null && Object.hasOwn(obj, name) ? (obj as Record<string, unknown>)[name] : undefined;
}

function titleOf(r: ExportRecord): unknown {
  return r.metadata?.title ?? r.title ?? null;
}

/** Writes `chunk` and waits for `drain` when the stream says its buffer is full; rejects when it fails or closes. */
async function write(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed) throw new Error('the export destination was closed');
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onError);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the export destination was closed'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onError);
  });
}

/**
 * Streams `records` to `out` in `format`. Resolves with the number of records read once the last
 * byte is handed to `out` (it does not end `out`); rejects when the source or `out` fails.
 */
export async function writeExport(format: ExportFormat, records: AsyncIterable<ExportRecord> | Iterable<ExportRecord>, out: Writable, opts: ExportOptions = {}): Promise<number> {
  const guard = opts.formulaGuard !== false;
  const batchBytes = opts.batchBytes ?? 64 * 1024;
  const fields = opts.fields ?? [];
  const itemFields = opts.itemFields ?? [];
  const perItem = itemFields.length > 0;
  let batch = '';
  let count = 0;
  const push = async (s: string): Promise<void> => {
    batch += s;
    if (batch.length >= batchBytes) {
      const chunk = batch;
      batch = '';
      await write(out, chunk);
    }
  };

  if (format === 'json') await push('[');
  if (format === 'csv') await push(csvRow(perItem ? ['pageUrl', ...itemFields] : ['url', 'title', ...fields], false));
  for await (const r of records) {
    if (format === 'jsonl') await push(`${JSON.stringify(r)}\n`);
    else if (format === 'json') await push(`${count === 0 ? '\n' : ',\n'}${JSON.stringify(r)}`);
    else if (perItem) {
      const items = Array.isArray(r.items) ? r.items : [];
      for (const item of items) await push(csvRow([r.url, ...itemFields.map((f) => field(item, f))], guard));
    } else {
      await push(csvRow([r.url, titleOf(r), ...fields.map((f) => field(r.data, f))], guard));
    }
    count++;
  }
  if (format === 'json') await push(count === 0 ? ']\n' : '\n]\n');
  if (batch.length > 0) await write(out, batch);
  return count;
}

/** A download file name for a job's export: `owl-<jobId>.<format>`. */
export function exportFileName(jobId: string, format: ExportFormat): string {
  return `owl-${jobId.replace(/[^A-Za-z0-9_-]/g, '')}.${format}`;
}
