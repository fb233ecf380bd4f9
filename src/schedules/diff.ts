/**
 * What changed on a page between two runs of a schedule: a unified diff of the main content
 * (markdown when the job stored it, else text) and the extracted fields whose value differs.
 */
import { createTwoFilesPatch } from 'diff';
import type { PageResult } from '../scrape/record.ts';

export interface PageDiff {
  content: { format: 'markdown' | 'text' | null; diff: string };
  data: Array<{ field: string; before: unknown; after: unknown }>;
}

type Side = Pick<PageResult, 'id' | 'markdown' | 'text' | 'data' | 'items'> | null;

/** A stable JSON form (object keys sorted) to compare values. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  ) ?? 'null';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function diffPages(before: Side, after: Side): PageDiff {
  const format = after?.markdown !== undefined || before?.markdown !== undefined ? 'markdown' : after?.text !== undefined || before?.text !== undefined ? 'text' : null;
  let diff = '';
  if (format !== null) {
    const a = (before?.[format] as string | undefined) ?? '';
    const b = (after?.[format] as string | undefined) ?? '';
    if (a !== b) {
      diff = createTwoFilesPatch(
        before ? `page/${before.id}` : '/dev/null',
        after ? `page/${after.id}` : '/dev/null',
        a.endsWith('\n') || a === '' ? a : `${a}\n`,
        b.endsWith('\n') || b === '' ? b : `${b}\n`,
        undefined,
        undefined,
        { context: 3 },
      );
    }
  }
  const data: PageDiff['data'] = [];
  const d0 = before?.data;
  const d1 = after?.data;
  if (isRecord(d0) || isRecord(d1)) {
    const a = isRecord(d0) ? d0 : {};
    const b = isRecord(d1) ? d1 : {};
    for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (stable(a[field] ?? null) !== stable(b[field] ?? null)) data.push({ field, before: a[field] ?? null, after: b[field] ?? null });
    }
  } else if (stable(d0 ?? null) !== stable(d1 ?? null)) data.push({ field: 'data', before: d0 ?? null, after: d1 ?? null });
  if (stable(before?.items ?? null) !== stable(after?.items ?? null)) data.push({ field: 'items', before: before?.items ?? null, after: after?.items ?? null });
  return { content: { format, diff }, data };
}
