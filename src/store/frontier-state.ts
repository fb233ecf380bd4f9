/**
 * The states of a frontier row, one table for both dialects: every SQL string that reads or
 * writes `frontier.state` interpolates these, never a bare number. (Migrations are frozen history
 * and spell the numbers out; their comments name the state.)
 *
 * `leased` exists only in PostgreSQL, where leases are rows shared by every worker. The SQLite
 * store keeps leases in its owning process's memory (src/store/sqlite/frontier.ts): a leased URL
 * stays `waiting` in its table, and migration 3 retired the state there.
 */
export const FrontierState = {
  waiting: 0,
  leased: 1,
  done: 2,
  failed: 3,
  /** A URL of a cancelled or operator-failed job that was never fetched (or a retry dropped with it). */
  dropped: 4,
} as const;

export type FrontierStateCode = (typeof FrontierState)[keyof typeof FrontierState];

/** The kinds of a frontier row (`frontier.kind`), as stored. */
export const FrontierKind = {
  page: 0,
  sitemap: 1,
} as const;

export function entryKindOf(code: number): 'page' | 'sitemap' {
  return code === FrontierKind.sitemap ? 'sitemap' : 'page';
}
