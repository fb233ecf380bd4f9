/**
 * Bounds a client-chosen label value (a job's `source`, an operator's `reason`): the first
 * `max` distinct values are kept, later ones count as `other`, so no client can create
 * unbounded metric series even though each value passes the request schema.
 */
export const OTHER_LABEL = 'other';

export class LabelCap {
  private readonly seen = new Set<string>();

  /** @param max distinct values kept before the rest count as `other` (default 100). */
  constructor(private readonly max = 100) {}

  label(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(value);
    return value;
  }
}
