/**
 * The extraction rule language's types and bounds (see extract.ts, which compiles and applies
 * rules): apart from the CSS engine, so the JSON schemas built from them load without it.
 */

export const VALUE_TYPES = ['string', 'number', 'integer', 'boolean', 'url', 'date'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export interface RuleObject {
  selector: string;
  /** "text" (default), "html", or an attribute name. */
  attr?: string;
  /** Every match as an array (default false: the first match). */
  all?: boolean;
  /** Default "string". */
  type?: ValueType;
  /** A null value makes the page `missing_required` (default false). */
  required?: boolean;
}
export type Rule = string | RuleObject;

export interface ExtractRules {
  fields?: Record<string, Rule>;
  items?: { selector: string; fields: Record<string, Rule> };
}

/** Bounds of one job's rules, named once (also in the JSON schema). */
export const EXTRACT_LIMITS = {
  maxFields: 100,
  maxFieldNameLength: 100,
  maxSelectorLength: 2000,
  maxAttrLength: 100,
  /** Items kept per page; more are dropped and the page reports `items` as truncated. */
  maxItemsPerPage: 10_000,
  /** Values kept per `all` rule; more are dropped and the page reports the field as truncated. */
  maxValuesPerRule: 10_000,
} as const;
