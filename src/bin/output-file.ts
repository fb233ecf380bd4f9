/**
 * Where `owl crawl --output` and `owl export` write records: a file whose extension names the
 * format (.jsonl, .json, .csv), or `-` for stdout.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { EXPORT_FORMATS, writeExport, type ExportColumns, type ExportFormat, type ExportRecord } from '../scrape/export.ts';
import { UsageError } from './cli-util.ts';

/** The format of `--output FILE` (by extension), or of `--format` when given; `-` needs --format (default jsonl). */
export function outputFormat(output: string, format?: string): ExportFormat {
  if (format !== undefined) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
    return format as ExportFormat;
  }
  if (output === '-') return 'jsonl';
  const ext = path.extname(output).slice(1).toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(ext)) {
    throw new UsageError(`--output ${output}: the file name must end in .jsonl, .json or .csv (or give --format)`);
  }
  return ext as ExportFormat;
}

/** Writes the records to the file (or stdout) and resolves once every byte is written; the count of records. */
export async function writeRecords(output: string, format: ExportFormat, records: AsyncIterable<ExportRecord>, columns: ExportColumns): Promise<number> {
  let out: Writable;
  if (output === '-') out = process.stdout;
  else {
    await mkdir(path.dirname(path.resolve(output)), { recursive: true });
    out = createWriteStream(output);
  }
  const count = await writeExport(format, records, out, columns);
  if (out !== process.stdout) {
    out.end();
    await finished(out);
  }
  return count;
}
