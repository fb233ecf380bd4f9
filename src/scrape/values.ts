/**
 * Conversions of extracted text to typed values (the `type` of an extraction rule). Each returns
 * the value or null with the reason, never throws: a page that does not convert is data about the
 * page, not an error.
 */

/** Whitespace runs (any Unicode space, NBSP included) become one space; ends trimmed. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export type Converted<T> = { value: T; reason: null } | { value: null; reason: NullReason };

/** Why a value is null; counted per page in `extraction.nulls`. */
export type NullReason =
  | 'no_match'
  | 'no_attribute'
  | 'invalid_number'
  | 'invalid_integer'
  | 'invalid_boolean'
  | 'invalid_url'
  | 'invalid_date';

const ok = <T>(value: T): Converted<T> => ({ value, reason: null });
const fail = (reason: NullReason): Converted<never> => ({ value: null, reason });

const SPACE_GROUP = /[ \u00a0\u202f\u2009']/;
const DIGIT = /[0-9]/;

/**
 * The first number in `text`, currency signs and thousands separators removed. Rules:
 * - the number is the first run of digits with separators between them (`.`, `,`, `'`, and
 *   spaces including NBSP and thin spaces); a `-` or `−` right before it (or before a currency
 *   sign before it), not glued to a letter or digit, makes it negative (`SKU-12` is 12);
 * - two different separators: the last one is the decimal mark (`1,234.50` and `1.234,50` are
 *   both 1234.5; `1 234,50` is 1234.5);
 * - one kind of separator, repeated: thousands (`1.234.567`, `1,234,567`, `1 234 567`, and
 *   the Indian `12,34,567`);
 * - a single `.` is a decimal point (`1.234` is 1.234); a single `,` is a thousands separator
 *   when exactly three digits follow and one to three non-zero-led digits precede (`1,234` is 1234),
 *   otherwise a decimal comma (`12,5` and `0,125`);
 * - a space or `'` only groups thousands (groups of three digits); `10 12` reads as 10;
 * - groups that break these rules end the number where they start to (`1.2.3` is 1.2);
 * - no digit at all (`N/A`, `Free`) is null.
 */
export function parseNumber(text: string): number | null {
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (DIGIT.test(text[i]!)) {
      start = i;
      break;
    }
  }
  if (start === -1) return null;
  // A leading `.5` / `,5` right before the first digit (not after a digit): a bare fraction.
  let leadingFraction = false;
  if (start > 0 && (text[start - 1] === '.' || text[start - 1] === ',') && (start < 2 || !/[0-9\p{L}]/u.test(text[start - 2]!))) {
    leadingFraction = true;
  }
  const groups: string[] = [];
  const seps: string[] = [];
  let i = start;
  let current = '';
  while (i < text.length) {
    const ch = text[i]!;
    if (DIGIT.test(ch)) {
      current += ch;
      i++;
      continue;
    }
    const isSep = ch === '.' || ch === ',' || SPACE_GROUP.test(ch);
    if (isSep && i + 1 < text.length && DIGIT.test(text[i + 1]!)) {
      groups.push(current);
      seps.push(SPACE_GROUP.test(ch) ? ' ' : ch);
      current = '';
      i++;
      continue;
    }
    break;
  }
  groups.push(current);
  const negative = isNegative(text, start - (leadingFraction ? 1 : 0));
  if (leadingFraction) return signed(Number(`0.${groups[0]}`), negative);
  for (let k = groups.length; k >= 1; k--) {
    const value = readGroups(groups.slice(0, k), seps.slice(0, k - 1));
    if (value !== null) return signed(value, negative);
  }
  return signed(Number(groups[0]), negative);
}

function signed(n: number, negative: boolean): number | null {
  if (!Number.isFinite(n)) return null;
  return negative && n !== 0 ? -n : n;
}

function isNegative(text: string, numberStart: number): boolean {
  let j = numberStart - 1;
  while (j >= 0 && /[\s\p{Sc}]/u.test(text[j]!)) j--;
  if (j < 0 || (text[j] !== '-' && text[j] !== '\u2212')) return false;
  return j === 0 || !/[0-9\p{L}]/u.test(text[j - 1]!);
}

function validThousands(groups: string[], allowIndian = false): boolean {
  const first = groups[0]!;
  if (first.length < 1 || first.length > 3 || (first.length > 1 && first[0] === '0')) return false;
  let threes = true;
  for (let k = 1; k < groups.length; k++) if (groups[k]!.length !== 3) threes = false;
  if (threes) return true;
  // Indian grouping: 12,34,567 (twos, then a final three).
  if (!allowIndian || first.length > 2 || groups[groups.length - 1]!.length !== 3) return false;
  for (let k = 1; k < groups.length - 1; k++) if (groups[k]!.length !== 2) return false;
  return true;
}

/** The value of digit groups and the separators between them, or null when they break the rules. */
function readGroups(groups: string[], seps: string[]): number | null {
  if (seps.length === 0) return Number(groups[0]);
  const last = seps[seps.length - 1]!;
  const kinds = new Set(seps);
  if (kinds.size === 1) {
    if (last === ' ') return validThousands(groups) ? Number(groups.join('')) : null;
    if (seps.length === 1) {
      if (last === '.') return Number(`${groups[0]}.${groups[1]}`);
      const isThousands = groups[1]!.length === 3 && validThousands(groups) && groups[0] !== '0';
      return isThousands ? Number(groups.join('')) : Number(`${groups[0]}.${groups[1]}`);
    }
    return validThousands(groups, last === ',') ? Number(groups.join('')) : null;
  }
  if (last === ' ') return null;
  const intGroups = groups.slice(0, -1);
  const thousandSeps = new Set(seps.slice(0, -1));
  if (thousandSeps.size !== 1 || thousandSeps.has(last) || !validThousands(intGroups, thousandSeps.has(','))) return null;
  return Number(`${intGroups.join('')}.${groups[groups.length - 1]}`);
}

export function toNumber(text: string): Converted<number> {
  const n = parseNumber(text);
  return n === null ? fail('invalid_number') : ok(n);
}

export function toInteger(text: string): Converted<number> {
  const n = parseNumber(text);
  return n === null || !Number.isSafeInteger(n) ? fail('invalid_integer') : ok(n);
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'on', 'checked', 'selected', 'enabled']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off', 'unchecked', 'disabled']);

/**
 * true/yes/y/1/on (and checked/selected/enabled) and their opposites, any case. Read from an
 * attribute (`attrName`), an empty value or the attribute's own name is true (HTML boolean
 * attributes: `<input checked>`), and a matched element without the attribute is false.
 */
export function toBoolean(text: string | null, attrName?: string): Converted<boolean> {
  if (text === null) return attrName === undefined ? fail('invalid_boolean') : ok(false);
  const t = text.trim().toLowerCase();
  if (attrName !== undefined && (t === '' || t === attrName)) return ok(true);
  if (TRUE_WORDS.has(t)) return ok(true);
  if (FALSE_WORDS.has(t)) return ok(false);
  return fail('invalid_boolean');
}

/** An absolute http(s) URL resolved against `base` (the document base); other schemes are null. */
export function toUrl(text: string, base: string | null): Converted<string> {
  const raw = text.trim();
  if (raw === '') return fail('invalid_url');
  let url: URL;
  try {
    url = base === null ? new URL(raw) : new URL(raw, base);
  } catch {
    return fail('invalid_url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('invalid_url');
  return ok(url.href);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const HAS_TIME = /\d:\d{2}/;
const HAS_ZONE = /(?:\b(?:Z|UTC|GMT)\b|[+-]\d{2}:?\d{2}\s*$)/i;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * ISO 8601. A date alone (`2024-03-05`, `March 5, 2024`, `5 Mar 2024`) gives `YYYY-MM-DD`; a date
 * with a time gives an instant in UTC (`2024-03-05T08:00:00.000Z`), a time without a zone being
 * read as UTC. ISO forms are read exactly; other text through JavaScript's Date reading (so
 * `03/04/2024` is March 4), and only when it contains a four-digit year. Otherwise null.
 */
export function toDate(text: string): Converted<string> {
  const t = collapseWhitespace(text);
  let m = ISO_DATE.exec(t);
  if (m !== null) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDay(y, mo, d) ? ok(`${m[1]}-${m[2]}-${m[3]}`) : fail('invalid_date');
  }
  m = ISO_DATE_TIME.exec(t);
  if (m !== null) {
    const [y, mo, d, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
    if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return fail('invalid_date');
    const zone = m[8] === undefined ? 'Z' : m[8].toUpperCase() === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8];
    const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad(s)}${m[7] ?? ''}${zone}`);
    return Number.isNaN(ms) ? fail('invalid_date') : ok(new Date(ms).toISOString());
  }
  if (!/\b\d{4}\b/.test(t)) return fail('invalid_date');
  if (!HAS_TIME.test(t)) {
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) return fail('invalid_date');
    const local = new Date(ms);
    return ok(`${pad(local.getFullYear(), 4)}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}`);
  }
  const ms = HAS_ZONE.test(t) ? Date.parse(t) : Date.parse(`${t} UTC`);
  return Number.isNaN(ms) ? fail('invalid_date') : ok(new Date(ms).toISOString());
}
